"""The incident lifecycle: the one transition table and the timestamp rules.

NIST-style stages: new -> investigating -> containment -> eradication -> resolved -> closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import TransitionError

SEVERITIES = ("critical", "high", "medium", "low", "informational")
STATUSES = ("new", "investigating", "containment", "eradication", "resolved", "closed")
CLASSIFICATIONS = ("true_positive", "benign_positive", "false_positive", "undetermined", "duplicate")
OPEN_STATUSES = ("new", "investigating", "containment", "eradication")
ACTIVE_STATUSES = ("investigating", "containment", "eradication")
# A move from new/investigating straight to closed says the incident was never real.
EARLY_CLOSE_CLASSIFICATIONS = ("false_positive", "benign_positive", "duplicate")

LABELS = {
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    "informational": "Informational",
    "new": "New",
    "investigating": "Investigating",
    "containment": "Containment",
    "eradication": "Eradication",
    "resolved": "Resolved",
    "closed": "Closed",
    "true_positive": "True positive",
    "benign_positive": "Benign positive",
    "false_positive": "False positive",
    "undetermined": "Undetermined",
    "duplicate": "Duplicate",
}


def label(value: str | None) -> str:
    """Human label for a severity, status or classification value."""
    return LABELS.get(value or "", value or "")


#: status -> the statuses it may move to, in lifecycle order. Forward moves may skip stages; the active
#: stages may step back to an earlier active stage; resolved/closed -> investigating is a reopen.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("investigating", "containment", "eradication", "resolved", "closed"),
    "investigating": ("containment", "eradication", "resolved", "closed"),
    "containment": ("investigating", "eradication", "resolved", "closed"),
    "eradication": ("investigating", "containment", "resolved", "closed"),
    "resolved": ("investigating", "closed"),
    "closed": ("investigating",),
}


def allowed_next(status: str) -> tuple[str, ...]:
    return TRANSITIONS[status]


def is_reopen(current: str, target: str) -> bool:
    return current in ("resolved", "closed") and target in OPEN_STATUSES


@dataclass(frozen=True)
class Requirement:
    """What a move asks the user for, so forms can show exactly the needed fields."""

    resolution: bool = False
    classification: bool = False
    classifications: tuple[str, ...] = CLASSIFICATIONS
    reason: bool = False


def requirement(current: str, target: str) -> Requirement:
    if is_reopen(current, target):
        return Requirement(reason=True)
    if target == "resolved":
        return Requirement(resolution=True)
    if target == "closed":
        early = current in ("new", "investigating")
        return Requirement(
            classification=True, classifications=EARLY_CLOSE_CLASSIFICATIONS if early else CLASSIFICATIONS
        )
    return Requirement()


def plan_transition(
    incident: dict,
    target: str,
    *,
    at: datetime,
    resolution: str | None = None,
    classification: str | None = None,
    reason: str | None = None,
) -> dict:
    """The column changes for moving `incident` (a row dict) to `target` at time `at`.

    Raises TransitionError naming the allowed next statuses; computes nothing else.
    """
    current = incident["status"]
    if target not in STATUSES:
        raise TransitionError(f"unknown status '{target}'; use one of: {', '.join(STATUSES)}")
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise TransitionError(f"cannot move from {current} to {target}; allowed next: {', '.join(allowed) or 'none'}")
    need = requirement(current, target)
    resolution = (resolution or "").strip() or None
    reason = (reason or "").strip() or None
    changes: dict = {"status": target}

    if need.reason and not reason:
        raise TransitionError(f"reopening a {current} incident needs a reason", field="reason")
    if reason and not need.reason:
        raise TransitionError("a reason is given when reopening a resolved or closed incident", field="reason")
    if need.resolution and not (resolution or incident.get("resolution")):
        raise TransitionError("resolving needs a resolution text", field="resolution")
    if resolution:
        changes["resolution"] = resolution
    if need.classification:
        chosen = classification or incident.get("classification")
        if not chosen:
            raise TransitionError("closing needs a classification", field="classification")
        if chosen not in need.classifications:
            raise TransitionError(
                f"closing straight from {current} needs classification "
                f"{', '.join(need.classifications)} (got {chosen}); resolve it first otherwise",
                field="classification",
            )
        changes["classification"] = chosen
    elif classification:
        raise TransitionError("a classification is only given when closing", field="classification")

    if is_reopen(current, target):
        changes.update(resolved_at=None, closed_at=None, classification=None, resolution=None)
        return changes
    if current == "new" and not incident.get("acknowledged_at"):
        changes["acknowledged_at"] = at
    if target in ("resolved", "closed") and not incident.get("resolved_at"):
        changes["resolved_at"] = at
    if target == "closed" and not incident.get("closed_at"):
        changes["closed_at"] = at
    return changes


def check_outcome(before: dict, after: dict) -> None:
    """The fields that say how an incident ended, checked on its state after a change:

    a resolution belongs to a resolved or closed incident (required when resolved, never cleared once
    given), a classification to a closed one and changes only by closing (reopen and close again to change
    it), so a classification always went through the rules of the move that closed the incident."""
    status = after["status"]
    if status in OPEN_STATUSES and after.get("resolution") and after.get("resolution") != before.get("resolution"):
        raise TransitionError("a resolution is given when resolving", field="resolution")
    if status in ("resolved", "closed") and before.get("resolution") and not after.get("resolution"):
        raise TransitionError(f"a {status} incident keeps its resolution; change it instead", field="resolution")
    if (
        status == "closed"
        and before["status"] == "closed"
        and after.get("classification") != before.get("classification")
    ):
        raise TransitionError(
            "the classification is set when closing: reopen the incident and close it again to change it",
            field="classification",
        )


def path_to(current: str, target: str, *, classification: str | None = None) -> list[str]:
    """The shortest sequence of allowed moves from `current` to `target` (empty when already there).

    Closing straight from new/investigating is only a step when `classification` allows it (importers
    replaying a source's history use this to stay within the rules)."""
    if current == target:
        return []
    queue, seen = [[current]], {current}
    while queue:
        path = queue.pop(0)
        for step in reversed(TRANSITIONS[path[-1]]):  # prefer the furthest move: new -> resolved -> closed
            early_close = step == "closed" and path[-1] in ("new", "investigating")
            if step in seen or (early_close and classification not in EARLY_CLOSE_CLASSIFICATIONS):
                continue
            if step == target:
                return [*path[1:], step]
            seen.add(step)
            queue.append([*path, step])
    raise TransitionError(f"no way from {current} to {target}")
