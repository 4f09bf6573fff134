"""Request references in the database: a fresh unused one, and a request found by one.

The format and its typing rules are ``verification.reference``'s. A new
reference is checked unused before it is stored; the unique index on
``cancellation_request.reference`` is the backstop for two desks drawing
the same one at the same instant (one in a billion: that desk's action
fails and is taken again).

Not in the request hash (``db.calls.request_hash``): the hash binds a
decision to what is decided (the subscription before and after), which the
reference does not change; and the hashes of earlier requests are already
in the audit chain and their approvals, so a new field in the hash would
mark every one of them tampered. The reference is bound to its request by the
chain instead (the action's ``subscription.<action>`` event names both).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CancellationRequest
from verification.reference import new_reference, normalize_reference

# Draws before giving up: with a billion references, more than one is already rare.
_DRAWS = 8


def unused_reference(session: Session) -> str:
    """A reference no request holds yet."""
    for _ in range(_DRAWS):
        candidate = new_reference()
        taken = session.scalar(
            select(CancellationRequest.id).where(CancellationRequest.reference == candidate)
        )
        if taken is None:
            return candidate
    raise RuntimeError("no unused request reference after several draws")


def request_by_reference(
    session: Session, text: str, *, for_update: bool = False
) -> CancellationRequest | None:
    """The request with the reference ``text`` (as typed), or None.

    Raises ``verification.errors.InputError`` when the text cannot be a reference.
    """
    reference = normalize_reference(text)
    query = select(CancellationRequest).where(CancellationRequest.reference == reference)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()
