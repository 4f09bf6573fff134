"""The declarative base, the naming convention, and the partial-index predicates.

The predicates live here because queries repeat them verbatim (SQLite uses a
partial index only for the same terms with the same literals).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Predicates of the supervisor queue's partial indexes. SQLite uses a partial
# index only when the query's WHERE holds the same terms with the same
# literals, so db.review builds its WHERE from these very strings.
UNREVIEWED_FAILED = "reviewed_at IS NULL AND (state = 'locked' OR outcome = 'verification_failed')"
EARLY_CANCELLATION = "action IN ('cancel_now', 'cancel_now_with_expedited')"
NEEDS_APPROVAL = "needs_approval"
# Calls that ended unlocked but with misses (hung up, transferred): a supervisor looks.
UNREVIEWED_MISSES = "reviewed_at IS NULL AND misses > 0 AND outcome IN ('abandoned', 'escalated')"
# The same predicate as SQLite must be asked for it: without statistics SQLite
# would look ``outcome IN (...)`` up in the outcome index and walk every
# abandoned call; ``likely()`` keeps the term out of index lookups while it
# still implies the partial index's WHERE.
UNREVIEWED_MISSES_SQLITE = UNREVIEWED_MISSES.replace(
    "outcome IN ('abandoned', 'escalated')", "likely(outcome IN ('abandoned', 'escalated'))"
)
# Misses of a stated user ID, counted across calls (PRODUCT.md section 4 "Attempts").
USER_ID_MISS = "item = 'user_id' AND result = 'mismatch'"
# The outbox's partial indexes: what a worker may claim, and what the queue shows.
OUTBOX_PENDING = "state = 'pending'"
OUTBOX_FAILED = "state = 'failed'"
# Disputes no supervisor has settled yet: the queue's "Disputed" rows.
DISPUTE_OPEN = "resolved_at IS NULL"


def enum_column(cls: type[StrEnum], name: str) -> Enum:
    """A portable enum column: a VARCHAR with a CHECK constraint of its values."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
