"""Tenants and their people (analysts, managers...); assignment checks read from here."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import and_, func, insert, select, update

from core.db import Bind, connection, transaction
from core.errors import ValidationError
from core.models import tenants, users
from core.permissions import ROLES
from core.timeutil import utcnow
from core.validation import check_tenant, text


@dataclass(frozen=True)
class User:
    tenant_id: str
    username: str
    display_name: str
    email: str | None
    role: str
    active: bool

    def to_dict(self) -> dict:
        return asdict(self)


def tenant_exists(engine: Bind, *, tenant: str) -> bool:
    with connection(engine) as conn:
        return conn.execute(select(tenants.c.tenant_id).where(tenants.c.tenant_id == tenant)).first() is not None


def ensure_tenant(engine: Bind, *, tenant: str, name: str | None = None) -> None:
    check_tenant(tenant)
    with transaction(engine) as conn:
        if not tenant_exists(conn, tenant=tenant):
            conn.execute(insert(tenants).values(tenant_id=tenant, name=name or tenant, created_at=utcnow()))


def add_user(
    engine: Bind,
    *,
    tenant: str,
    username: str,
    display_name: str | None = None,
    email: str | None = None,
    role: str = "analyst",
) -> User:
    try:
        username = text(username, limit=100, required=True, single_line=True)
        display_name = text(display_name, limit=200, single_line=True) or username
        email = text(email, limit=320, single_line=True)
    except ValueError as exc:
        raise ValidationError({"user": f"a user name, display name or e-mail {exc}"}) from None
    if role not in ROLES:
        raise ValidationError({"role": f"unknown role '{role}'; use one of: {', '.join(ROLES)}"})
    ensure_tenant(engine, tenant=tenant)
    with transaction(engine) as conn:
        # user names sign in, so they are unique across tenants (checked here: a unique index would not lead
        # with tenant_id, which every constraint must, to keep the schema distributable by tenant)
        exists = conn.execute(select(users.c.username).where(func.lower(users.c.username) == username.lower())).first()
        if exists:
            raise ValidationError({"username": f"the user name '{username}' is taken"})
        if email and conn.execute(select(users.c.username).where(func.lower(users.c.email) == email.lower())).first():
            raise ValidationError({"email": f"another user has the e-mail {email} (single sign-on matches by it)"})
        values = dict(
            tenant_id=tenant,
            username=username,
            display_name=display_name,
            email=email,
            role=role,
            active=True,
        )
        conn.execute(insert(users).values(**values, created_at=utcnow()))
    return User(**values)


def list_users(engine: Bind, *, tenant: str, active_only: bool = True) -> list[User]:
    query = select(*(users.c[f] for f in User.__dataclass_fields__)).where(users.c.tenant_id == tenant)
    if active_only:
        query = query.where(users.c.active.is_(True))
    with connection(engine) as conn:
        return [User(**row._mapping) for row in conn.execute(query.order_by(users.c.display_name))]


#: who may own incidents: an active analyst or above (viewers cannot)
ASSIGNABLE = and_(users.c.active.is_(True), users.c.role != "viewer")


def is_assignable(conn, *, tenant: str, username: str) -> bool:
    """True for a user of this tenant who may own incidents (ASSIGNABLE)."""
    found = select(users.c.username).where(users.c.tenant_id == tenant, users.c.username == username, ASSIGNABLE)
    return conn.execute(found).first() is not None


def assignable_users(conn, *, tenant: str) -> set[str]:
    """The user names of this tenant who may own incidents (ASSIGNABLE), for planning many changes at once."""
    return set(conn.execute(select(users.c.username).where(users.c.tenant_id == tenant, ASSIGNABLE)).scalars())


def disable_user(engine: Bind, *, username: str) -> None:
    """A disabled user can no longer sign in, act or be assigned; their past actions stay on the timelines."""
    with transaction(engine) as conn:
        done = conn.execute(update(users).where(users.c.username == username).values(active=False))
        if done.rowcount != 1:
            raise ValidationError({"username": f"no user '{username}'"})
