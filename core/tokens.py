"""API tokens: how SIEMs and SOAR playbooks sign in to the REST API.

A token belongs to one tenant and acts as one user of it (a service account named after the token, created
with the token's role), so every change it makes names that account on the timeline and the role table of
`core.permissions` applies unchanged. The token reads `tio_<id>_<secret>`: the id finds it, the secret proves
it. Only a SHA-256 of the secret is stored: the secret is 256 random bits, which no dictionary reaches, so a
slow password hash (argon2) would only slow every API request without making the hash harder to reverse.
The token is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError

from core.auth import principal
from core.db import Bind, connection, transaction
from core.errors import IncidentError, ValidationError
from core.models import api_tokens
from core.permissions import ROLES, Principal
from core.timeutil import as_utc, utcnow
from core.users import add_user, list_users

PREFIX = "tio"
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token


class TokenRejected(IncidentError):
    """The bearer token is missing, malformed, unknown or revoked, or its user disabled (one answer for all)."""

    def __init__(self) -> None:
        super().__init__("a valid API token is needed: send 'Authorization: Bearer tio_…' (incidents token add)")


@dataclass(frozen=True)
class TokenInfo:
    id: str
    tenant_id: str
    username: str
    role: str
    user_active: bool  # a disabled account's tokens are refused however they are
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_dict(self) -> dict:
        return asdict(self)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_token(engine: Bind, *, tenant: str, name: str, role: str, created_by: str) -> tuple[str, TokenInfo]:
    """A new token acting as the tenant's service account `name`, made with `role` by the first token (a
    person's account is refused: a token must not act as someone). Returns the token, to be shown once, and
    its record."""
    if role not in ROLES:
        raise ValidationError({"role": f"unknown role '{role}'; use one of: {', '.join(ROLES)}"})
    with transaction(engine) as conn:
        user = {u.username: u for u in list_users(conn, tenant=tenant, active_only=False)}.get(name)
        if user is None:
            user = add_user(conn, tenant=tenant, username=name, display_name=f"{name} (API)", role=role)
        elif not conn.execute(
            select(api_tokens.c.id).where(api_tokens.c.tenant_id == tenant, api_tokens.c.username == name).limit(1)
        ).first():
            raise ValidationError(
                {"name": f"'{name}' is a person's account: a token needs a service account of its own"}
            )
        if user.role != role or not user.active:
            state = "disabled" if not user.active else f"a {user.role}"
            raise ValidationError({"name": f"the service account '{name}' is {state}; choose another name"})
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        record = dict(
            tenant_id=tenant,
            id=token_id,
            username=user.username,
            secret_hash=_digest(secret),
            created_at=utcnow(),
            created_by=created_by,
        )
        conn.execute(insert(api_tokens).values(**record))
    info = TokenInfo(token_id, tenant, user.username, role, True, record["created_at"], created_by, None, None)
    return f"{PREFIX}_{token_id}_{secret}", info


def list_tokens(engine: Bind, *, tenant: str) -> list[TokenInfo]:
    with connection(engine) as conn:
        people = {user.username: user for user in list_users(conn, tenant=tenant, active_only=False)}
        rows = conn.execute(
            select(api_tokens).where(api_tokens.c.tenant_id == tenant).order_by(api_tokens.c.created_at)
        ).all()
    return [
        TokenInfo(
            r.id,
            r.tenant_id,
            r.username,
            people[r.username].role if r.username in people else "?",
            r.username in people and people[r.username].active,
            r.created_at,
            r.created_by,
            r.last_used_at,
            r.revoked_at,
        )
        for r in rows
    ]


def revoke_token(engine: Bind, *, tenant: str, token_id: str) -> None:
    """Revoke the tenant's token; it is refused from the next request on."""
    with transaction(engine) as conn:
        done = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.tenant_id == tenant, api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if done.rowcount != 1:
            raise ValidationError({"token": f"no active token '{token_id}' in tenant {tenant}"})


def authenticate_token(engine: Bind, token: str | None) -> Principal:
    """The user a bearer token acts as; TokenRejected for anything else."""
    parts = (token or "").split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        raise TokenRejected()
    _, token_id, secret = parts
    with connection(engine) as conn:  # found by its id: the tenant is what the token tells
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        raise TokenRejected()
    who = principal(engine, tenant=row.tenant_id, username=row.username)
    if who is None:
        raise TokenRejected()
    now = utcnow()
    if row.last_used_at is None or now - as_utc(row.last_used_at) > TOUCH_EVERY:
        try:
            with transaction(engine) as conn:
                conn.execute(
                    update(api_tokens)
                    .where(api_tokens.c.tenant_id == row.tenant_id, api_tokens.c.id == token_id)
                    .values(last_used_at=now)
                )
        except DBAPIError:  # a parallel request of the same token wrote it (DuckDB refuses the second write)
            pass
    return who
