"""The REST API served by uvicorn on a free port, over the test database of each kind, with tokens."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from api.app import create_app
from core.tokens import add_token
from core.users import add_user

A, B = "tenant-a", "tenant-b"


class LiveServer:
    """uvicorn in a thread: real HTTP on 127.0.0.1."""

    def __init__(self, app) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def server(engine):
    with LiveServer(create_app(engine)) as live:
        yield live


@pytest.fixture
def tokens(engine) -> dict[str, str]:
    """Bearer tokens by who they act as: tenant A's viewer, analyst and manager, tenant B's analyst."""
    add_user(engine, tenant=A, username="ana", role="analyst")  # a person incidents may be assigned to
    made = {}
    for key, tenant, role in (
        ("viewer", A, "viewer"),
        ("analyst", A, "analyst"),
        ("manager", A, "manager"),
        ("other", B, "analyst"),
    ):
        made[key], _ = add_token(engine, tenant=tenant, name=f"{key}-bot", role=role, created_by="test")
    return made


@pytest.fixture
def api(server, tokens):
    """call(who, method, path, **kwargs): an HTTP request with that caller's token."""
    clients = {
        who: httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        for who, token in tokens.items()
    }

    def call(who: str, method: str, path: str, **kwargs) -> httpx.Response:
        return clients[who].request(method, f"/api/v1/incidents{path}", **kwargs)

    yield call
    for client in clients.values():
        client.close()
