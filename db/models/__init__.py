"""SQLAlchemy models: everything in PRODUCT.md section 3, one module per area.

Schema changes go through Alembic revisions in ``migrations/``; ``callgate db
check`` fails when these models and the revisions disagree. Every model is
importable from ``db.models``, so that importing this package registers them
all with ``Base.metadata`` (Alembic and the relationships need that).
"""

from db.models.accounts import AccountUser, Subscription, Tenant, TenantDomain
from db.models.audit import AuditEvent
from db.models.base import (
    DISPUTE_OPEN,
    EARLY_CANCELLATION,
    NAMING_CONVENTION,
    NEEDS_APPROVAL,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    UNREVIEWED_FAILED,
    UNREVIEWED_MISSES,
    UNREVIEWED_MISSES_SQLITE,
    USER_ID_MISS,
    Base,
)
from db.models.calls import Approval, Call, CancellationRequest, ItemCheck, ReviewNote
from db.models.disputes import Dispute, DisputeMiss
from db.models.locks import LockClearance, UserIdLock
from db.models.outbox import OutboxChannel, OutboxEvent, OutboxState
from db.models.staff import Agent, AgentReset, SigninFailure
from db.models.stepup import Callback, CodeSend, CodeTry

__all__ = [
    "DISPUTE_OPEN",
    "EARLY_CANCELLATION",
    "NAMING_CONVENTION",
    "NEEDS_APPROVAL",
    "OUTBOX_FAILED",
    "OUTBOX_PENDING",
    "UNREVIEWED_FAILED",
    "UNREVIEWED_MISSES",
    "UNREVIEWED_MISSES_SQLITE",
    "USER_ID_MISS",
    "AccountUser",
    "Agent",
    "AgentReset",
    "Approval",
    "AuditEvent",
    "Base",
    "Call",
    "Callback",
    "CancellationRequest",
    "CodeSend",
    "CodeTry",
    "Dispute",
    "DisputeMiss",
    "ItemCheck",
    "LockClearance",
    "OutboxChannel",
    "OutboxEvent",
    "OutboxState",
    "ReviewNote",
    "SigninFailure",
    "Subscription",
    "Tenant",
    "TenantDomain",
    "UserIdLock",
]
