"""The transition table, every allowed and forbidden move, and the timestamp rules (pure, no database)."""

from datetime import UTC, datetime

import pytest

from core.errors import TransitionError
from core.lifecycle import (
    CLASSIFICATIONS,
    EARLY_CLOSE_CLASSIFICATIONS,
    STATUSES,
    TRANSITIONS,
    plan_transition,
    requirement,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)
ORDER = {s: i for i, s in enumerate(STATUSES)}
ACTIVE = ("investigating", "containment", "eradication")


def expected_allowed(current: str, target: str) -> bool:
    """The rules of the issue, written independently of the table."""
    if target == current:
        return False
    if ORDER[target] > ORDER[current]:
        return True
    if current in ACTIVE and target in ACTIVE:
        return True
    return current in ("resolved", "closed") and target == "investigating"


def state(status: str, **extra) -> dict:
    return {
        "status": status,
        "resolution": None,
        "classification": None,
        "acknowledged_at": None,
        "resolved_at": None,
        "closed_at": None,
        **extra,
    }


def full_args(current: str, target: str) -> dict:
    need = requirement(current, target)
    args = {}
    if need.resolution:
        args["resolution"] = "patched"
    if need.classification:
        args["classification"] = need.classifications[0]
    if need.reason:
        args["reason"] = "new evidence"
    return args


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_every_pair_follows_the_rules(current, target):
    allowed = expected_allowed(current, target)
    assert (target in TRANSITIONS[current]) == allowed
    if allowed:
        changes = plan_transition(state(current), target, at=T1, **full_args(current, target))
        assert changes["status"] == target
    else:
        with pytest.raises(TransitionError) as info:
            plan_transition(state(current), target, at=T1, **full_args(current, target))
        message = str(info.value)
        for name in TRANSITIONS[current]:
            assert name in message  # the error names the allowed next statuses


def test_resolved_needs_a_resolution():
    with pytest.raises(TransitionError, match="resolution"):
        plan_transition(state("eradication"), "resolved", at=T1)
    assert plan_transition(state("eradication", resolution="already written"), "resolved", at=T1)["status"]


@pytest.mark.parametrize("current", ["containment", "eradication", "resolved"])
def test_closed_needs_a_classification(current):
    with pytest.raises(TransitionError, match="classification"):
        plan_transition(state(current), "closed", at=T1)
    for classification in CLASSIFICATIONS:
        assert plan_transition(state(current), "closed", at=T1, classification=classification)["closed_at"] == T1


@pytest.mark.parametrize("current", ["new", "investigating"])
def test_early_close_only_for_non_incidents(current):
    for classification in CLASSIFICATIONS:
        if classification in EARLY_CLOSE_CLASSIFICATIONS:
            assert plan_transition(state(current), "closed", at=T1, classification=classification)
        else:
            with pytest.raises(TransitionError, match="false_positive"):
                plan_transition(state(current), "closed", at=T1, classification=classification)


@pytest.mark.parametrize("current", ["resolved", "closed"])
def test_reopen_needs_a_reason_and_clears_resolution_times(current):
    with pytest.raises(TransitionError, match="reason"):
        plan_transition(state(current), "investigating", at=T1)
    before = state(
        current,
        acknowledged_at=T0,
        resolved_at=T0,
        closed_at=T0 if current == "closed" else None,
        classification="true_positive" if current == "closed" else None,
    )
    changes = plan_transition(before, "investigating", at=T1, reason="new beacon seen")
    assert changes["resolved_at"] is None and changes["closed_at"] is None and changes["classification"] is None
    assert changes["resolution"] is None  # the old one was wrong; it stays in the timeline
    assert "acknowledged_at" not in changes  # acknowledgement is not undone


def test_timestamps_are_set_once():
    changes = plan_transition(state("new"), "investigating", at=T1)
    assert changes["acknowledged_at"] == T1
    acknowledged = state("containment", acknowledged_at=T0)
    assert "acknowledged_at" not in plan_transition(acknowledged, "eradication", at=T1)
    resolved = plan_transition(state("eradication", acknowledged_at=T0), "resolved", at=T1, resolution="done")
    assert resolved["resolved_at"] == T1 and "closed_at" not in resolved
    closing = plan_transition(state("resolved", resolved_at=T0), "closed", at=T1, classification="true_positive")
    assert closing["closed_at"] == T1 and "resolved_at" not in closing  # not overwritten


def test_close_without_resolving_stamps_resolved_at():
    changes = plan_transition(state("new"), "closed", at=T1, classification="false_positive")
    assert changes["acknowledged_at"] == changes["resolved_at"] == changes["closed_at"] == T1


def test_classification_only_when_closing():
    with pytest.raises(TransitionError, match="only given when closing"):
        plan_transition(state("new"), "investigating", at=T1, classification="true_positive")


def test_unknown_status_is_rejected():
    with pytest.raises(TransitionError, match="unknown status"):
        plan_transition(state("new"), "done", at=T1)
