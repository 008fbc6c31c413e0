"""One real flow in headless Debian Chromium against `streamlit run`: list -> critical -> incident -> investigating.

Screenshots go to test-artifacts/e2e/ (kept by CI as artifacts)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from core import incidents as svc
from core.auth import set_password
from core.config import DatabaseTarget
from core.db import create_engine_for, ensure_schema
from core.timeutil import utcnow
from core.users import add_user
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install -e '.[dev]')")
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path):
    """`streamlit run dashboard/app.py` on a DuckDB file seeded through core."""
    url = f"duckdb:///{tmp_path / 'e2e.duckdb'}"
    engine = create_engine_for(DatabaseTarget(url, "argument"))
    ensure_schema(engine)
    add_user(engine, tenant="acme", username="demo.analyst", display_name="Demo Analyst")
    add_user(engine, tenant="acme", username="j.chen", display_name="Jia Chen")
    set_password(engine, username="demo.analyst", password=PASSWORD)
    now = utcnow()
    critical = svc.create_incident(
        engine,
        tenant="acme",
        actor="j.chen",
        at=now - timedelta(hours=2),
        data={
            "title": "LockBit ransomware on FS-01",
            "severity": "critical",
            "mitre_technique": "T1486",
            "source_siem": "Splunk ES",
            "iocs": ["203.0.113.7"],
            "affected_assets": ["FS-01"],
        },
    )
    for title, severity in (("Beacon to rare domain", "high"), ("Port scan from guest Wi-Fi", "low")):
        svc.create_incident(engine, tenant="acme", actor="j.chen", data={"title": title, "severity": severity})
    engine.dispose()  # DuckDB: one process at a time; the server opens it next

    port = _free_port()
    env = {
        **os.environ,
        "INCIDENTS_DATABASE_URL": url,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "dashboard" / "app.py"),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"streamlit did not start: {process.stdout.read().decode()[-2000:]}")
    yield base, critical, url
    process.terminate()
    process.wait(timeout=20)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _settle(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=30_000)
    page.wait_for_timeout(300)


def test_triage_flow_in_chromium(browser, server):
    from playwright.sync_api import expect

    base, critical, _url = server
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(base)
    page.get_by_label("User name").fill("demo.analyst")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    _shot(page, "00-sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Incidents", exact=True).first).to_be_visible(timeout=30_000)
    _settle(page)
    expect(page.get_by_text(re.compile(r"of 3 incidents\b"))).to_be_visible()
    _shot(page, "01-list")

    severity = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    severity.click()
    page.get_by_role("option", name="Critical").click()
    page.keyboard.press("Escape")
    _settle(page)
    expect(page.get_by_text(re.compile(r"of 1 incident\b"))).to_be_visible()
    assert "severity=critical" in page.url
    _shot(page, "02-critical")

    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.move(box["x"] + 260, box["y"] + 35 + 17)
    page.wait_for_timeout(500)  # the grid draws on a canvas: let it take the pointer first
    page.mouse.click(box["x"] + 260, box["y"] + 35 + 17)  # the title of the first row, as an analyst clicks
    expect(page.get_by_role("heading", name="LockBit ransomware on FS-01")).to_be_visible(timeout=30_000)
    _settle(page)
    assert f"id={critical.id}" in page.url
    _shot(page, "03-detail")

    page.get_by_role("button", name="Move to Investigating").click()
    _settle(page)
    expect(page.get_by_text("moved it: New → Investigating")).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    _shot(page, "04-investigating")
    page.close()


def _sign_in_at(page, url: str) -> None:
    """Open a URL (a new session, so signed out) and sign in: the app then opens that page."""
    page.goto(url)
    page.get_by_label("User name").fill("demo.analyst")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_timeout(1500)
    _settle(page)


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_every_page_by_deep_link_after_sign_in(browser, server, width, height):
    """Each page's URL asks for sign-in, then opens that page, with no exception; screenshots at desktop
    and phone size go to test-artifacts/e2e/pages-*."""
    from playwright.sync_api import expect

    base, critical, _url = server
    page = browser.new_page(viewport={"width": width, "height": height})
    expected = {
        "list": ("/", "Incidents"),
        "detail": (f"/incident?id={critical.id}", "LockBit ransomware on FS-01"),
        "new": ("/new", "New incident"),
        "statistics": ("/statistics", "Statistics"),
    }
    for name, (path, heading) in expected.items():
        _sign_in_at(page, base + path)
        expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=30_000)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        _shot(page, f"pages-{name}-{width}")
    page.close()
