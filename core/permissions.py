"""Who may do what: the one table of roles and actions. Enforced by the service, not by hiding buttons."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import IncidentError

ROLES = ("viewer", "analyst", "manager", "admin")

#: action -> the least role that may do it (each role may do what the roles before it may)
LEAST_ROLE = {
    "read": "viewer",
    "create": "analyst",
    "update": "analyst",
    "transition": "analyst",
    "comment": "analyst",
    "reopen_closed": "manager",
    "assign_others": "manager",
    "bulk": "manager",
    "import": "manager",
    "export": "manager",
    "manage_users": "admin",
}
DOING = {
    "read": "read incidents",
    "create": "create incidents",
    "update": "change incidents",
    "transition": "move incidents through the lifecycle",
    "comment": "comment on incidents",
    "reopen_closed": "reopen a closed incident",
    "assign_others": "assign incidents to someone else",
    "bulk": "change several incidents at once",
    "import": "import incidents",
    "export": "export incidents",
    "manage_users": "manage users",
}


class PermissionDeniedError(IncidentError):
    """The signed-in user's role does not allow the action; nothing was written."""


@dataclass(frozen=True)
class Principal:
    """A signed-in user: who they are, their tenant and their role."""

    tenant: str
    username: str
    display_name: str
    role: str

    def may(self, action: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(LEAST_ROLE[action])


def require(principal: Principal, action: str) -> None:
    if not principal.may(action):
        needed = LEAST_ROLE[action]
        article = "an" if principal.role[0] in "aeiou" else "a"
        raise PermissionDeniedError(
            f"{article} {principal.role} may not {DOING[action]}; that needs the {needed} role or above"
        )
