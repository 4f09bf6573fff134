"""Tier rules: every action × every set of proven factors × PIN on file or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import chain, combinations

import pytest

from verification.policy import Action
from verification.tiers import (
    DEFAULT_TIERS,
    Factor,
    Proof,
    Tier,
    TierError,
    held,
    parse_tiers,
    step_up,
    tier_map,
)

FACTOR_SETS = [frozenset(c) for c in chain.from_iterable(combinations(Factor, n) for n in range(4))]


def expected(tier: Tier, proven: frozenset[Factor], has_pin: bool) -> bool:
    # Written from PRODUCT §5's table, independently of the module's match.
    counted = proven if has_pin else proven - {Factor.PIN}
    if tier is Tier.REVERSIBLE:
        return True
    if tier is Tier.ENDS_SERVICE:
        return bool(counted)
    return Factor.CODE in counted or Factor.CALLBACK in counted


def test_default_tiers_follow_the_product_table() -> None:
    assert DEFAULT_TIERS == {
        Action.AUTO_RENEW_OFF: Tier.REVERSIBLE,
        Action.CANCEL_NOW: Tier.ENDS_SERVICE,
        Action.EXPEDITED_DEPROVISIONING: Tier.DESTROYS_DATA,
        Action.CANCEL_NOW_WITH_EXPEDITED: Tier.DESTROYS_DATA,
    }
    assert set(DEFAULT_TIERS) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("proven", FACTOR_SETS, ids=lambda s: "+".join(sorted(s)) or "none")
@pytest.mark.parametrize("has_pin", [True, False], ids=["pin", "no-pin"])
def test_every_action_factor_set_and_pin(
    action: Action, proven: frozenset[Factor], has_pin: bool
) -> None:
    tier = DEFAULT_TIERS[action]
    result = step_up(action, tier, proven, has_pin)
    assert result.proceed is expected(tier, proven, has_pin)
    assert (result.missing == "") is result.proceed


@pytest.mark.parametrize("tier", list(Tier))
@pytest.mark.parametrize("proven", FACTOR_SETS, ids=lambda s: "+".join(sorted(s)) or "none")
@pytest.mark.parametrize("has_pin", [True, False], ids=["pin", "no-pin"])
def test_any_tier_on_any_action(tier: Tier, proven: frozenset[Factor], has_pin: bool) -> None:
    for action in Action:
        assert step_up(action, tier, proven, has_pin).proceed is expected(tier, proven, has_pin)


def test_the_gate_sentences() -> None:
    assert step_up(Action.CANCEL_NOW, Tier.ENDS_SERVICE, (), True).missing == (
        "cancel now needs a code, a callback or the PIN"
    )
    assert step_up(Action.CANCEL_NOW, Tier.ENDS_SERVICE, (), False).missing == (
        "cancel now needs a code or a callback"
    )
    pin_only = step_up(Action.EXPEDITED_DEPROVISIONING, Tier.DESTROYS_DATA, [Factor.PIN], True)
    assert pin_only.missing == (
        "expedited deprovisioning needs a code or a callback — the PIN alone is not enough"
    )
    assert step_up(Action.CANCEL_NOW_WITH_EXPEDITED, Tier.DESTROYS_DATA, (), False).missing == (
        "cancel now with expedited deprovisioning needs a code or a callback"
    )


def test_overrides_replace_only_the_named_actions() -> None:
    overrides = parse_tiers({"auto_renew_off": "ends_service"})
    tiers = tier_map(overrides)
    assert tiers[Action.AUTO_RENEW_OFF] is Tier.ENDS_SERVICE
    assert tiers[Action.CANCEL_NOW] is Tier.ENDS_SERVICE
    assert tiers[Action.EXPEDITED_DEPROVISIONING] is Tier.DESTROYS_DATA


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"cancel_later": "reversible"}, "unknown action 'cancel_later'"),
        ({"cancel_now": "harmless"}, "unknown tier 'harmless' for cancel_now"),
        ({"cancel_now": 3}, "unknown tier 3 for cancel_now"),
    ],
)
def test_unknown_names_are_refused(table: dict[str, object], needle: str) -> None:
    with pytest.raises(TierError, match=needle):
        parse_tiers(table)


@pytest.mark.parametrize(
    ("action", "tier"),
    [
        ("expedited_deprovisioning", "reversible"),
        ("expedited_deprovisioning", "ends_service"),
        ("cancel_now_with_expedited", "ends_service"),
        ("cancel_now", "reversible"),
    ],
)
def test_the_settings_never_lower_an_action_below_what_it_does(action: str, tier: str) -> None:
    with pytest.raises(TierError, match=f"{action} cannot be {tier}: .* at least"):
        parse_tiers({action: tier})


def test_the_settings_may_raise_any_tier() -> None:
    raised = {"auto_renew_off": "destroys_data", "cancel_now": "destroys_data"}
    assert dict(parse_tiers(raised)) == {
        Action.AUTO_RENEW_OFF: Tier.DESTROYS_DATA,
        Action.CANCEL_NOW: Tier.DESTROYS_DATA,
    }


def test_a_factor_counts_only_in_the_round_it_was_proven_in() -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    proofs = [
        Proof(Factor.CALLBACK, start - timedelta(minutes=1)),  # the round before
        Proof(Factor.CODE, start),
    ]
    assert held(proofs, start) == (Factor.CODE,)
    assert held(proofs, start - timedelta(minutes=5)) == (Factor.CODE, Factor.CALLBACK)
    assert held(proofs, start + timedelta(seconds=1)) == ()
    assert held(proofs, None) == ()
