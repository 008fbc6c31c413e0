"""Sign-in in core on both databases: argon2 hashes, one message, the lock (also against parallel attempts)."""

import contextlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.auth import (
    SIGN_IN_FAILED,
    AuthenticationError,
    authenticate,
    principal_for_email,
    set_password,
)
from core.cli import main
from core.errors import ValidationError
from core.models import users
from core.timeutil import utcnow
from core.users import add_user, disable_user

PASSWORD = "correct horse battery staple"


@pytest.fixture
def db(engine):
    add_user(engine, tenant="a", username="ana", role="manager", email="ana@example.com")
    set_password(engine, username="ana", password=PASSWORD)
    return engine


def test_passwords_are_stored_as_argon2_hashes_only(db):
    with db.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == "ana")).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert authenticate(db, username="ana", password=PASSWORD).role == "manager"
    with pytest.raises(ValidationError, match="at least 12"):
        set_password(db, username="ana", password="short")


@pytest.mark.parametrize("username", ["nobody", "ana", "ANA", "ana\x00", "\ud800"])
def test_every_failure_says_the_same(db, username):
    with pytest.raises(AuthenticationError) as info:
        authenticate(db, username=username, password="wrong password")
    assert str(info.value) == SIGN_IN_FAILED


def test_a_disabled_user_cannot_sign_in(db):
    disable_user(db, username="ana")
    with pytest.raises(AuthenticationError):
        authenticate(db, username="ana", password=PASSWORD)


def test_five_failures_lock_the_account_for_a_while(db):
    now = utcnow()
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            authenticate(db, username="ana", password="wrong password", now=now)
    with pytest.raises(AuthenticationError):
        authenticate(db, username="ana", password=PASSWORD, now=now + timedelta(seconds=29))
    assert authenticate(db, username="ana", password=PASSWORD, now=now + timedelta(seconds=31)).username == "ana"


def test_parallel_attempts_cannot_outrun_the_lock(db):
    def attempt():
        with contextlib.suppress(AuthenticationError):
            authenticate(db, username="ana", password="wrong password")

    for _ in range(3):  # bursts of parallel guesses
        threads = [threading.Thread(target=attempt) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with pytest.raises(AuthenticationError):
        authenticate(db, username="ana", password=PASSWORD)  # locked, though the password is right


def test_single_sign_on_matches_one_user_by_e_mail(db):
    assert principal_for_email(db, email="ANA@example.com").username == "ana"
    with pytest.raises(ValidationError, match="another user has the e-mail"):
        add_user(db, tenant="b", username="ana2", email="Ana@Example.com")
    assert principal_for_email(db, email="nobody@example.com") is None


def test_user_names_are_unique_whatever_the_case_and_clean(db):
    with pytest.raises(ValidationError, match="taken"):
        add_user(db, tenant="b", username="ANA")
    with pytest.raises(ValidationError, match="control characters"):
        add_user(db, tenant="b", username="evil\x1b[31m")


def test_cli_user_add_strips_the_name_and_sets_the_password(db, db_url, monkeypatch):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(PASSWORD + "\n"))
    assert main(["--db", db_url, "--tenant", "a", "user", "add", " bob ", "--role", "admin", "--password-stdin"]) == 0
    assert authenticate(db, username="bob", password=PASSWORD).role == "admin"
