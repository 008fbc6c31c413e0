"""The errors the service raises; every face (pages, CLI, API) maps them to its own output."""

from __future__ import annotations


class IncidentError(Exception):
    """Base class: the message is short, says what is wrong and what to do."""


class ValidationError(IncidentError):
    """Input was rejected; nothing was written. `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


class TransitionError(ValidationError):
    """A status change the lifecycle does not allow, or one missing what it needs."""

    def __init__(self, message: str, field: str = "status"):
        super().__init__({field: message})


class NotFoundError(IncidentError):
    """No such incident for this tenant (another tenant's incident looks exactly the same)."""

    def __init__(self, incident_id: str):
        self.incident_id = incident_id
        super().__init__(f"incident {incident_id} not found")


class VersionConflictError(IncidentError):
    """Someone else changed the incident after the caller read it."""

    def __init__(self, incident_id: str, expected: int, current: int, changed_by: str | None, changes: list[str]):
        self.incident_id = incident_id
        self.expected = expected
        self.current = current
        self.changed_by = changed_by
        self.changes = changes
        who = changed_by or "someone else"
        what = f" ({', '.join(changes)})" if changes else ""
        super().__init__(
            f"incident {incident_id} was changed by {who}{what} since you opened it "
            f"(your version {expected}, now {current}); reload it and apply your change again"
        )


class DatabaseUnavailableError(IncidentError):
    """The configured database cannot be opened; the message names the target (password masked)."""
