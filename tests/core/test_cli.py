"""The `incidents` command's contract: output formats, exit codes, nothing written on bad input."""

import json
import subprocess
import sys

import pytest

from core.cli import main
from core.config import DatabaseTarget
from core.db import create_engine_for
from core.users import add_user


@pytest.fixture
def cli(db_url, capsys):
    """Run the command against the test database; returns (exit code, stdout, stderr)."""
    assert main(["--db", db_url, "init"]) == 0
    engine = create_engine_for(DatabaseTarget(db_url, "argument"))
    add_user(engine, tenant="acme", username="alice")
    engine.dispose()
    capsys.readouterr()

    def run(*args):
        code = main(["--db", db_url, "--actor", "alice", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def create(cli, *extra):
    code, out, err = cli("create", "--title", "Beacon to 203.0.113.9", "--severity", "high", *extra)
    assert code == 0, err
    return out.strip()


def test_create_show_update_comment_list_stats(cli):
    incident_id = create(
        cli,
        "--technique",
        "T1071.001",
        "--siem",
        "Splunk ES",
        "--asset",
        "WS-7",
        "--ioc",
        "203.0.113.9",
        "--ioc",
        "sha256:" + "A" * 64,
    )
    code, out, _ = cli("show", incident_id, "--format", "json")
    shown = json.loads(out)
    assert code == 0 and shown["id"] == incident_id and shown["mitre_tactic"] == "Command and Control"
    assert shown["iocs"][1] == {"type": "sha256", "value": "a" * 64}
    assert shown["created_at"].endswith("Z") and shown["version"] == 1 and shown["classification"] is None
    assert {
        "title",
        "description",
        "severity",
        "status",
        "mitre_technique",
        "source_siem",
        "assigned_to",
        "affected_assets",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "updated_at",
    } <= set(shown)

    code, out, _ = cli("update", incident_id, "--status", "investigating", "--assignee", "alice", "--format", "json")
    assert code == 0 and json.loads(out)["status"] == "investigating" and json.loads(out)["acknowledged_at"]
    assert cli("comment", incident_id, "contained at the proxy")[0] == 0

    code, out, _ = cli("list", "--status", "investigating", "--format", "json")
    assert code == 0 and [i["id"] for i in json.loads(out)] == [incident_id]
    code, out, _ = cli("list", "--format", "csv", "--search", "beacon")
    assert code == 0 and out.splitlines()[0].startswith("id,title") and incident_id in out
    code, out, err = cli("list")
    assert code == 0 and incident_id in out and "1-1 of 1 incidents" in err

    code, out, _ = cli("stats", "--format", "json")
    stats = json.loads(out)
    assert code == 0 and stats["total"] == 1 and stats["open"] == 1 and stats["mtta"]["count"] == 1

    code, out, _ = cli("show", incident_id)
    assert "contained at the proxy" in out and "status: new -> investigating" in out


def test_exit_codes(cli):
    incident_id = create(cli)
    missing = "00000000-0000-4000-8000-000000000000"
    code, out, err = cli("update", incident_id, "--status", "closed", "--classification", "true_positive")
    assert code == 2 and "allowed" not in err and "false_positive" in err and out == ""
    code, _, err = cli("update", incident_id, "--status", "resolved")
    assert code == 2 and err.count("\n") == 1 and "resolution" in err  # one line, no traceback
    assert cli("show", missing)[0] == 3
    assert cli("show", incident_id, "--tenant", "other")[0] == 3  # another tenant's id is "not found"
    assert cli("update", incident_id, "--severity", "low", "--expected-version", "1")[0] == 0
    code, _, err = cli("update", incident_id, "--severity", "critical", "--expected-version", "1")
    assert code == 4 and "alice" in err and "severity" in err
    code, _, err = cli("create", "--title", " ", "--severity", "low")
    assert code == 2 and "title" in err
    code, out, _ = cli("list", "--format", "json")
    assert len(json.loads(out)) == 1  # the rejected create wrote nothing


def test_unreachable_database_names_the_target_without_password(capsys):
    code = main(["--db", "postgresql://admin:s3cret@127.0.0.1:1/incidents", "list"])
    err = capsys.readouterr().err
    assert code == 1 and "s3cret" not in err and "127.0.0.1:1/incidents" in err and "***" in err


def test_console_entry_points_run_without_traceback(db_url):
    for command in ([sys.executable, "-m", "core"], ["incidents"]):
        result = subprocess.run([*command, "--db", db_url, "show", "nope"], capture_output=True, text=True)
        assert result.returncode == 3, result.stderr
        assert result.stderr.strip() == "error: incident nope not found"


def test_api_tokens_are_made_listed_and_revoked(cli, db_url):
    from core.tokens import TokenRejected, authenticate_token

    code, out, err = cli("--tenant", "acme", "token", "add", "--name", "soar", "--role", "analyst")
    assert code == 0 and "shown only now" in err
    token = out.strip()
    assert token.startswith("tio_")
    engine = create_engine_for(DatabaseTarget(db_url, "argument"))
    try:
        who = authenticate_token(engine, token)
        assert (who.tenant, who.username, who.role) == ("acme", "soar", "analyst")
        code, out, _ = cli("--tenant", "acme", "token", "list")
        token_id = token.split("_")[1]
        assert code == 0 and token_id in out and "active" in out and token.split("_")[2] not in out
        assert cli("--tenant", "acme", "token", "add", "--name", "soar", "--role", "manager")[0] == 2  # role differs
        code, _, err = cli("token", "add", "--name", "alice", "--role", "analyst")  # a person, not a service account
        assert code == 2 and "person's account" in err
        assert cli("token", "add", "--name", "soar", "--role", "analyst")[0] == 0  # a second token of the account
        assert cli("--tenant", "other", "token", "revoke", token_id)[0] == 2  # another tenant's token
        assert cli("--tenant", "acme", "token", "revoke", token_id)[0] == 0
        with pytest.raises(TokenRejected):
            authenticate_token(engine, token)
        assert "revoked" in cli("--tenant", "acme", "token", "list")[1]
    finally:
        engine.dispose()


def test_serve_api_prints_the_openapi_document(capsys):
    assert main(["serve-api", "--openapi"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document["paths"]) == {
        "/api/v1/incidents/",
        "/api/v1/incidents/stats",
        "/api/v1/incidents/{incident_id}",
    }
