"""The README's curl session (docs/api-session.sh) runs as written against `incidents serve-api`, on both
databases, and shows what the README says it shows."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "api-session.sh"


def test_the_readme_session(db_url):
    if shutil.which("curl") is None:
        pytest.fail("curl is needed for the README's API session (apt-get install curl)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bin_dir = str(Path(sys.executable).parent)  # where `incidents` is installed
    env = {**os.environ, "INCIDENTS_DATABASE_URL": db_url, "PORT": str(port), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "\n201\n" in out and "200 (the alert joined incident" in out
    assert "globex Impossible travel for r.kowalski Initial Access" in out
    assert out.count("total 1 ['Beacon to 203.0.113.9 from ACME-WS-0233']") == 5  # each filter finds it, only it
    assert 'not found","fields":{}} 404' in out  # the other tenant's token
    assert "422 resolution: resolving needs a resolution" in out
    assert "409 incident" in out and "acme-soar" in out  # the stale If-Match names who changed it
    assert "'status': 'closed'" in out
    assert "{'total': 1, 'open': 0, 'critical_open': 0}" in out
    assert "{'total': 1, 'open': 1}" in out  # globex sees its own incident only
