"""Sign-in: argon2id password hashes, a lock after repeated failures, and who a user is.

Every failure says the same thing, whether the user is unknown, disabled, locked or the password wrong."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from core.db import Bind, connection, transaction
from core.errors import IncidentError, ValidationError
from core.models import users
from core.permissions import PermissionDeniedError, Principal, require
from core.timeutil import as_utc, utcnow
from core.validation import text

FAILURES_BEFORE_LOCK = 5
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(minutes=15)
MIN_PASSWORD = 12
SIGN_IN_FAILED = "Sign-in failed: unknown user or wrong password (after repeated failures, wait a few minutes)"

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("an unused password that keeps timing alike")


class AuthenticationError(IncidentError):
    """Sign-in refused; the message never tells which part was wrong."""

    def __init__(self) -> None:
        super().__init__(SIGN_IN_FAILED)


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError({"password": f"a password needs at least {MIN_PASSWORD} characters"})
    return _hasher.hash(password)


def set_password(engine: Bind, *, username: str, password: str) -> None:
    hashed = hash_password(password)
    with transaction(engine) as conn:
        done = conn.execute(
            update(users)
            .where(users.c.username == username)
            .values(password_hash=hashed, failed_logins=0, locked_until=None)
        )
        if done.rowcount != 1:
            raise ValidationError({"username": f"no user '{username}'"})


def _principal(row) -> Principal:
    return Principal(row.tenant_id, row.username, row.display_name, row.role)


def _lock_for(failures: int) -> timedelta:
    """30 s after the fifth failure in a row, doubling with each further one, at most 15 minutes."""
    return min(FIRST_LOCK * 2 ** (failures - FAILURES_BEFORE_LOCK), LONGEST_LOCK)


def authenticate(engine: Bind, *, username: str, password: str, now: datetime | None = None) -> Principal:
    """The user signing in with this password; AuthenticationError otherwise (same message for every cause).

    Failures are counted atomically in the database, so parallel attempts cannot outrun the lock. DuckDB
    (one process per file) refuses concurrent updates of a row instead of queueing them, so there the
    attempts of this process are taken one at a time."""
    if engine.dialect.name == "duckdb":
        with _ONE_AT_A_TIME:
            return _authenticate(engine, username, password, now)
    return _authenticate(engine, username, password, now)


_ONE_AT_A_TIME = threading.Lock()


def _authenticate(engine: Bind, username: str, password: str, now: datetime | None) -> Principal:
    now = now or utcnow()
    try:
        name = text(username, limit=100, required=True, single_line=True)
    except ValueError:
        name = None
    try:
        with transaction(engine) as conn:
            row = conn.execute(select(users).where(users.c.username == name)).first() if name else None
            if row is None or not row.password_hash:
                _verify(_DUMMY, password)  # as slow as a real check: timing does not tell who exists
                raise AuthenticationError()
            locked = row.locked_until is not None and as_utc(row.locked_until) > now
            matches = _verify(row.password_hash, password)  # always: timing does not tell locked from wrong
            if not locked and row.active and matches:
                conn.execute(update(users).where(users.c.username == name).values(failed_logins=0, locked_until=None))
                return _principal(row)
            if not locked:
                failures = conn.execute(
                    update(users)
                    .where(users.c.username == name)
                    .values(failed_logins=func.coalesce(users.c.failed_logins, 0) + 1)
                    .returning(users.c.failed_logins)
                ).scalar_one()
                if failures >= FAILURES_BEFORE_LOCK:
                    conn.execute(
                        update(users).where(users.c.username == name).values(locked_until=now + _lock_for(failures))
                    )
    except DBAPIError:  # a concurrent attempt on the same user (DuckDB): refused like any failure
        pass
    raise AuthenticationError()


def _verify(hashed: str, password) -> bool:
    try:
        return _hasher.verify(hashed, password if isinstance(password, str) else "")
    except (VerificationError, InvalidHashError):
        return False


def principal_for_email(engine: Bind, *, email: str) -> Principal | None:
    """The active user with this e-mail (for single sign-on); None when there is none, or more than one
    (an ambiguous identity gets no access rather than a guess)."""
    with connection(engine) as conn:
        rows = conn.execute(
            select(users).where(func.lower(users.c.email) == (email or "").strip().lower(), users.c.active.is_(True))
        ).all()
    return _principal(rows[0]) if len(rows) == 1 else None


def principal(engine: Bind, *, tenant: str, username: str) -> Principal | None:
    """The active user of the tenant with this name, or None."""
    with connection(engine) as conn:
        row = conn.execute(
            select(users).where(users.c.tenant_id == tenant, users.c.username == username, users.c.active.is_(True))
        ).first()
    return _principal(row) if row else None


def authorise(engine: Bind, *, tenant: str, actor: str, action: str) -> Principal:
    """The actor as an active user of the tenant allowed to do `action`; PermissionDeniedError otherwise.

    The service calls this before every write, so a role is enforced whichever face (page, CLI, API) asks."""
    who = principal(engine, tenant=tenant, username=actor)
    if who is None:
        raise PermissionDeniedError(f"'{actor}' is not an active user of this tenant")
    require(who, action)
    return who
