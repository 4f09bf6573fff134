"""What the supervisor's call screen says about a call, as lines of text.

The summary, each request with where its expedited deprovisioning stands,
and the timeline's event words and details. Values are returned as plain
strings: the screen shows them through ``tui.widgets.plain`` (never markup).
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

from db.review.request_lines import DISPUTED_REFUSAL
from tui.screens.end_call_modal import OUTCOME_LABELS
from tui.screens.supervisor_base import local_time
from verification.kinds import Decision, RequestStatus

if TYPE_CHECKING:
    from db.review import CallDetail, RequestLine

# What a supervisor can do with a disputed request (``db.review.request_lines.DISPUTED_REFUSAL``).
DISPUTED_HINT = "It can no longer become final: reject it (x) to keep the data."


def summary_lines(detail: CallDetail) -> list[str]:
    """Who took the call, when, how it ended and whether it was reviewed; its lock and notes."""
    outcome = OUTCOME_LABELS[detail.outcome] if detail.outcome else "—"
    reviewed = (
        f"reviewed by {detail.reviewed_by} {local_time(detail.reviewed_at)}"
        if detail.reviewed_at
        else "not reviewed"
    )
    lines = [
        f"Agent {detail.agent} · {local_time(detail.started_at)} → {local_time(detail.ended_at)}",
        f"State {detail.state.value} · outcome: {outcome} · {reviewed}",
    ]
    if detail.tenant_locked:
        lines.append("The organization is LOCKED for phone cancellation (l clears it).")
    if detail.notes:
        # One line per note: the call keeps its notes newline-separated.
        lines += f"Agent's notes: {detail.notes}".split("\n")
    return lines


def request_lines(request: RequestLine) -> list[str]:
    """One request: its status, changes, the checklist ticked and the decisions on it."""
    lines = [f"{request.action_label} — {request.product_name}: {request.status}"]
    if request.reference:
        lines.append(f"  reference {request.reference}")
    lines += _expedited_lines(request)
    if request.tampered:
        lines.append("  ⚠ the stored request does not match its hash: it cannot be decided")
    for change in request.changes:
        value = f"{change.before} → {change.after}" if change.changed else change.after
        if change.now is not None:
            value += f" → now {change.now}"
        lines.append(f"  {change.label}: {value}")
    if request.checklist:
        lines.append("  Checklist the agent ticked with the caller:")
        lines += [f"    ✓ {point}" for point in request.checklist]
    for approval in request.approvals:
        void = "" if approval.valid else " (void: the request changed)"
        lines.append(
            f"  {approval.decision.value} by {approval.approver} "
            f"{local_time(approval.decided_at)}: {approval.reason}{void}"
        )
    return lines


def _expedited_lines(request: RequestLine) -> list[str]:
    """Where an expedited request stands: its cooling-off, final time and dispute."""
    lines = []
    if request.final_at is not None:
        lines.append(f"  final since {local_time(request.final_at)}")
    elif request.cooling_off_until is not None:
        lines.append(f"  cooling off until {local_time(request.cooling_off_until)}")
    if request.final_if_approved is not None:
        lines.append(f"  final at {local_time(request.final_if_approved)} if approved now")
    dispute = request.dispute
    if dispute is not None:
        lines.append(f"  disputed by {dispute.by} {local_time(dispute.at)}: {dispute.reason}")
        if dispute.resolved_at is None:
            lines.append(f"  {DISPUTED_HINT}")
    return lines


def why_not(detail: CallDetail, action: str, decision: str, *, own: bool) -> str:
    """Why a supervisor key does nothing on this call: its dimmed or hidden action's reason."""
    expedited = [r for r in detail.requests if r.needs_approval]
    statuses = {r.status for r in expedited}
    if action == "clear_lock":
        return "The organization is not locked for phone cancellation: nothing to clear."
    if action == "reviewed":
        if detail.reviewed_at is not None:
            return "This call is already reviewed."
        return "This is your own call: another supervisor must review it."
    if action == "dispute":
        if not expedited:
            return "This call has no expedited request to dispute."
        return "Its expedited request is final, disputed or rejected already: nothing to dispute."
    if not expedited:
        return "This call has no expedited request: there is nothing to approve or reject."
    if any(r.tampered for r in expedited):
        return "The stored request does not match its hash: it cannot be decided."
    if decision == Decision.APPROVED.value and RequestStatus.DISPUTED in statuses:
        return DISPUTED_REFUSAL
    if own:
        return "This is your own call: another supervisor must decide on it."
    if RequestStatus.FINAL in statuses:
        return "This request is final: the data is being deleted."
    return "This request is already decided."


def day_text(day: date | None) -> str:
    """A deletion day as the decision modal states it."""
    return "—" if day is None else f"{day:%Y-%m-%d}"


def event_words(event_type: str) -> str:
    """An audit event type that wraps at words ("subscription cancel now")."""
    return event_type.replace(".", " ").replace("_", " ")


def event_details(payload: str, detail: CallDetail) -> str:
    """The event's payload in words: names for ids, "request CG-…", hashes cut to 8 digits.

    The call id every row shares and the ids of the desk's own rows (an
    approval, a callback) say nothing to a supervisor and are left out; an
    agent, request, subscription or organization is named as this call knows
    it. Parts are joined with " · " so that a narrow column wraps between
    words, never inside one.
    """
    values = json.loads(payload)
    if not isinstance(values, dict):
        return str(values)
    references = {r.request_id: r.reference for r in detail.requests if r.reference}
    products = {r.subscription_id: r.product_name for r in detail.requests}
    parts = []
    for key, value in values.items():
        if key == "reference" and values.get("request_id") in references:
            continue  # said with the request
        word = _detail_word(key, value, detail, references, products)
        if word:
            parts.append(word)
    return " · ".join(parts)


# Payload values shown alone: the value is its own label ("match", "User ID").
_VALUE_ONLY = frozenset({"item", "result", "outcome", "action", "kind"})


def _detail_word(
    key: str,
    value: object,
    detail: CallDetail,
    references: dict[int, str],
    products: dict[int, str],
) -> str:
    """One payload value as words; "" for the ids a supervisor has no use for."""
    if key == "agent_id":
        return f"by {detail.agent}" if value == detail.agent_id else f"agent #{value}"
    if key == "request_id":
        return f"request {references.get(_int(value), f'#{value}')}"
    if key == "subscription_id":
        return products.get(_int(value), "")
    if key == "tenant_id":
        return detail.organization if value == detail.tenant_id else ""
    if key == "call_id" or key.endswith("_id"):
        return ""
    if key.endswith("hash") and isinstance(value, str):
        return f"hash {value[:8]}"
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if key == "item":
        return _item_label(str(value))
    if key == "outcome":
        return _outcome_label(str(value))
    text = str(value).replace("_", " ")
    if key in _VALUE_ONLY:
        return text.replace(".", " ")
    label = "rules" if key == "rules_version" else key.replace("_", " ")
    return f"{label} {text}"


def _int(value: object) -> int:
    return value if isinstance(value, int) else -1


def _item_label(value: str) -> str:
    from verification.items import ITEM_SPECS
    from verification.kinds import Item

    try:
        return ITEM_SPECS[Item(value)].label
    except (ValueError, KeyError):
        return value.replace("_", " ")


def _outcome_label(value: str) -> str:
    from verification.kinds import Outcome

    try:
        return OUTCOME_LABELS[Outcome(value)]
    except (ValueError, KeyError):
        return value.replace("_", " ")
