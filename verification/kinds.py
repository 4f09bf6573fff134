"""Enumerations shared by the domain, the database and the desks.

They live in the domain so that the database stores exactly the values the
rules reason about; adding a member here without a policy row fails the tests.
"""

from __future__ import annotations

from enum import StrEnum


class Item(StrEnum):
    """An identity item the caller is asked for (PRODUCT.md section 4)."""

    USER_ID = "user_id"
    PHONE = "phone"
    CONTACT_NAME = "contact_name"
    ORGANIZATION = "organization"
    ADDRESS = "address"
    PIN = "pin"


class CheckResult(StrEnum):
    """The result of one item check."""

    MATCH = "match"
    MISMATCH = "mismatch"


class SubscriptionKind(StrEnum):
    TRIAL = "trial"
    PAID = "paid"


class Channel(StrEnum):
    """How the subscription was bought."""

    DIRECT = "direct"
    PRODUCT_KEY = "product_key"
    OPEN = "open"
    FPP = "fpp"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    CANCELED = "canceled"
    EXPIRED = "expired"


class ExpeditedState(StrEnum):
    """Where an expedited-deprovisioning request stands."""

    NONE = "none"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class CallState(StrEnum):
    OPEN = "open"
    VERIFIED = "verified"
    LOCKED = "locked"
    CLOSED = "closed"


class Outcome(StrEnum):
    CANCELED = "canceled"
    # Only the data's deletion was brought forward: the subscription runs on.
    EXPEDITED = "expedited"
    AUTO_RENEW_OFF = "auto_renew_off"
    INFORMED = "informed"
    # A verified admin was offered what the policy allows and chose nothing.
    DECLINED = "declined"
    DENIED_NOT_ADMIN = "denied_not_admin"
    VERIFICATION_FAILED = "verification_failed"
    ABANDONED = "abandoned"
    ESCALATED = "escalated"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class RequestStatus(StrEnum):
    """Where a cancellation request stands with the supervisors."""

    NO_APPROVAL_NEEDED = "no approval needed"
    # No valid decision, including after a change voided one.
    WAITING = "waiting"
    APPROVED = "approved"
    REJECTED = "rejected"
    # Approved and past its cooling-off: the data is being deleted.
    FINAL = "final"
    # Stopped by a dispute: it never becomes final; a supervisor rejects it.
    DISPUTED = "disputed"


class QueueKind(StrEnum):
    """What a row of the supervisor queue waits for."""

    EXPEDITED = "expedited"
    TENANT_LOCKED = "tenant_locked"
    USER_ID_LOCKED = "user_id_locked"
    AGENT_LOCKED = "agent_locked"
    FAILED_VERIFICATION = "failed_verification"
    ENDED_WITH_MISSES = "ended_with_misses"
    EARLY_CANCELLATION = "early_cancellation"
    DELIVERY_FAILED = "delivery_failed"
    DISPUTED = "disputed"
