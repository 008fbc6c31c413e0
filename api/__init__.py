"""The REST API face of ThreatOps Incidents (`incidents serve-api`)."""

from __future__ import annotations

import json


def openapi_document() -> str:
    """The OpenAPI document, as checked into docs/openapi.json."""
    from api.app import create_app

    return json.dumps(create_app(None).openapi(), indent=2, sort_keys=True) + "\n"


def serve(url: str | None, *, host: str, port: int) -> None:
    """Serve the API on the configured database until interrupted."""
    import uvicorn

    from api.app import create_app
    from core.config import resolve_database
    from core.db import open_database

    engine, target = open_database(resolve_database(url))
    print(f"ThreatOps Incidents API on http://{host}:{port}{'/api/docs'} ({target.masked})", flush=True)
    try:
        uvicorn.run(create_app(engine), host=host, port=port, log_level="info", server_header=False)
    finally:
        engine.dispose()
