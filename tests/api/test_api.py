"""The REST API over real HTTP, on DuckDB and PostgreSQL: the seed's routes, the lifecycle, tenants, errors."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from api import openapi_document
from api.limits import MAX_BODY_BYTES
from core import incidents as svc
from core.tokens import revoke_token
from tests.api.conftest import A

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def _new(api, who="analyst", **fields):
    body = {"title": "Beacon to 203.0.113.9", "severity": "high", **fields}
    response = api(who, "POST", "/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_request_without_a_valid_token_is_refused(server, tokens, engine):
    plain = httpx.Client(base_url=server.url)
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Bearer {tokens['analyst']}x"}):
        response = plain.get("/api/v1/incidents/", headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert "API token" in response.json()["detail"]
    token_id = tokens["analyst"].split("_")[1]
    revoke_token(engine, tenant=A, token_id=token_id)
    assert plain.get("/api/v1/incidents/", headers={"Authorization": f"Bearer {tokens['analyst']}"}).status_code == 401


def test_create_read_and_the_timeline_names_the_token(api, engine):
    created = _new(
        api,
        iocs=["hxxps://login-update[.]example[.]com/a"],
        affected_assets=["WS-0042"],
        mitre_technique="T1071.001",
        source_siem="Splunk ES",
    )
    assert created["status"] == "new" and created["version"] == 1
    assert created["mitre_tactic"] == "Command and Control"  # filled from the technique
    assert created["iocs"] == [{"type": "url", "value": "https://login-update.example.com/a"}]
    read = api("viewer", "GET", f"/{created['id']}")
    assert read.status_code == 200 and read.headers["etag"] == 'W/"1"'
    assert {k: v for k, v in read.json().items() if k != "alerts"} == {
        k: v for k, v in created.items() if k != "alerts"
    }
    timeline = svc.get_timeline(engine, tenant=A, incident_id=created["id"])
    assert [(e.kind, e.actor) for e in timeline] == [("created", "analyst-bot")]


def test_a_retried_escalation_links_alerts_instead_of_opening_a_second_incident(api, engine):
    body = {
        "title": "Notable: brute force on VPN",
        "severity": "medium",
        "source_system": "splunk-es",
        "source_ref": "notable-77",
        "alerts": [
            {"source": "Splunk ES", "alert_id": "77", "title": "Brute force", "raised_at": "2026-11-30T10:00:00Z"}
        ],
    }
    first = api("analyst", "POST", "/", json=body)
    assert first.status_code == 201 and first.headers["location"].endswith(first.json()["id"])
    again = api("analyst", "POST", "/", json=body)  # the webhook retried
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    more = {**body, "alerts": [*body["alerts"], {"source": "Splunk ES", "alert_id": "78"}]}
    joined = api("analyst", "POST", "/", json=more)
    assert joined.status_code == 200
    assert [a["alert_id"] for a in joined.json()["alerts"]] == ["77", "78"]
    # a retry without the source reference is matched by an alert it already holds
    by_alert = api("analyst", "POST", "/", json={"title": "x", "severity": "low", "alerts": [body["alerts"][0]]})
    assert by_alert.status_code == 200 and by_alert.json()["id"] == first.json()["id"]
    assert api("analyst", "GET", "/").json()["total"] == 1
    kinds = [e.kind for e in svc.get_timeline(engine, tenant=A, incident_id=first.json()["id"])]
    assert kinds.count("alert_linked") == 2


def test_list_filters_paging_and_total(api):
    phishing = _new(
        api,
        title="Phishing wave",
        severity="medium",
        mitre_technique="T1566.001",
        source_siem="Microsoft Sentinel",
        assigned_to="analyst-bot",
    )
    beacon = _new(
        api,
        title="Beacon",
        severity="critical",
        mitre_technique="T1071.001",
        source_siem="Splunk ES",
        iocs=["198.51.100.7"],
    )
    _new(api, title="Noise", severity="informational")
    api("analyst", "PATCH", f"/{beacon['id']}", json={"status": "investigating"})

    def titles(**params):
        response = api("viewer", "GET", "/", params=params)
        assert response.status_code == 200, response.text
        return [i["title"] for i in response.json()["items"]]

    assert titles() == ["Beacon", "Phishing wave", "Noise"]
    assert titles(severity=["critical", "medium"]) == ["Beacon", "Phishing wave"]
    assert titles(status="investigating") == ["Beacon"]
    assert titles(mitre_tactic="initial-access") == ["Phishing wave"]  # any vendor spelling
    assert titles(mitre_technique="T1566") == ["Phishing wave"]
    assert titles(source_siem="Splunk ES") == ["Beacon"]
    assert titles(assigned_to="analyst-bot") == ["Phishing wave"]
    assert titles(unassigned="true") == ["Beacon", "Noise"]
    assert titles(q="198.51.100[.]7") == ["Beacon"]
    assert titles(created_from=datetime.now(UTC).date().isoformat()) == ["Beacon", "Phishing wave", "Noise"]
    assert titles(created_to="2000-01-01") == []
    assert titles(sort="newest") == ["Noise", "Beacon", "Phishing wave"]
    page = api("viewer", "GET", "/", params={"limit": 2, "offset": 2}).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 2, 1)
    assert phishing["id"] in {i["id"] for i in api("viewer", "GET", "/").json()["items"]}


def test_patch_walks_the_lifecycle_with_its_rules_and_times(api):
    incident = _new(api)
    path = f"/{incident['id']}"
    moved = api("analyst", "PATCH", path, json={"status": "investigating", "assigned_to": "analyst-bot"}).json()
    assert moved["acknowledged_at"] and moved["version"] == 2
    refused = api("analyst", "PATCH", path, json={"status": "resolved"})
    assert refused.status_code == 422 and "resolution" in json.dumps(refused.json()["fields"])
    wrong = api("analyst", "PATCH", path, json={"status": "new"})
    assert wrong.status_code == 422 and "investigating" in wrong.json()["detail"]  # names the allowed moves
    resolved = api("analyst", "PATCH", path, json={"status": "resolved", "resolution": "Host reimaged"}).json()
    assert resolved["resolved_at"] and resolved["closed_at"] is None
    closed = api("analyst", "PATCH", path, json={"status": "closed", "classification": "true_positive"}).json()
    assert closed["closed_at"] and closed["resolved_at"] == resolved["resolved_at"]  # set once, not overwritten
    assert api("analyst", "PATCH", path, json={"status": "investigating", "reason": "again"}).status_code == 403
    reopened = api("manager", "PATCH", path, json={"status": "investigating", "reason": "Beacon seen again"}).json()
    assert reopened["resolved_at"] is None and reopened["closed_at"] is None
    assert reopened["acknowledged_at"] == moved["acknowledged_at"]
    assert reopened["updated_by"] == "manager-bot"


def test_a_stale_version_is_a_conflict_that_names_who_changed_what(api):
    incident = _new(api)
    path = f"/{incident['id']}"
    etag = api("analyst", "GET", path).headers["etag"]
    api("manager", "PATCH", path, json={"severity": "critical"})
    stale = api("analyst", "PATCH", path, json={"title": "mine"}, headers={"If-Match": etag})
    assert stale.status_code == 409
    assert "manager-bot" in stale.json()["detail"] and "severity" in stale.json()["detail"]
    assert api("analyst", "PATCH", path, json={"title": "mine", "version": 1}).status_code == 409
    fresh = api("analyst", "GET", path).headers["etag"]
    done = api("analyst", "PATCH", path, json={"title": "mine"}, headers={"If-Match": fresh})
    assert done.status_code == 200 and done.json()["title"] == "mine" and done.headers["etag"] == 'W/"3"'


def test_tenants_never_see_each_other(api):
    incident = _new(api)
    for method, path, body in (
        ("GET", f"/{incident['id']}", None),
        ("PATCH", f"/{incident['id']}", {"severity": "low"}),
        ("GET", f"/{uuid.uuid4()}", None),
    ):
        response = api("other", method, path, json=body)
        assert response.status_code == 404 and "not found" in response.json()["detail"]
    assert api("other", "GET", "/").json()["total"] == 0
    assert api("other", "GET", "/", params={"q": "203.0.113.9"}).json()["items"] == []
    assert api("other", "GET", "/stats").json()["total"] == 0
    assert api("analyst", "GET", f"/{incident['id']}").json()["severity"] == "high"  # the PATCH did nothing


def test_stats(api):
    incident = _new(api, severity="critical")
    api("analyst", "PATCH", f"/{incident['id']}", json={"status": "investigating"})
    _new(api, severity="low")
    stats = api("viewer", "GET", "/stats").json()
    assert (stats["total"], stats["open"], stats["critical_open"]) == (2, 2, 1)
    assert stats["by_severity"]["critical"] == 1 and stats["mtta"]["count"] == 1
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert api("viewer", "GET", "/stats", params={"created_from": tomorrow}).json()["total"] == 0


def test_bad_input_is_refused_clearly_and_writes_nothing(api):
    cases = [
        (dict(content=b"{not json", headers={"Content-Type": "application/json"}), 400),
        (dict(json={"title": "x", "severity": "urgent"}), 422),
        (dict(json={"title": "x", "severity": "low", "colour": "red"}), 422),
        (dict(json={"title": " ", "severity": "low"}), 422),
        (dict(json={"title": "x", "severity": "low", "mitre_technique": "T9999"}), 422),
        (dict(json={"title": "x", "severity": "low", "iocs": [{"type": "ipv4", "value": "999.1.1.1"}]}), 422),
        (dict(json={"title": "x", "severity": "low", "alerts": [{"source": "s"}]}), 422),
        (dict(content=b"x" * (MAX_BODY_BYTES + 1), headers={"Content-Type": "application/json"}), 413),
    ]
    for request, status in cases:
        response = api("analyst", "POST", "/", **request)
        assert response.status_code == status, (request, response.text)
        assert response.json()["detail"] and "Traceback" not in response.text
    assert api("viewer", "POST", "/", json={"title": "x", "severity": "low"}).status_code == 403
    assert api("analyst", "GET", "/", params={"limit": 0}).status_code == 422
    assert api("analyst", "GET", "/").json()["total"] == 0


def test_a_streamed_body_over_the_limit_is_refused(api):
    def chunks():
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    response = api("analyst", "POST", "/", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_the_checked_in_openapi_document_is_current():
    assert DOCS.read_text(encoding="utf-8") == openapi_document(), (
        "docs/openapi.json is stale: incidents serve-api --openapi > docs/openapi.json"
    )


def test_the_api_shapes_carry_exactly_cores_fields():
    """The OpenAPI shapes are written out for their documentation; they must not drift from core's data."""
    from dataclasses import fields

    from api import schemas
    from core.alerts import Alert
    from core.stats import DurationStats, Stats

    for shape, data in ((schemas.Incident, svc.Incident), (schemas.Alert, Alert), (schemas.Stats, Stats)):
        assert set(shape.model_fields) == {f.name for f in fields(data)}, shape.__name__
    assert set(schemas.Duration.model_fields) == {f.name for f in fields(DurationStats)}
    assert set(schemas.IncidentPatch.model_fields) == set(svc.UPDATABLE) | {"version"}


def _at_once(count: int, call) -> list[httpx.Response]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def test_parallel_escalations_of_one_incident_join_it(api):
    """A SIEM that sends the same case's alerts at the same moment gets one incident holding them all."""
    body = {"title": "Burst", "severity": "high", "source_system": "siem", "source_ref": "case-9"}
    answers = _at_once(
        12, lambda n: api("analyst", "POST", "/", json={**body, "alerts": [{"source": "s", "alert_id": f"a{n}"}]})
    )
    assert sorted(r.status_code for r in answers) == [200] * 11 + [201], [
        r.text for r in answers if r.status_code >= 300
    ]
    assert api("analyst", "GET", "/").json()["total"] == 1
    incident_id = answers[0].json()["id"]
    assert len(api("analyst", "GET", f"/{incident_id}").json()["alerts"]) == 12


def test_parallel_escalations_of_one_alert_never_fail(api):
    body = {"title": "Same alert", "severity": "low", "alerts": [{"source": "edr", "alert_id": "X1"}]}
    answers = _at_once(12, lambda n: api("analyst", "POST", "/", json=body))
    assert sorted(r.status_code for r in answers) == [200] * 11 + [201], [
        r.text for r in answers if r.status_code >= 300
    ]
    assert api("analyst", "GET", "/").json()["total"] == 1


def test_one_source_reference_is_one_incident(api):
    first = {
        "title": "x",
        "severity": "low",
        "source_system": "siem",
        "source_ref": "R1",
        "alerts": [{"source": "edr", "alert_id": "a1"}],
    }
    assert api("analyst", "POST", "/", json=first).status_code == 201
    other_ref = {**first, "source_ref": "R2"}  # a known alert under another reference: refused, not half-joined
    refused = api("analyst", "POST", "/", json=other_ref)
    assert refused.status_code == 422 and "another source reference" in refused.json()["detail"]
    assert api("analyst", "GET", "/").json()["total"] == 1


def test_odd_input_is_a_clear_422_never_a_server_error(api):
    incident = _new(api)
    path = f"/{incident['id']}"
    for if_match in ("\xb2".encode("latin-1"), "9" * 5000, "0", "abc"):  # ², as a header carries it
        response = api("analyst", "PATCH", path, json={"title": "t"}, headers={"If-Match": if_match})
        assert response.status_code == 422 and "If-Match" in response.json()["fields"], if_match
    surrogate = b'{"title": "x", "severity": "low", "mitre_tactic": "\\ud800"}'
    response = api("analyst", "POST", "/", content=surrogate, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"]
    far = {
        "title": "x",
        "severity": "low",
        "alerts": [{"source": "s", "alert_id": "1", "raised_at": "0001-01-01T00:00:00+01:00"}],
    }
    assert api("analyst", "POST", "/", json=far).status_code == 422
    nul = api("analyst", "GET", "/", params={"q": "\x00"})
    assert nul.status_code == 422 and "q" in nul.json()["fields"]
    assert api("analyst", "GET", "/", params=[("sort", "newest"), ("sort", "oldest")]).status_code == 422
    assert api("analyst", "GET", "/", params=[("severity", "high"), ("severity", "low")]).status_code == 200
    plain = api("analyst", "POST", "/", content=b"{}", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415 and "application/json" in plain.json()["detail"]
    assert api("analyst", "PATCH", path, json={"title": "t", "version": True}).status_code == 422
    assert api("analyst", "GET", f"/{incident['id'].upper()}").json()["id"] == incident["id"]
    assert api("analyst", "GET", "/").json()["total"] == 1  # nothing of the above was written


def test_an_analyst_takes_unassigned_incidents_but_not_a_colleagues(api, engine):
    incident = _new(api)
    path = f"/{incident['id']}"
    assert api("manager", "PATCH", path, json={"assigned_to": "ana"}).status_code == 200
    assert api("analyst", "PATCH", path, json={"assigned_to": "analyst-bot"}).status_code == 403
    assert api("analyst", "PATCH", path, json={"assigned_to": None}).status_code == 403
    assert api("analyst", "GET", path).json()["assigned_to"] == "ana"


def test_the_interactive_documentation_works_offline(server):
    page = httpx.get(f"{server.url}/api/docs")
    assert page.status_code == 200 and "cdn" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/api/docs/assets/{asset}" in page.text
        assert httpx.get(f"{server.url}/api/docs/assets/{asset}").status_code == 200


def test_the_collection_answers_without_its_trailing_slash_too(api):
    created = api("analyst", "POST", "", json={"title": "from a webhook", "severity": "low"})
    assert created.status_code == 201
    listed = api("analyst", "GET", "")
    assert listed.status_code == 200 and listed.json()["total"] == 1
