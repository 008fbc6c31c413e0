"""The shapes the REST API reads and writes (they document the OpenAPI contract).

These models check only shape: which fields exist and their JSON types. Every rule (lengths, ATT&CK ids,
IOC types, the lifecycle, who may do what) is `core`'s, so the API answers exactly as the pages and the CLI.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from core.iocs import IOC_TYPES
from core.lifecycle import CLASSIFICATIONS, SEVERITIES, STATUSES

Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
Status = Literal[STATUSES]  # type: ignore[valid-type]
Classification = Literal[CLASSIFICATIONS]  # type: ignore[valid-type]
IocType = Literal[IOC_TYPES]  # type: ignore[valid-type]


def _iso(pattern: str, what: str):
    """Only ISO 8601 text (pydantic alone would also take a number as seconds since 1970)."""

    def check(value):
        if isinstance(value, str) and re.fullmatch(pattern, value.strip()):
            return value.strip()
        raise ValueError(f"{what} in ISO 8601, e.g. {'2026-11-30' if what == 'a date' else '2026-11-30T08:15:00Z'}")

    return BeforeValidator(check)


IsoDate = Annotated[date, _iso(r"\d{4}-\d{2}-\d{2}", "a date")]
IsoDateTime = Annotated[
    datetime, _iso(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", "a time")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class IocIn(Strict):
    value: str
    type: IocType | Literal["auto"] | None = Field(None, description="detected from the value when left out")


class AlertIn(Strict):
    source: str = Field(description="the system that raised the alert, e.g. 'Splunk ES'")
    alert_id: str = Field(description="the alert's id in that system")
    title: str | None = None
    raised_at: IsoDateTime | None = Field(None, description="when the alert was raised (ISO 8601; UTC when no zone)")


class IncidentCreate(Strict):
    title: str
    severity: Severity
    description: str | None = None
    mitre_tactic: str | None = Field(None, description="a tactic name or TA id, any vendor spelling")
    mitre_technique: str | None = Field(None, description="T1234 or T1234.001 (ATT&CK v18.1 or v19)")
    source_siem: str | None = None
    assigned_to: str | None = Field(None, description="an analyst of the tenant")
    affected_assets: list[str] = []
    iocs: list[str | IocIn] = Field([], description="values (type detected) or {type, value}")
    source_system: str | None = Field(None, description="with source_ref: the reference that makes a retry safe")
    source_ref: str | None = None
    alerts: list[AlertIn] = Field([], description="the alerts escalated into this incident")


class IncidentPatch(Strict):
    """Only the fields sent change; null clears a field (assigned_to: null unassigns)."""

    title: str | None = None
    description: str | None = None
    severity: Severity | None = None
    mitre_tactic: str | None = None
    mitre_technique: str | None = None
    source_siem: str | None = None
    assigned_to: str | None = None
    affected_assets: list[str] | None = None
    iocs: list[str | IocIn] | None = None
    status: Status | None = Field(None, description="a move the lifecycle allows from the current status")
    resolution: str | None = Field(None, description="needed to resolve")
    classification: Classification | None = Field(None, description="needed to close")
    reason: str | None = Field(None, description="needed to reopen a resolved or closed incident")
    version: StrictInt | None = Field(None, ge=1, description="the version you read (or If-Match): 409 if it moved on")


class Ioc(BaseModel):
    type: str
    value: str


class Alert(BaseModel):
    source: str
    alert_id: str
    incident_id: str
    title: str | None
    raised_at: datetime | None
    linked_at: datetime
    linked_by: str


class Incident(BaseModel):
    id: str
    tenant_id: str
    title: str
    description: str
    severity: Severity
    status: Status
    mitre_tactic: str | None
    mitre_technique: str | None
    source_siem: str | None
    assigned_to: str | None
    resolution: str | None
    classification: Classification | None
    affected_assets: list[str]
    iocs: list[Ioc]
    source_system: str | None
    source_ref: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    version: int


class IncidentWithAlerts(Incident):
    alerts: list[Alert]


class IncidentPage(BaseModel):
    items: list[Incident]
    total: int = Field(description="how many incidents match, on every page")
    limit: int
    offset: int


class Duration(BaseModel):
    count: int
    median_s: float | None
    p90_s: float | None


class Stats(BaseModel):
    total: int
    critical: int
    by_severity: dict[str, int]
    by_status: dict[str, int]
    by_tactic: dict[str, int]
    by_siem: dict[str, int]
    created_per_day: dict[str, int]
    resolved_per_day: dict[str, int]
    open: int
    critical_open: int
    unassigned_open: int
    by_assignee: dict[str, int]
    backlog_by_age: dict[str, int]
    mtta: Duration
    mttr: Duration
    mtta_by_severity: dict[str, Duration]
    mttr_by_severity: dict[str, Duration]


class Problem(BaseModel):
    """Every error: a sentence saying what is wrong and what to do, and the fields it concerns."""

    detail: str
    fields: dict[str, str] = {}
