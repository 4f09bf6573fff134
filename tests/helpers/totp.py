"""The second factor as tests hold it: one known secret and the next code it allows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Agent
from verification.totp import code_at, time_step

# The secret test supervisors are enrolled with (an authenticator app would hold it).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def next_code(factory: sessionmaker[Session], username: str, now: datetime) -> str:
    """The code an authenticator app would show ``username`` now, or in the next step
    when this one's was used already (read as the owner: a desk role could not)."""
    with factory() as session:
        secret, last = session.execute(
            select(Agent.totp_secret, Agent.totp_last_step).where(Agent.username == username)
        ).one()
    assert secret is not None, f"{username} has no second factor"
    for step in (time_step(now), time_step(now) + 1):
        if last is None or step > last:
            return code_at(secret, step)
    raise AssertionError("both codes near this time were used: move the test's clock")
