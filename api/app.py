"""The REST API (FastAPI): `/api/v1/incidents` for SIEMs, XDRs and SOAR playbooks.

Every route calls the same `core` functions as the pages and the CLI, as the user its bearer token acts as
(`core.tokens`): the tenant comes from the token, never from the request, and another tenant's incident
answers 404 like a missing one. Errors are JSON (`Problem`): 400 malformed body, 401 no valid token, 403 the
token's role may not, 404 not found, 409 changed meanwhile, 413 body too large, 422 invalid input, 503 the
database is unavailable; never a stack trace.
"""
# no `from __future__ import annotations` here: FastAPI reads the routes' annotations at run time

import logging
from typing import Annotated, Literal, get_origin

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.routing import Match
from swagger_ui_bundle import swagger_ui_path

from api import schemas
from api.limits import MAX_BODY_BYTES, BodyLimit
from core import alerts as alert_service
from core import incidents as service
from core.errors import (
    DatabaseUnavailableError,
    IncidentError,
    NotFoundError,
    ValidationError,
    VersionConflictError,
)
from core.permissions import PermissionDeniedError, Principal
from core.stats import incident_stats
from core.tokens import TokenRejected, authenticate_token

log = logging.getLogger("incidents.api")
PREFIX = "/api/v1/incidents"
ERRORS = {
    status: {"model": schemas.Problem, "description": description}
    for status, description in {
        400: "malformed request",
        415: "the body is not sent as application/json",
        401: "no valid API token",
        403: "the token's role may not do this",
        413: f"body larger than {MAX_BODY_BYTES} bytes",
        422: "invalid input; `fields` says which",
        503: "the database is unavailable",
    }.items()
}
NOT_FOUND = {404: {"model": schemas.Problem, "description": "no such incident in the token's tenant"}}
CONFLICT = {409: {"model": schemas.Problem, "description": "someone changed the incident meanwhile"}}
STATUS = {
    ValidationError: 422,
    TokenRejected: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    VersionConflictError: 409,
    DatabaseUnavailableError: 503,
}


#: core's names for what the API calls otherwise, in error messages
API_NAMES = {"search": "q", "tactic": "mitre_tactic", "technique": "mitre_technique", "assignee": "assigned_to"}
MAX_FIELD_ERRORS = 20


def _printable(text: str) -> str:
    """Text that JSON can carry: a lone surrogate (invalid Unicode someone sent) is shown escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _problem(status: int, detail: str, fields: dict | None = None, headers: dict | None = None) -> JSONResponse:
    fields = dict(list((fields or {}).items())[:MAX_FIELD_ERRORS])  # a body of a thousand mistakes: the first
    body = schemas.Problem(
        detail=_printable(detail[:2000]),
        fields={_printable(API_NAMES.get(k, k)): _printable(str(v)[:500]) for k, v in fields.items()},
    )
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _etag(incident: service.Incident) -> str:
    """The incident's version, as a weak tag: linking an alert adds to what GET shows but does not change the
    incident, nor does it conflict with anyone's edit."""
    return f'W/"{incident.version}"'


def _expected_version(if_match: str | None, version: int | None) -> int | None:
    """The version the client read: from If-Match (W/"3", "3" or 3) or the body's `version`."""
    if if_match is None:
        return version
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit() and len(tag) <= 9 and int(tag) >= 1):
        raise ValidationError({"If-Match": 'send the ETag the incident was read with, e.g. W/"3"'})
    if version is not None and version != int(tag):
        raise ValidationError({"version": "the body's version and If-Match disagree"})
    return int(tag)


def _query_as_documented(request: Request) -> None:
    """A misspelt filter (severty=high) is an error, not silently ignored (it would widen the answer), and so
    is a single-valued parameter given twice (which one would count?)."""
    route = request.scope.get("route")
    params = getattr(getattr(route, "dependant", None), "query_params", [])
    known = {param.alias for param in params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ValidationError({unknown[0]: f"is not a parameter here; use: {', '.join(sorted(known)) or 'none'}"})
    repeatable = {param.alias for param in params if get_origin(param.field_info.annotation) is list}
    for name in set(request.query_params) - repeatable:
        if len(request.query_params.getlist(name)) > 1:
            raise ValidationError({name: "is given more than once"})


class UnsupportedMediaType(HTTPException):
    def __init__(self) -> None:
        super().__init__(415, "send the body as JSON, with the header Content-Type: application/json")


def _core_iocs(iocs):
    return [i if isinstance(i, str) else i.model_dump(exclude_none=True) for i in iocs]


def create_app(engine: Engine | None) -> FastAPI:
    """The API on `engine` (None builds only the OpenAPI document)."""
    app = FastAPI(
        title="ThreatOps Incidents API",
        version="1",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " "),
        docs_url=None,  # served below from local files: FastAPI's own page loads Swagger UI from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.add_middleware(BodyLimit)
    _add_docs(app)
    bearer = HTTPBearer(auto_error=False, description="a token from `incidents token add`: tio_…")

    def caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
        return authenticate_token(engine, credentials.credentials if credentials else None)

    Caller = Annotated[Principal, Depends(caller)]

    def checked_caller(request: Request, who: Caller) -> Principal:  # the token first, then the request
        _query_as_documented(request)
        if request.method in ("POST", "PATCH"):
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/json":
                raise UnsupportedMediaType()
        return who

    router = APIRouter(prefix=PREFIX, tags=["incidents"], responses=ERRORS, dependencies=[Depends(checked_caller)])

    def detail(incident: service.Incident, response: Response) -> dict:
        response.headers["ETag"] = _etag(incident)
        linked = alert_service.alerts_of(engine, incident)
        return {**incident.to_dict(), "alerts": [alert.to_dict() for alert in linked]}

    @router.get("/", response_model=schemas.IncidentPage, summary="List incidents")
    def list_incidents(
        who: Caller,
        severity: Annotated[list[schemas.Severity], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
        status: Annotated[list[schemas.Status], Query()] = [],  # noqa: B006
        mitre_tactic: str | None = None,
        mitre_technique: str | None = None,
        source_siem: str | None = None,
        assigned_to: str | None = None,
        unassigned: bool = False,
        q: Annotated[str | None, Query(description="free text over titles, descriptions, IOCs, assets")] = None,
        created_from: schemas.IsoDate | None = None,
        created_to: Annotated[schemas.IsoDate | None, Query(description="inclusive")] = None,
        sort: Literal[tuple(service.SORTS)] = "priority",  # type: ignore[valid-type]
        limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0, le=service.MAX_OFFSET)] = 0,
    ) -> dict:
        filters = service.IncidentFilter(
            severity=tuple(severity),
            status=tuple(status),
            tactic=mitre_tactic,
            technique=mitre_technique,
            source_siem=source_siem,
            assignee=assigned_to,
            unassigned=unassigned,
            search=q,
            created_from=created_from,
            created_to=created_to,
        )
        page = service.list_incidents(engine, tenant=who.tenant, filters=filters, sort=sort, limit=limit, offset=offset)
        return {"items": [i.to_dict() for i in page.items], "total": page.total, "limit": limit, "offset": offset}

    @router.post(
        "/",
        response_model=schemas.IncidentWithAlerts,
        status_code=201,
        summary="Escalate alerts into an incident",
        responses={200: {"model": schemas.IncidentWithAlerts, "description": "it existed: the alerts joined it"}},
    )
    def create_incident(who: Caller, body: schemas.IncidentCreate, response: Response) -> dict:
        """Opens an incident, or, when its source reference or one of its alerts is already known, links the
        alerts to that incident instead (201 created, 200 joined): a retried webhook never opens a second one."""
        data = body.model_dump(exclude={"alerts"}, exclude_none=True)
        data["iocs"] = _core_iocs(body.iocs)
        result = alert_service.escalate(
            engine,
            tenant=who.tenant,
            actor=who.username,
            data=data,
            alerts=[alert.model_dump() for alert in body.alerts],
        )
        response.status_code = 201 if result.created else 200
        response.headers["Location"] = f"{PREFIX}/{result.incident.id}"
        return detail(result.incident, response)

    for view, method, status in ((list_incidents, "GET", 200), (create_incident, "POST", 201)):
        # the same without the trailing slash: a webhook sender may not follow a redirect (nor should a POST)
        router.add_api_route(
            "",
            view,
            methods=[method],
            status_code=status,
            include_in_schema=False,
            response_model=schemas.IncidentPage if method == "GET" else schemas.IncidentWithAlerts,
        )

    @router.get("/stats", response_model=schemas.Stats, summary="Statistics")
    def stats(
        who: Caller, created_from: schemas.IsoDate | None = None, created_to: schemas.IsoDate | None = None
    ) -> dict:
        """Counts, MTTA and MTTR of the incidents created in the period (all when unset), and the open backlog."""
        return incident_stats(engine, tenant=who.tenant, created_from=created_from, created_to=created_to).to_dict()

    @router.get("/{incident_id}", response_model=schemas.IncidentWithAlerts, responses=NOT_FOUND)
    def get_incident(who: Caller, incident_id: str, response: Response) -> dict:
        return detail(service.get_incident(engine, tenant=who.tenant, incident_id=incident_id), response)

    @router.patch("/{incident_id}", response_model=schemas.IncidentWithAlerts, responses={**NOT_FOUND, **CONFLICT})
    def patch_incident(
        who: Caller,
        incident_id: str,
        body: schemas.IncidentPatch,
        response: Response,
        if_match: Annotated[str | None, Header(description="the ETag the incident was read with")] = None,
    ) -> dict:
        """Change the fields sent; a `status` moves the incident through the lifecycle with what that move
        needs (resolution, classification, reason), stamping acknowledged/resolved/closed times once."""
        changes = body.model_dump(exclude_unset=True)
        expected = _expected_version(if_match, changes.pop("version", None))
        if "iocs" in changes:
            changes["iocs"] = _core_iocs(body.iocs or [])
        incident = service.update_incident(
            engine,
            tenant=who.tenant,
            actor=who.username,
            incident_id=incident_id,
            changes=changes,
            expected_version=expected,
        )
        return detail(incident, response)

    app.include_router(router)
    _add_error_handlers(app)
    return app


def _location(loc: tuple) -> str:
    """Where an invalid value was, as the client wrote it: `severity`, `alerts.0.alert_id`, `If-Match`."""
    return ".".join(str(part) for part in loc[1:]) or str(loc[0])


def _add_docs(app: FastAPI) -> None:
    """Interactive documentation at /api/docs that works offline: Swagger UI from the swagger-ui-bundle
    package, served by this app."""
    app.mount("/api/docs/assets", StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title}: documentation",
            swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/assets/swagger-ui.css",
            swagger_favicon_url="/api/docs/assets/favicon-32x32.png",
        )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(IncidentError)
    def incident_error(_request: Request, exc: IncidentError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        fields = exc.errors if isinstance(exc, ValidationError) else None
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return _problem(status, str(exc), fields, headers)

    @app.exception_handler(RequestValidationError)
    def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(error.get("type") == "json_invalid" for error in errors):
            return _problem(400, "the body is not valid JSON")
        fields = {
            ".".join(str(p) for p in error["loc"][1:]) or str(error["loc"][0]): error["msg"].removeprefix(
                "Value error, "
            )
            for error in errors
        }
        return _problem(422, "; ".join(f"{k}: {v}" for k, v in fields.items()), fields)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # Starlette names only the first route's methods for a path with several
            routes = [route for route in app.routes if route.matches(request.scope)[0] != Match.NONE]
            headers["Allow"] = ", ".join(sorted({m for route in routes for m in getattr(route, "methods", ())}))
        return _problem(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(DBAPIError)
    def database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        if type(exc.orig).__name__ == "TransactionException":  # DuckDB: a parallel request wrote the same row
            return _problem(409, "another request changed the same data at the same moment; send it again")
        log.exception("database error")
        return _problem(503, "the database could not answer; try again shortly")

    @app.exception_handler(Exception)
    def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return _problem(500, "internal error: the request was not completed; the server log has the details")
