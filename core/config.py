"""Where the database URL comes from: INCIDENTS_DATABASE_URL, then `[database] url` in
`.streamlit/secrets.toml`, then the embedded default (a DuckDB file in the user's data directory,
loaded with the demo dataset on first use)."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir
from sqlalchemy.engine import make_url

from core.errors import DatabaseUnavailableError

ENV_URL = "INCIDENTS_DATABASE_URL"
ENV_DATA_DIR = "INCIDENTS_DATA_DIR"
ENV_DUCKDB_MEMORY = "INCIDENTS_DUCKDB_MEMORY_LIMIT"
#: DuckDB's own default is 80% of the machine's memory, which it fills with cached data; an incident app
#: needs far less (its queries stream, and a million incidents run well in this), and shares the laptop.
DEFAULT_DUCKDB_MEMORY = "512MB"
DEMO_TENANT = "acme"
DEMO_ACTOR = "demo.analyst"
SECRETS_FILES = (Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml")


@dataclass(frozen=True)
class DatabaseTarget:
    url: str
    source: str  # "environment", "secrets", "argument" or "default"

    @property
    def is_embedded_demo(self) -> bool:
        return self.source == "default"

    @property
    def dialect(self) -> str:
        return make_url(self.url).get_backend_name()

    @property
    def masked(self) -> str:
        return mask_url(self.url)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***, safe to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown without anything after a possible '@'
        return url.split("@")[-1]


def duckdb_memory_limit() -> str:
    """How much memory DuckDB may use (INCIDENTS_DUCKDB_MEMORY_LIMIT, e.g. '2GB'; default 512MB)."""
    value = (os.environ.get(ENV_DUCKDB_MEMORY) or DEFAULT_DUCKDB_MEMORY).strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)", value, re.IGNORECASE):
        raise DatabaseUnavailableError(f"{ENV_DUCKDB_MEMORY}='{value}': give a size such as 512MB or 2GB")
    return value


def default_database_path() -> Path:
    base = Path(os.environ.get(ENV_DATA_DIR) or user_data_dir("threatops-incidents", appauthor=False))
    return base / "demo.duckdb"


def _url_from_secrets() -> str | None:
    for path in SECRETS_FILES:
        if path.is_file():
            try:
                with path.open("rb") as handle:
                    section = tomllib.load(handle).get("database", {})
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise DatabaseUnavailableError(f"cannot read {path}: {exc}") from None
            url = section.get("url") if isinstance(section, dict) else None
            if url is not None and not isinstance(url, str):
                raise DatabaseUnavailableError(f"{path}: [database] url must be a text URL")
            if url:
                return url
    return None


def resolve_database(url: str | None = None) -> DatabaseTarget:
    """The database to use: an explicit URL, else the environment, else secrets, else the demo file."""
    if url:
        return DatabaseTarget(url, "argument")
    if os.environ.get(ENV_URL):
        return DatabaseTarget(os.environ[ENV_URL], "environment")
    secret = _url_from_secrets()
    if secret:
        return DatabaseTarget(secret, "secrets")
    return DatabaseTarget(f"duckdb:///{default_database_path()}", "default")
