"""The cancellation policy, row by row (PRODUCT.md section 5)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import pytest

from verification.kinds import (
    Channel,
    ExpeditedState,
    Outcome,
    SubscriptionKind,
    SubscriptionStatus,
)
from verification.policy import (
    Action,
    NotOffered,
    Option,
    PolicyDecision,
    PolicyGap,
    SubscriptionFacts,
)
from verification.policy_effects import apply, approve_expedited, reject_expedited
from verification.policy_table import decide

TODAY = date(2026, 11, 26)
DOMAINS = ("contoso.com", "contoso.net")

ACTIVE_DIRECT = SubscriptionFacts(
    kind=SubscriptionKind.PAID,
    channel=Channel.DIRECT,
    status=SubscriptionStatus.ACTIVE,
    term_start=date(2026, 3, 1),
    term_end=date(2027, 2, 28),
    auto_renew=True,
)


def actions(decision: PolicyDecision) -> list[Action]:
    return [option.action for option in decision.options]


def option(decision: PolicyDecision, action: Action) -> Option:
    return next(o for o in decision.options if o.action is action)


# --- exhaustiveness ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "channel", "status", "expedited"),
    list(itertools.product(SubscriptionKind, Channel, SubscriptionStatus, ExpeditedState)),
)
def test_every_combination_has_a_row(
    kind: SubscriptionKind,
    channel: Channel,
    status: SubscriptionStatus,
    expedited: ExpeditedState,
) -> None:
    facts = replace(ACTIVE_DIRECT, kind=kind, channel=channel, status=status, expedited=expedited)
    decision = decide(facts, DOMAINS, TODAY)
    assert decision.message
    # Nothing to offer always means the call is closed as "informed".
    assert (decision.outcome is Outcome.INFORMED) == (not decision.options)
    for offered in decision.options:
        assert apply(offered.action, facts, TODAY) != facts


@pytest.mark.parametrize("field", ["kind", "channel", "status"])
def test_a_member_without_a_row_is_a_clear_error(field: str) -> None:
    # Stands in for an enum member added later without a policy row.
    unknown = replace(ACTIVE_DIRECT, **{field: "carrier_pigeon"})
    with pytest.raises(PolicyGap, match="carrier_pigeon"):
        decide(unknown, DOMAINS, TODAY)


# --- trial ------------------------------------------------------------------------


def test_trial_offers_nothing_and_shows_the_dates() -> None:
    trial = replace(ACTIVE_DIRECT, kind=SubscriptionKind.TRIAL, term_end=date(2026, 12, 26))
    decision = decide(trial, DOMAINS, TODAY)
    assert decision.options == ()
    assert decision.outcome is Outcome.INFORMED
    assert "can't be canceled" in decision.message
    assert "26 December 2026" in decision.message
    # The seed: a trial "automatically expires at the end of the trial period
    # and all data is permanently deleted" -- then, not 90 days later.
    assert dict(decision.dates) == {
        "trial ends": date(2026, 12, 26),
        "data deleted": date(2026, 12, 26),
    }
    assert "permanently deleted when the trial ends on 26 December 2026" in decision.message
    assert "2027" not in decision.message


def test_trial_data_deleted_earlier_on_record_is_shown_as_such() -> None:
    trial = replace(
        ACTIVE_DIRECT,
        kind=SubscriptionKind.TRIAL,
        term_end=date(2026, 12, 26),
        data_deletion_on=date(2026, 12, 1),
    )
    assert dict(decide(trial, DOMAINS, TODAY).dates)["data deleted"] == date(2026, 12, 1)


def test_trial_data_never_outlives_the_trial_whatever_the_record_says() -> None:
    trial = replace(
        ACTIVE_DIRECT,
        kind=SubscriptionKind.TRIAL,
        term_end=date(2026, 12, 26),
        data_deletion_on=date(2027, 3, 26),
    )
    assert dict(decide(trial, DOMAINS, TODAY).dates)["data deleted"] == date(2026, 12, 26)


@pytest.mark.parametrize("status", [SubscriptionStatus.ACTIVE, SubscriptionStatus.EXPIRED])
def test_an_ended_trial_says_its_data_was_deleted_when_it_ended(
    status: SubscriptionStatus,
) -> None:
    trial = replace(
        ACTIVE_DIRECT,
        kind=SubscriptionKind.TRIAL,
        status=status,
        term_start=date(2026, 10, 1),
        term_end=date(2026, 10, 31),
    )
    decision = decide(trial, DOMAINS, TODAY)
    assert decision.outcome is Outcome.INFORMED
    assert dict(decision.dates)["data deleted"] == date(2026, 10, 31)
    assert "data was deleted on 31 October 2026" in decision.message


# --- Open and FPP -----------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.OPEN, Channel.FPP])
def test_open_and_fpp_already_expire_at_term_end(channel: Channel) -> None:
    decision = decide(replace(ACTIVE_DIRECT, channel=channel), DOMAINS, TODAY)
    assert decision.options == ()
    assert decision.outcome is Outcome.INFORMED
    assert "nothing to cancel" in decision.message
    assert ("term ends", date(2027, 2, 28)) in decision.dates


# --- direct, active ---------------------------------------------------------------


def test_direct_active_offers_auto_renew_off_and_cancel_now() -> None:
    decision = decide(ACTIVE_DIRECT, DOMAINS, TODAY)
    assert actions(decision) == [
        Action.AUTO_RENEW_OFF,
        Action.CANCEL_NOW,
        Action.CANCEL_NOW_WITH_EXPEDITED,
    ]
    assert decision.outcome is None


def test_auto_renew_off_expires_at_term_end_and_deletes_90_days_later() -> None:
    off = option(decide(ACTIVE_DIRECT, DOMAINS, TODAY), Action.AUTO_RENEW_OFF)
    assert off.warnings == ()
    assert off.checklist == ()
    assert not off.needs_approval
    assert dict(off.effects) == {"expires": date(2027, 2, 28), "data deleted": date(2027, 5, 29)}
    after = apply(Action.AUTO_RENEW_OFF, ACTIVE_DIRECT, TODAY)
    assert (after.status, after.auto_renew, after.data_deletion_on) == (
        SubscriptionStatus.EXPIRING,
        False,
        date(2027, 5, 29),
    )


def test_cancel_now_warns_of_fees_and_lists_the_checklist() -> None:
    cancel = option(decide(ACTIVE_DIRECT, DOMAINS, TODAY), Action.CANCEL_NOW)
    assert cancel.warnings == ("Early termination fees may apply.",)
    assert len(cancel.checklist) == 2
    assert "NS" in cancel.checklist[0]
    assert "contoso.com, contoso.net" in cancel.checklist[0]
    assert "backed up" in cancel.checklist[1]
    assert dict(cancel.effects) == {"canceled": TODAY, "data deleted": date(2027, 2, 24)}
    assert not cancel.needs_approval


def test_cancel_now_without_domains_skips_the_domain_step() -> None:
    cancel = option(decide(ACTIVE_DIRECT, (), TODAY), Action.CANCEL_NOW)
    assert len(cancel.checklist) == 1
    assert "backed up" in cancel.checklist[0]


def test_cancel_now_sets_cancellation_and_deletion_dates() -> None:
    after = apply(Action.CANCEL_NOW, ACTIVE_DIRECT, TODAY)
    assert after.status is SubscriptionStatus.CANCELED
    assert after.canceled_on == TODAY
    assert after.data_deletion_on == date(2027, 2, 24)
    assert not after.auto_renew
    assert after.expedited is ExpeditedState.NONE


def test_cancel_now_on_the_last_day_of_the_term() -> None:
    last_day = ACTIVE_DIRECT.term_end
    decision = decide(ACTIVE_DIRECT, DOMAINS, last_day)
    assert Action.CANCEL_NOW in actions(decision)
    after = apply(Action.CANCEL_NOW, ACTIVE_DIRECT, last_day)
    assert after.canceled_on == last_day


def test_deletion_date_across_a_leap_day() -> None:
    leap = date(2028, 1, 1)
    facts = replace(ACTIVE_DIRECT, term_start=date(2027, 6, 1), term_end=date(2028, 5, 31))
    assert apply(Action.CANCEL_NOW, facts, leap).data_deletion_on == date(2028, 3, 31)
    approved = approve_expedited(
        apply(Action.CANCEL_NOW_WITH_EXPEDITED, facts, leap), date(2028, 2, 27)
    )
    assert approved.data_deletion_on == date(2028, 3, 1)


def test_cancel_now_with_expedited_needs_approval_and_confirms_irreversibility() -> None:
    both = option(decide(ACTIVE_DIRECT, DOMAINS, TODAY), Action.CANCEL_NOW_WITH_EXPEDITED)
    assert both.needs_approval
    assert any("Irreversible" in warning for warning in both.warnings)
    assert "Early termination fees may apply." in both.warnings
    assert any("irreversible" in step for step in both.checklist)
    after = apply(Action.CANCEL_NOW_WITH_EXPEDITED, ACTIVE_DIRECT, TODAY)
    assert after.status is SubscriptionStatus.CANCELED
    assert after.expedited is ExpeditedState.PENDING
    assert after.data_deletion_on == date(2027, 2, 24)  # until approved


@pytest.mark.parametrize(
    "facts",
    [
        replace(ACTIVE_DIRECT, status=SubscriptionStatus.EXPIRING, auto_renew=False),
        replace(ACTIVE_DIRECT, auto_renew=False),
    ],
)
def test_auto_renew_already_off_offers_only_cancel_now(facts: SubscriptionFacts) -> None:
    decision = decide(facts, DOMAINS, TODAY)
    assert actions(decision) == [Action.CANCEL_NOW, Action.CANCEL_NOW_WITH_EXPEDITED]
    assert "already off" in decision.message
    with pytest.raises(NotOffered):
        apply(Action.AUTO_RENEW_OFF, facts, TODAY)


# --- product key ------------------------------------------------------------------


def test_product_key_offers_cancel_now_with_no_refund() -> None:
    facts = replace(ACTIVE_DIRECT, channel=Channel.PRODUCT_KEY)
    decision = decide(facts, DOMAINS, TODAY)
    assert actions(decision) == [Action.CANCEL_NOW, Action.CANCEL_NOW_WITH_EXPEDITED]
    cancel = option(decision, Action.CANCEL_NOW)
    assert any("No refund" in w and "partner" in w for w in cancel.warnings)
    assert len(cancel.checklist) == 2


# --- canceled, data kept ---------------------------------------------------------


CANCELED = replace(
    ACTIVE_DIRECT,
    status=SubscriptionStatus.CANCELED,
    auto_renew=False,
    canceled_on=date(2026, 11, 1),
    data_deletion_on=date(2027, 1, 30),
)


@pytest.mark.parametrize("state", [ExpeditedState.NONE, ExpeditedState.REJECTED])
def test_canceled_with_data_kept_offers_expedited_deprovisioning(state: ExpeditedState) -> None:
    facts = replace(CANCELED, expedited=state)
    decision = decide(facts, DOMAINS, TODAY)
    assert actions(decision) == [Action.EXPEDITED_DEPROVISIONING]
    expedited = option(decision, Action.EXPEDITED_DEPROVISIONING)
    assert expedited.needs_approval
    assert any("Irreversible" in w for w in expedited.warnings)
    assert any(
        "Only by phone" in w and "supervisor other than you" in w for w in expedited.warnings
    )
    assert dict(expedited.effects)["data deleted by, if approved today"] == date(2026, 11, 29)
    assert apply(Action.EXPEDITED_DEPROVISIONING, facts, TODAY).expedited is ExpeditedState.PENDING


def test_approval_deletes_within_three_days() -> None:
    pending = apply(Action.EXPEDITED_DEPROVISIONING, CANCELED, TODAY)
    approved = approve_expedited(pending, date(2026, 11, 27))
    assert approved.expedited is ExpeditedState.APPROVED
    assert approved.data_deletion_on == date(2026, 11, 30)


def test_approval_never_postpones_deletion() -> None:
    soon = replace(CANCELED, data_deletion_on=date(2026, 11, 28), expedited=ExpeditedState.PENDING)
    assert approve_expedited(soon, TODAY).data_deletion_on == date(2026, 11, 28)


def test_rejection_leaves_the_dates() -> None:
    pending = replace(CANCELED, expedited=ExpeditedState.PENDING)
    rejected = reject_expedited(pending)
    assert rejected.expedited is ExpeditedState.REJECTED
    assert rejected.data_deletion_on == CANCELED.data_deletion_on


def test_only_a_pending_request_can_be_decided() -> None:
    with pytest.raises(NotOffered):
        approve_expedited(CANCELED, TODAY)
    with pytest.raises(NotOffered):
        reject_expedited(CANCELED)


@pytest.mark.parametrize("state", [ExpeditedState.PENDING, ExpeditedState.APPROVED])
def test_canceled_with_expedited_under_way_offers_nothing(state: ExpeditedState) -> None:
    decision = decide(replace(CANCELED, expedited=state), DOMAINS, TODAY)
    assert decision.options == ()
    assert decision.outcome is Outcome.INFORMED


def test_canceled_without_a_deletion_date_counts_90_days_from_cancellation() -> None:
    facts = replace(CANCELED, data_deletion_on=None)
    assert ("data deleted", date(2027, 1, 30)) in decide(facts, DOMAINS, TODAY).dates


# --- expired or deleted -----------------------------------------------------------


def test_canceled_with_data_deleted_offers_nothing() -> None:
    gone = replace(CANCELED, data_deletion_on=date(2026, 11, 20))
    decision = decide(gone, DOMAINS, TODAY)
    assert decision.options == ()
    assert decision.outcome is Outcome.INFORMED
    assert "was deleted on 20 November 2026" in decision.message


def test_expired_offers_nothing_and_states_the_dates() -> None:
    expired = replace(
        ACTIVE_DIRECT,
        status=SubscriptionStatus.EXPIRED,
        term_start=date(2025, 3, 1),
        term_end=date(2026, 2, 28),
    )
    decision = decide(expired, DOMAINS, TODAY)
    assert decision.options == ()
    assert decision.outcome is Outcome.INFORMED
    assert dict(decision.dates)["data deleted"] == date(2026, 5, 29)
    assert "was deleted" in decision.message


def test_term_already_ended_but_still_active_is_treated_as_expired() -> None:
    lagging = replace(ACTIVE_DIRECT, term_end=date(2026, 11, 25))
    decision = decide(lagging, DOMAINS, TODAY)
    assert decision.options == ()
    assert "the record still says active" in decision.message
    with pytest.raises(NotOffered):
        apply(Action.CANCEL_NOW, lagging, TODAY)
