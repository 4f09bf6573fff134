"""What the supervisor's call screen says about a call, as lines of text.

The summary, each request with where its expedited deprovisioning stands,
and the timeline's event words and details. Values are returned as plain
strings: the screen shows them through ``tui.widgets.plain`` (never markup).
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

from tui.screens.end_call_modal import OUTCOME_LABELS
from tui.screens.supervisor_base import local_time

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


def day_text(day: date | None) -> str:
    """A deletion day as the decision modal states it."""
    return "—" if day is None else f"{day:%Y-%m-%d}"


def event_words(event_type: str) -> str:
    """An audit event type that wraps at words ("subscription cancel now")."""
    return event_type.replace(".", " ").replace("_", " ")


def event_details(payload: str) -> str:
    """The event's payload without the call id every row shares; hashes to 12 digits."""
    values = {k: v for k, v in json.loads(payload).items() if k != "call_id"}
    return " ".join(f"{k}={_short(v)}" for k, v in values.items())


def _short(value: object) -> str:
    """A SHA-256 hex digest cut to its first 12 digits (enough to tell two apart)."""
    text = str(value)
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return f"{text[:12]}…"
    return text
