"""The `incidents` command (also `python -m core`) for operators and scripts.

Exit codes: 0 done, 1 the database could not be opened (import: some records were rejected), 2 invalid
input (nothing written; import: nothing could be read), 3 not found, 4 version conflict, 5 not allowed
(the --actor is not a user of the tenant, or their role does not allow it).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import date
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from core import incidents as service
from core.config import DEMO_TENANT, resolve_database
from core.db import open_database
from core.errors import DatabaseUnavailableError, NotFoundError, ValidationError, VersionConflictError
from core.export import write_csv, write_json
from core.iocs import defang
from core.lifecycle import CLASSIFICATIONS, SEVERITIES, STATUSES
from core.permissions import ROLES, PermissionDeniedError
from core.stats import incident_stats
from core.timeutil import iso

EXIT_OK, EXIT_UNAVAILABLE, EXIT_INVALID, EXIT_NOT_FOUND, EXIT_CONFLICT = 0, 1, 2, 3, 4
EXIT_SOME_REJECTED = 1  # import: some records were rejected (the others were imported)
EXIT_DENIED = 5
LIST_COLUMNS = (("id", 36), ("severity", 13), ("status", 13), ("assigned_to", 14), ("created_at", 20), ("title", 60))


def _default_actor() -> str:
    return os.environ.get("INCIDENTS_ACTOR") or f"cli:{getpass.getuser()}"


def _global_options(defaults: bool) -> argparse.ArgumentParser:
    """--db/--tenant/--actor, accepted before or after the command name."""
    options = argparse.ArgumentParser(add_help=False)
    default = (lambda value: value) if defaults else (lambda value: argparse.SUPPRESS)
    options.add_argument(
        "--db",
        metavar="URL",
        default=default(None),
        help="database URL (default: INCIDENTS_DATABASE_URL, secrets, embedded demo)",
    )
    options.add_argument("--tenant", default=default(DEMO_TENANT), help=f"tenant to act in (default: {DEMO_TENANT})")
    options.add_argument("--actor", default=default(None), help="who changes are recorded as (default: cli:<login>)")
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incidents", description="ThreatOps Incidents from the command line.", parents=[_global_options(True)]
    )
    sub_options = _global_options(False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_command(name: str, **kwargs) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[sub_options], **kwargs)

    add_command("init", help="create or migrate the schema")
    demo = add_command("demo", help="load the demo dataset into an empty database")
    demo.add_argument("--reset", action="store_true", help="delete ALL data first, then load the demo")

    listing = add_command("list", help="list incidents")
    listing.add_argument("--severity", action="append", choices=SEVERITIES, default=[], type=str.lower)
    listing.add_argument("--status", action="append", choices=STATUSES, default=[], type=str.lower)
    listing.add_argument("--tactic")
    listing.add_argument("--technique")
    listing.add_argument("--siem")
    group = listing.add_mutually_exclusive_group()
    group.add_argument("--assignee")
    group.add_argument("--unassigned", action="store_true")
    listing.add_argument("--search")
    listing.add_argument("--from", dest="created_from", type=date.fromisoformat, metavar="YYYY-MM-DD")
    listing.add_argument("--to", dest="created_to", type=date.fromisoformat, metavar="YYYY-MM-DD")
    listing.add_argument("--sort", choices=tuple(service.SORTS), default="priority")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--offset", type=int, default=0)
    listing.add_argument("--all", action="store_true", help="every match, an export (managers; ignores --limit)")
    listing.add_argument("--format", choices=("table", "json", "csv"), default="table")

    show = add_command("show", help="show one incident with its timeline")
    show.add_argument("id")
    show.add_argument("--format", choices=("text", "json"), default="text")

    create = add_command("create", help="create an incident")
    create.add_argument("--title", required=True)
    create.add_argument("--severity", required=True, choices=SEVERITIES, type=str.lower)
    create.add_argument("--description")
    create.add_argument("--tactic")
    create.add_argument("--technique")
    create.add_argument("--siem")
    create.add_argument("--asset", action="append", default=[])
    create.add_argument("--ioc", action="append", default=[], help="VALUE or TYPE:VALUE (e.g. sha256:ab12...)")
    create.add_argument("--assignee")
    create.add_argument("--format", choices=("text", "json"), default="text")

    upd = add_command("update", help="change fields or move an incident through the lifecycle")
    upd.add_argument("id")
    upd.add_argument("--status", choices=STATUSES, type=str.lower)
    upd.add_argument("--severity", choices=SEVERITIES, type=str.lower)
    upd.add_argument("--assignee", help="analyst user name; an empty string unassigns")
    upd.add_argument("--resolution")
    upd.add_argument("--classification", choices=CLASSIFICATIONS, type=str.lower)
    upd.add_argument("--reason", help="why a resolved or closed incident is reopened")
    upd.add_argument("--expected-version", type=int, help="fail with exit 4 if the incident changed meanwhile")
    upd.add_argument("--format", choices=("text", "json"), default="text")

    comment = add_command("comment", help="add a comment to an incident's timeline")
    comment.add_argument("id")
    comment.add_argument("text")

    importing = add_command("import", help="import incidents from SIEM/XDR exports, ServiceNow, VERIS, CSV/JSON")
    importing.add_argument(
        "--format",
        default="auto",
        choices=("auto", *_import_formats()),
        help="the files' format (default: detect it from the content)",
    )
    importing.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")

    user = add_command("user", help="manage users (operators with database access)")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    user_add = user_commands.add_parser("add", parents=[sub_options], help="add a user to a tenant")
    user_add.add_argument("name")
    user_add.add_argument("--role", default="analyst", choices=ROLES, type=str.lower)
    user_add.add_argument("--email")
    user_add.add_argument("--display-name")
    user_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user_commands.add_parser("list", parents=[sub_options], help="the tenant's users")
    user_disable = user_commands.add_parser("disable", parents=[sub_options], help="stop a user signing in or acting")
    user_disable.add_argument("name")
    user_password = user_commands.add_parser(
        "set-password", parents=[sub_options], help="set a user's password (from standard input)"
    )
    user_password.add_argument("name")
    user_password.add_argument("--password-stdin", action="store_true", required=True)

    token = add_command("token", help="API tokens for SIEMs and SOAR playbooks (operators with database access)")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    token_add = token_commands.add_parser(
        "add", parents=[sub_options], help="make a token for the tenant (it is printed once)"
    )
    token_add.add_argument("--name", required=True, help="the service account it acts as (made if missing)")
    token_add.add_argument("--role", required=True, choices=ROLES, type=str.lower)
    token_commands.add_parser("list", parents=[sub_options], help="the tenant's tokens")
    token_revoke = token_commands.add_parser(
        "revoke", parents=[sub_options], help="revoke a token (by the id `token list` shows)"
    )
    token_revoke.add_argument("id")

    serve = add_command("serve-api", help="serve the REST API (/api/v1/incidents; docs at /api/docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--openapi", action="store_true", help="print the OpenAPI document and exit")

    stats = add_command("stats", help="statistics (MTTA/MTTR, counts)")
    stats.add_argument("--from", dest="created_from", type=date.fromisoformat, metavar="YYYY-MM-DD")
    stats.add_argument("--to", dest="created_to", type=date.fromisoformat, metavar="YYYY-MM-DD")
    stats.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _import_formats() -> tuple[str, ...]:
    from core.importers import FORMATS

    return tuple(FORMATS)


def _run_import(engine, args) -> int:
    from core.importers import import_paths

    report = import_paths(
        engine, tenant=args.tenant, actor=args.actor or _default_actor(), paths=args.paths, format=args.format
    )
    for message in report.unreadable:
        print(f"unreadable  {message}")
    for error in report.rejected:
        print(f"rejected    {error.location}: {error.reason}")
    print(report.summary() + (f", unreadable files {len(report.unreadable)}" if report.unreadable else ""))
    if report.nothing_read:
        return EXIT_INVALID
    return EXIT_OK if not (report.rejected or report.unreadable) else EXIT_SOME_REJECTED


def _password_from_stdin() -> str:
    return sys.stdin.readline().rstrip("\n")


def _run_user(engine, args) -> None:
    from core import auth, users

    if args.user_command == "add":
        password = _password_from_stdin() if args.password_stdin else None
        if password is not None:
            auth.hash_password(password)  # refuse a weak password before anything is written
        added = users.add_user(
            engine,
            tenant=args.tenant,
            username=args.name,
            display_name=args.display_name,
            email=args.email,
            role=args.role,
        )
        if password is not None:
            auth.set_password(engine, username=added.username, password=password)
        print(f"added {added.username} ({args.role}) to tenant {args.tenant}")
    elif args.user_command == "list":
        for person in users.list_users(engine, tenant=args.tenant, active_only=False):
            state = "" if person.active else "  (disabled)"
            print(f"{person.username:<24} {person.role:<8} {person.display_name:<28} {person.email or ''}{state}")
    elif args.user_command == "disable":
        users.disable_user(engine, username=args.name)
        print(f"disabled {args.name}")
    else:
        auth.set_password(engine, username=args.name, password=_password_from_stdin())
        print(f"password set for {args.name}")


def _run_token(engine, args) -> None:
    from core import tokens, users

    if args.token_command == "add":
        new_tenant = not users.tenant_exists(engine, tenant=args.tenant)
        token, info = tokens.add_token(
            engine, tenant=args.tenant, name=args.name, role=args.role, created_by=args.actor or _default_actor()
        )
        print(token)
        made = " (a new tenant: check its name)" if new_tenant else ""
        print(
            f"token {info.id} acts as {info.username} ({info.role}) in tenant {info.tenant_id}{made}; "
            "it is shown only now",
            file=sys.stderr,
        )
    elif args.token_command == "list":
        for info in tokens.list_tokens(engine, tenant=args.tenant):
            used = iso(info.last_used_at) or "never used"
            state = f"revoked {iso(info.revoked_at)}" if info.revoked_at else "active"
            state = state if info.user_active else f"{state}, account disabled (refused)"
            print(f"{info.id}  {info.username:<24} {info.role:<8} {state:<30} last used {used}")
    else:
        tokens.revoke_token(engine, tenant=args.tenant, token_id=args.id)
        print(f"revoked {args.id}")


def _ioc_arg(raw: str):
    from core.iocs import IOC_TYPES

    kind, sep, value = raw.partition(":")
    if sep and kind.lower() in IOC_TYPES and not value.startswith("//"):
        return {"type": kind.lower(), "value": value}
    return raw


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _print_incident(incident: service.Incident, timeline=None) -> None:
    data = incident.to_dict()
    width = max(len(k) for k in data)
    for key, value in data.items():
        if key == "iocs":  # defanged, as the dashboard shows them: safe to paste into a chat or a ticket
            value = ", ".join(f"{defang(v['type'], v['value'])} ({v['type']})" for v in value)
        elif isinstance(value, list):
            value = ", ".join(value)
        print(f"{key:<{width}}  {'' if value is None else value}")
    for event in timeline or []:
        change = f"{event.field}: {event.old_value or '—'} -> {event.new_value or '—'}" if event.field else ""
        note = (event.note or "").replace("\n", " ")
        print(f"  {event.to_dict()['at']}  {event.actor:<24} {event.kind:<15} {change} {note}".rstrip())


def _cell(value, width: int) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _run_list(engine, args) -> None:
    filters = service.IncidentFilter(
        severity=tuple(args.severity),
        status=tuple(args.status),
        tactic=args.tactic,
        technique=args.technique,
        source_siem=args.siem,
        assignee=args.assignee,
        unassigned=args.unassigned,
        search=args.search,
        created_from=args.created_from,
        created_to=args.created_to,
    )
    if args.all:  # every match: an export, which is a manager's
        from core.auth import authorise

        authorise(engine, tenant=args.tenant, actor=args.actor or _default_actor(), action="export")
        rows = service.iter_incidents(engine, tenant=args.tenant, filters=filters, sort=args.sort)
        total = None
    else:
        page = service.list_incidents(
            engine, tenant=args.tenant, filters=filters, sort=args.sort, limit=args.limit, offset=args.offset
        )
        rows, total = page.items, page.total
    if args.format == "json":
        count = write_json(rows, sys.stdout)
    elif args.format == "csv":
        count = write_csv(rows, sys.stdout)
    else:
        print("  ".join(f"{name:<{width}}" for name, width in LIST_COLUMNS).rstrip())
        count = 0
        for incident in rows:
            data = incident.to_dict()
            print("  ".join(f"{_cell(data[name], width):<{width}}" for name, width in LIST_COLUMNS).rstrip())
            count += 1
    if args.format == "table":
        if total is None:
            print(f"\n{count} incidents", file=sys.stderr)
        else:
            shown = f"{args.offset + 1}-{args.offset + count}" if count else "0"
            print(f"\n{shown} of {total} incidents", file=sys.stderr)


def _run(args) -> int:
    engine, target = open_database(resolve_database(args.db), demo_if_empty=args.command != "demo")
    try:
        actor = args.actor or _default_actor()
        tenant = args.tenant
        if args.command == "init":
            print(f"schema ready on {target.masked}")
        elif args.command == "demo":
            from core.db import is_empty
            from core.demo import load_demo, reset_demo

            if args.reset:
                counts = reset_demo(engine)
            elif is_empty(engine):
                counts = load_demo(engine)
            else:
                print(f"{target.masked} already holds data; use --reset to replace it with the demo")
                return EXIT_OK
            print(f"demo loaded into {target.masked}: {counts}")
        elif args.command == "list":
            _run_list(engine, args)
        elif args.command == "show":
            detail = service.get_detail(engine, tenant=tenant, incident_id=args.id)
            if args.format == "json":
                _print_json({**detail.incident.to_dict(), "timeline": [e.to_dict() for e in detail.timeline]})
            else:
                _print_incident(detail.incident, detail.timeline)
        elif args.command == "create":
            data = {
                "title": args.title,
                "severity": args.severity,
                "description": args.description,
                "mitre_tactic": args.tactic,
                "mitre_technique": args.technique,
                "source_siem": args.siem,
                "affected_assets": args.asset,
                "iocs": [_ioc_arg(value) for value in args.ioc],
                "assigned_to": args.assignee,
            }
            incident = service.create_incident(
                engine, tenant=tenant, actor=actor, data={k: v for k, v in data.items() if v is not None}
            )
            _print_json(incident.to_dict()) if args.format == "json" else print(incident.id)
        elif args.command == "update":
            changes = {
                "status": args.status,
                "severity": args.severity,
                "resolution": args.resolution,
                "classification": args.classification,
                "reason": args.reason,
            }
            changes = {k: v for k, v in changes.items() if v is not None}
            if args.assignee is not None:
                changes["assigned_to"] = args.assignee or None
            if not changes:
                raise ValidationError({"update": "nothing to change: give at least one option"})
            incident = service.update_incident(
                engine,
                tenant=tenant,
                actor=actor,
                incident_id=args.id,
                changes=changes,
                expected_version=args.expected_version,
            )
            if args.format == "json":
                _print_json(incident.to_dict())
            else:
                print(f"{incident.id} {incident.status} version {incident.version}")
        elif args.command == "comment":
            event = service.add_comment(engine, tenant=tenant, actor=actor, incident_id=args.id, text=args.text)
            print(event.id)
        elif args.command == "user":
            _run_user(engine, args)
        elif args.command == "token":
            _run_token(engine, args)
        elif args.command == "import":
            return _run_import(engine, args)
        elif args.command == "stats":
            stats = incident_stats(engine, tenant=tenant, created_from=args.created_from, created_to=args.created_to)
            if args.format == "json":
                _print_json(stats.to_dict())
            else:
                _print_stats(stats)
        return EXIT_OK
    finally:
        engine.dispose()


def _hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.1f} h"


def _print_stats(stats) -> None:
    print(
        f"total {stats.total}  open {stats.open}  critical open {stats.critical_open}  "
        f"unassigned open {stats.unassigned_open}"
    )
    print(f"MTTA median {_hours(stats.mtta.median_s)}  p90 {_hours(stats.mtta.p90_s)}")
    print(f"MTTR median {_hours(stats.mttr.median_s)}  p90 {_hours(stats.mttr.p90_s)}")
    for title, counts in (("severity", stats.by_severity), ("status", stats.by_status), ("SIEM", stats.by_siem)):
        print(f"by {title}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _serve_api(args) -> int:
    import api

    if args.openapi:
        sys.stdout.write(api.openapi_document())
    else:
        api.serve(args.db, host=args.host, port=args.port)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _serve_api(args) if args.command == "serve-api" else _run(args)
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except NotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except VersionConflictError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFLICT
    except PermissionDeniedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_DENIED
    except DatabaseUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except BrokenPipeError:
        return EXIT_OK
    except SQLAlchemyError as exc:  # a refusal the checks above did not foresee: one line, no traceback
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        print(
            f"error: the database refused the operation: {cause[0] if cause else type(exc).__name__}", file=sys.stderr
        )
        return EXIT_UNAVAILABLE


if __name__ == "__main__":
    sys.exit(main())
