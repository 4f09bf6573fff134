"""The supervisor desk's database service: the queue, the request list, decisions.

Every function takes the acting agent's id and refuses anyone who is not an
active supervisor (``NotSupervisor``), so the rule holds whatever the UI shows.
Decisions open one unit of work and append their audit event in it; reads
return frozen dataclasses, never ORM objects.

By desk area: ``access`` (who may act, four-eyes, lifting locks), ``waiting``
(the queue's SQL), ``requests`` (the keyset-paged list, shared with the
export), ``detail`` and ``timeline`` (one call's story), ``decisions``,
``deliveries`` (retrying a failed delivery) and ``figures`` (the numbers).
Every public name is re-exported here.
"""

from db.review.access import (
    NotSupervisor,
    ReviewRefused,
    clear_tenant_lock,
    clear_user_id_lock,
    require_supervisor,
    reset_locked_agent,
)
from db.review.decisions import add_review_note, decide_expedited, mark_reviewed
from db.review.deliveries import retry_delivery
from db.review.detail import CallDetail, CheckLine, NoteLine, call_detail
from db.review.figures import AgentNumbers, Numbers, numbers
from db.review.queue_row import QUEUE_LIMIT, LockingCall, QueueRow
from db.review.request_lines import ApprovalLine, DisputeLine, FactChange, RequestLine
from db.review.requests import (
    BROAD_ORGANIZATION,
    PAGE_SIZE,
    Cursor,
    Page,
    RequestFilter,
    RequestRow,
    Search,
    SearchKind,
    list_requests,
    organization_is_broad,
    parse_search,
    request_query,
)
from db.review.timeline import CLOCK_SKEW, TimelineEntry
from db.review.waiting import queue
from verification.kinds import QueueKind

__all__ = [
    "BROAD_ORGANIZATION",
    "CLOCK_SKEW",
    "PAGE_SIZE",
    "QUEUE_LIMIT",
    "AgentNumbers",
    "ApprovalLine",
    "CallDetail",
    "CheckLine",
    "Cursor",
    "DisputeLine",
    "FactChange",
    "LockingCall",
    "NotSupervisor",
    "NoteLine",
    "Numbers",
    "Page",
    "QueueKind",
    "QueueRow",
    "RequestFilter",
    "RequestLine",
    "RequestRow",
    "ReviewRefused",
    "Search",
    "SearchKind",
    "TimelineEntry",
    "add_review_note",
    "call_detail",
    "clear_tenant_lock",
    "clear_user_id_lock",
    "decide_expedited",
    "list_requests",
    "mark_reviewed",
    "numbers",
    "organization_is_broad",
    "parse_search",
    "queue",
    "request_query",
    "require_supervisor",
    "reset_locked_agent",
    "retry_delivery",
]
