"""The agent desk's database service: one unit of work per desk action.

Every function takes a ``sessionmaker``, plain values and ``now`` (aware UTC,
passed in so tests control time), writes its audit event(s) in the same
transaction as the change, and returns frozen dataclasses, never ORM objects.

By desk area: ``views`` (what the desk shows; the blind rule), ``verify``
(checks, misses and locks), ``actions`` (calls and cancellation actions),
``ending`` (outcomes and read-back lines), ``possession`` and ``stepup``
(proof of possession: codes, callbacks, the tier gate). The lookups both desks share are
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
from db.desk.possession import ActionStepUp, Destination, Possession
from db.desk.stepup import (
    CallbackNumber,
    CodeSenders,
    StepUpRefused,
    callback_result,
    callback_shown,
    code_destinations,
    code_senders,
    send_code,
    try_code,
)
from db.desk.verify import submit_item
from db.desk.views import CallView, ItemState, MadeRequest, PendingRequest, SubscriptionView
from verification.session import ItemStatus

__all__ = [
    "ActionRefused",
    "ActionStepUp",
    "CallSummary",
    "CallView",
    "CallbackNumber",
    "CodeSenders",
    "Destination",
    "ItemState",
    "ItemStatus",
    "MadeRequest",
    "PendingRequest",
    "Possession",
    "StepUpRefused",
    "SubscriptionView",
    "abandon_call",
    "callback_result",
    "callback_shown",
    "code_destinations",
    "code_senders",
    "end_call",
    "load_call",
    "open_call_for_agent",
    "request_hash",
    "send_code",
    "start_call",
    "store_facts",
    "submit_item",
    "subscription_facts",
    "take_action",
    "try_code",
]
