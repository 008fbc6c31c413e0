"""Benchmark: generate N incidents in bulk, then time what the pages and the CLI ask of the database.

    python -m benchmarks.run --rows 100000 [--db URL] [--json results.json] [--repeat 20]

Without --db it uses a fresh DuckDB file in a temporary folder. The generator follows the demo's
distributions (two tenants 70/30, the demo's severity mix and ATT&CK templates, most older incidents closed)
and writes rows in bulk (DuckDB: from a DataFrame; PostgreSQL: COPY), so that loading is measured apart from
the service's per-incident rules. Every timed operation runs once to warm up, then --repeat times; p50 and p95
are reported in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from core import incidents as svc
from core.config import DatabaseTarget
from core.db import create_engine_for, ensure_schema
from core.demo import HISTORY_TENANT_SHARE, SEVERITY_WEIGHTS, TEMPLATES
from core.lifecycle import OPEN_STATUSES
from core.stats import incident_stats
from core.timeutil import utcnow
from core.users import add_user

TENANTS = tuple(HISTORY_TENANT_SHARE)
SOURCES = ("Splunk ES", "Microsoft Sentinel", "CrowdStrike Falcon", "Palo Alto Cortex XDR", "Elastic Security")
ANALYSTS = tuple(f"analyst{n}" for n in range(6))
BATCH = 100_000
APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def _user(tenant: str, name: str) -> str:
    return f"{tenant}.{name}"


def _rows(count: int, rng: random.Random, now) -> pd.DataFrame:
    severities, weights = zip(*SEVERITY_WEIGHTS.items(), strict=True)
    rows = []
    for _ in range(count):
        tenant = rng.choices(TENANTS, weights=[HISTORY_TENANT_SHARE[t] for t in TENANTS])[0]
        template = rng.choice(TEMPLATES)
        created = now - timedelta(seconds=rng.randint(0, 182 * 86400))
        age_days = (now - created).days
        status = rng.choices(
            ("new", "investigating", "containment", "resolved", "closed"),
            weights=(2, 3, 1, 2, 92) if age_days > 7 else (25, 30, 10, 10, 25),
        )[0]
        assignee = None if status == "new" and rng.random() < 0.5 else _user(tenant, rng.choice(ANALYSTS))
        acknowledged = created + timedelta(minutes=rng.expovariate(1 / 60)) if status != "new" else None
        resolved = acknowledged + timedelta(hours=rng.expovariate(1 / 20)) if status in ("resolved", "closed") else None
        closed = resolved + timedelta(hours=rng.expovariate(1 / 24)) if status == "closed" else None
        host = f"WS-{rng.randint(1, 9999):04d}"
        ip = f"198.51.100.{rng.randint(1, 254)}"
        title = f"{template.title.split('{')[0].strip() or 'Alert'} on {host}"
        rows.append(
            {
                "tenant_id": tenant,
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "title": title,
                "description": f"Detected by {rng.choice(SOURCES)} on {host}.",
                "severity": rng.choices(severities, weights=weights)[0],
                "status": status,
                "mitre_tactic": template.tactic,
                "mitre_technique": template.technique,
                "source_siem": rng.choice(SOURCES),
                "assigned_to": assignee,
                "resolution": "Contained and remediated" if resolved else None,
                "classification": rng.choice(("true_positive", "false_positive", "benign_positive"))
                if closed
                else None,
                "affected_assets": json.dumps([host]),
                "iocs": json.dumps([{"type": "ipv4", "value": ip}]),
                "source_system": None,
                "source_ref": None,
                "source_record": None,
                "search_text": f"{title}\n{ip}\n{host}".lower(),
                "acknowledged_at": acknowledged,
                "resolved_at": resolved,
                "closed_at": closed,
                "created_at": created,
                "updated_at": closed or resolved or acknowledged or created,
                "created_by": _user(tenant, "siem"),
                "updated_by": _user(tenant, "siem"),
                "version": 1,
            }
        )
    return pd.DataFrame(rows)


def _load(engine, frame: pd.DataFrame) -> None:
    """Bulk insert: DuckDB reads the DataFrame directly; PostgreSQL takes COPY."""
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        if engine.dialect.name == "duckdb":
            raw.register("bench_rows", frame)
            raw.execute(f"INSERT INTO incidents ({', '.join(frame.columns)}) SELECT * FROM bench_rows")
            raw.unregister("bench_rows")
        else:
            with raw.cursor() as cursor, cursor.copy(f"COPY incidents ({', '.join(frame.columns)}) FROM STDIN") as copy:
                for row in frame.itertuples(index=False):
                    copy.write_row([None if pd.isna(v) else v for v in row])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE incidents"))


def _timed(run: Callable[[], object], repeat: int) -> dict:
    run()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--db", help="database URL (default: a fresh DuckDB file)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    url = args.db or f"duckdb:///{Path(tempfile.mkdtemp(prefix='bench-')) / 'bench.duckdb'}"
    engine = create_engine_for(DatabaseTarget(url, "argument"))
    ensure_schema(engine)
    for tenant in TENANTS:
        for name in (*ANALYSTS, "siem", "lead"):
            add_user(
                engine, tenant=tenant, username=_user(tenant, name), role="manager" if name == "lead" else "analyst"
            )

    rng, now = random.Random(args.seed), utcnow()
    start = time.perf_counter()
    for offset in range(0, args.rows, BATCH):
        _load(engine, _rows(min(BATCH, args.rows - offset), rng, now))
    load_s = time.perf_counter() - start

    tenant = TENANTS[0]
    open_filter = svc.IncidentFilter(status=OPEN_STATUSES)
    page = svc.list_incidents(engine, tenant=tenant, filters=open_filter, limit=1)
    some_id = page.items[0].id if page.items else None
    total_pages = max(1, (page.total + 49) // 50)
    results = {
        "list_default": lambda: svc.list_incidents(engine, tenant=tenant, filters=open_filter),
        "list_severity": lambda: svc.list_incidents(
            engine, tenant=tenant, filters=svc.IncidentFilter(severity=("critical", "high"))
        ),
        "list_status_severity": lambda: svc.list_incidents(
            engine, tenant=tenant, filters=svc.IncidentFilter(status=("investigating",), severity=("high",))
        ),
        "list_tactic": lambda: svc.list_incidents(
            engine, tenant=tenant, filters=svc.IncidentFilter(tactic="Credential Access")
        ),
        "list_search": lambda: svc.list_incidents(
            engine, tenant=tenant, filters=svc.IncidentFilter(search="198.51.100.17")
        ),
        "list_assignee": lambda: svc.list_incidents(
            engine, tenant=tenant, filters=svc.IncidentFilter(assignee=_user(tenant, "analyst1"))
        ),
        "list_last_page": lambda: svc.list_incidents(
            engine, tenant=tenant, filters=open_filter, offset=(total_pages - 1) * 50
        ),
        "detail": lambda: svc.get_detail(engine, tenant=tenant, incident_id=some_id),
        "transition": lambda: _transition(engine, tenant, some_id),
        "stats": lambda: incident_stats(engine, tenant=tenant),
        "raw_sql_list": lambda: _raw_sql_list(engine, tenant),
        "naive_list": lambda: _naive_list(engine, tenant),
        "page_list": lambda: _page(url, tenant, "views/incidents.py"),
        "page_stats": lambda: _page(url, tenant, "views/statistics.py"),
    }
    timed = {
        name: _timed(run, args.repeat)
        for name, run in results.items()
        if some_id or name not in ("detail", "transition")
    }
    timed["load"] = {"rows_per_s": round(args.rows / load_s)}
    peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report = {"rows": args.rows, "db": engine.dialect.name, "results": timed, "peak_rss_mb": peak_mb}
    engine.dispose()

    print(
        f"{args.rows:,} incidents on {report['db']}; load {timed['load']['rows_per_s']:,} rows/s; peak RSS {peak_mb} MB"
    )
    for name, figures in timed.items():
        if "p50_ms" in figures:
            print(f"  {name:<22} p50 {figures['p50_ms']:>9.2f} ms   p95 {figures['p95_ms']:>9.2f} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _transition(engine, tenant: str, incident_id: str) -> None:
    """One status change (and back, so every run moves the same incident the same way)."""
    current = svc.get_incident(engine, tenant=tenant, incident_id=incident_id)
    target = "containment" if current.status != "containment" else "investigating"
    svc.transition(engine, tenant=tenant, actor=_user(tenant, "lead"), incident_id=incident_id, status=target)


def _raw_sql_list(engine, tenant: str) -> list:
    """The list_default query written by hand: the floor the service is compared with."""
    statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    rank = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SEVERITY_WEIGHTS))
    where = f"tenant_id = :t AND status IN ({statuses})"
    with engine.connect() as conn:
        total = conn.execute(text(f"SELECT count(*) FROM incidents WHERE {where}"), {"t": tenant}).scalar()
        rows = conn.execute(
            text(
                f"SELECT * FROM incidents WHERE {where} ORDER BY CASE severity {rank} ELSE 5 END, created_at, id "
                "LIMIT 50"
            ),
            {"t": tenant},
        ).all()
    return [total, rows]


def _page(url: str, tenant: str, page: str) -> None:
    """A full AppTest run of a dashboard page on this database, signed in as the tenant's lead, with the
    query caches emptied first (the engine stays open, as in a running server)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    os.environ["INCIDENTS_DATABASE_URL"] = url
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["principal"] = {
        "tenant": tenant,
        "username": _user(tenant, "lead"),
        "display_name": "Lead",
        "role": "manager",
    }
    app.run()
    if page != "views/incidents.py":
        app.switch_page(page).run()
    if app.exception:
        raise RuntimeError(f"{page} failed: {app.exception[0].message}")


def _naive_list(engine, tenant: str) -> pd.DataFrame:
    """What a typical Streamlit app does: read the tenant's incidents into pandas, then filter, sort, page."""
    with engine.connect() as conn:
        frame = pd.read_sql(text("SELECT * FROM incidents WHERE tenant_id = :t"), conn, params={"t": tenant})
    open_rows = frame[frame["status"].isin(OPEN_STATUSES)]
    order = {s: i for i, s in enumerate(SEVERITY_WEIGHTS)}
    return open_rows.assign(rank=open_rows["severity"].map(order)).sort_values(["rank", "created_at"]).head(50)


if __name__ == "__main__":
    raise SystemExit(main())
