"""Opening databases: clear errors naming the target (password masked) and the cause; the demo default."""

import subprocess
import sys
import textwrap

import pytest

from core.config import DatabaseTarget, mask_url, resolve_database
from core.db import create_engine_for, open_database
from core.errors import DatabaseUnavailableError


def test_a_locked_duckdb_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(path)!r})
            print("ready", flush=True)
            sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseUnavailableError) as info:
            create_engine_for(DatabaseTarget(f"duckdb:///{path}", "argument"))
        message = str(info.value)
        assert str(path) in message and "lock" in message.lower() and "one process at a time" in message
    finally:
        holder.communicate("", timeout=10)


def test_an_unreachable_server_names_the_target_without_its_password():
    with pytest.raises(DatabaseUnavailableError) as info:
        create_engine_for(DatabaseTarget("postgresql://admin:hunter2@127.0.0.1:1/soc", "argument"))
    assert "hunter2" not in str(info.value) and "admin:***@127.0.0.1:1/soc" in str(info.value)


def test_unsupported_url_is_refused():
    with pytest.raises(DatabaseUnavailableError, match="unsupported database"):
        create_engine_for(DatabaseTarget("mysql://u:p@h/db", "argument"))


def test_url_resolution_order(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTS_DATABASE_URL", raising=False)
    monkeypatch.setenv("INCIDENTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("core.config.SECRETS_FILES", (tmp_path / ".streamlit" / "secrets.toml",))
    default = resolve_database()
    assert default.is_embedded_demo and default.url == f"duckdb:///{tmp_path / 'data' / 'demo.duckdb'}"
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('[database]\nurl = "duckdb:///from-secrets.duckdb"\n')
    assert resolve_database().url == "duckdb:///from-secrets.duckdb" and resolve_database().source == "secrets"
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", "duckdb:///from-env.duckdb")
    assert resolve_database().source == "environment"
    assert resolve_database("duckdb:///given.duckdb").source == "argument"
    assert mask_url("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"


def test_the_embedded_default_starts_with_the_demo(monkeypatch, tmp_path):
    monkeypatch.delenv("INCIDENTS_DATABASE_URL", raising=False)
    monkeypatch.setenv("INCIDENTS_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("core.config.SECRETS_FILES", ())
    engine, target = open_database()
    try:
        from core.incidents import list_incidents

        assert target.is_embedded_demo and (tmp_path / "demo.duckdb").exists()
        assert list_incidents(engine, tenant="acme").total > 100
    finally:
        engine.dispose()


def test_duckdb_memory_is_bounded_and_a_bad_limit_is_a_clear_error(tmp_path, monkeypatch):
    from sqlalchemy import text

    target = DatabaseTarget(f"duckdb:///{tmp_path / 'm.duckdb'}", "argument")
    engine = create_engine_for(target)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_setting('memory_limit')")).scalar() == "488.2 MiB"  # 512 MB
    engine.dispose()
    monkeypatch.setenv("INCIDENTS_DUCKDB_MEMORY_LIMIT", "2GB")
    engine = create_engine_for(target)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_setting('memory_limit')")).scalar() == "1.8 GiB"
    engine.dispose()
    monkeypatch.setenv("INCIDENTS_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(DatabaseUnavailableError, match="INCIDENTS_DUCKDB_MEMORY_LIMIT='lots'"):
        create_engine_for(target)
