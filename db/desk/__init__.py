"""The agent desk's database service: one unit of work per desk action.

Every function takes a ``sessionmaker``, plain values and ``now`` (aware UTC,
passed in so tests control time), writes its audit event(s) in the same
transaction as the change, and returns frozen dataclasses, never ORM objects.

By desk area: ``views`` (what the desk shows; the blind rule), ``verify``
(checks, misses and locks), ``actions`` (calls and cancellation actions),
``ending`` (outcomes and read-back lines). The lookups both desks share are
in ``db.calls``. Every public name is re-exported here.
"""

from db.calls import request_hash, store_facts, subscription_facts
from db.desk.actions import (
    ActionRefused,
    load_call,
    open_call_for_agent,
    start_call,
    take_action,
)
from db.desk.ending import CallSummary, abandon_call, end_call
from db.desk.verify import submit_item
from db.desk.views import CallView, ItemState, MadeRequest, PendingRequest, SubscriptionView
from verification.session import ItemStatus

__all__ = [
    "ActionRefused",
    "CallSummary",
    "CallView",
    "ItemState",
    "ItemStatus",
    "MadeRequest",
    "PendingRequest",
    "SubscriptionView",
    "abandon_call",
    "end_call",
    "load_call",
    "open_call_for_agent",
    "request_hash",
    "start_call",
    "store_facts",
    "submit_item",
    "subscription_facts",
    "take_action",
]
