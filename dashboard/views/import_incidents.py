"""Import (managers): upload an export, preview how its first records map, import it with progress."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core.importers import FORMATS
from core.importers.base import RecordError, UnreadableInput
from core.lifecycle import label
from dashboard import session

SAVED = "import_saved_upload"  # (upload id, path) of the upload being previewed and imported
RESULT = "import_result"  # (upload id, report) of the last import


def _saved(upload) -> Path:
    """The upload as a file (parsers stream from files), named after the upload so messages name it, in a
    private temporary folder (mode 0700) that is removed when another file is chosen or the import is done."""
    saved = st.session_state.get(SAVED)
    if saved and saved[0] == upload.file_id and saved[1].exists():
        return saved[1]
    _discard()
    path = Path(tempfile.mkdtemp(prefix="threatops-upload-")) / Path(upload.name).name
    path.write_bytes(upload.getvalue())
    st.session_state[SAVED] = (upload.file_id, path)
    return path


def _discard() -> None:
    saved = st.session_state.pop(SAVED, None)
    if saved:
        shutil.rmtree(saved[1].parent, ignore_errors=True)


def _preview_table(items) -> pd.DataFrame:
    rows = []
    for item in items:
        if isinstance(item, RecordError):
            rows.append({"Record": item.location, "Result": f"Rejected: {item.reason}"})
            continue
        data = item.data
        rows.append(
            {
                "Record": item.location,
                "Result": "Will import",
                "Title": data["title"],
                "Severity": label(data["severity"]),
                "Status": label(item.final_status),
                "Tactic": data.get("mitre_tactic") or "",
                "Technique": data.get("mitre_technique") or "",
                "Created": item.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                "Assignee": data.get("assigned_to") or "",
            }
        )
    return pd.DataFrame(rows)


def _counted(path: Path, fmt_name: str) -> int:
    fmt = FORMATS[fmt_name]
    return sum(1 for _ in fmt.read(path))


def render() -> None:
    st.title("Import incidents")
    st.caption(
        "Bring incidents in from SIEM/XDR exports, a ServiceNow event log, VERIS records or our own CSV/JSON. "
        "Importing the same file again adds nothing; a changed record updates its incident."
    )
    upload = st.file_uploader("Export file", type=["json", "ndjson", "csv", "tsv", "txt"], key="import_upload")
    fmt_choice = st.selectbox(
        "Format",
        ["auto", *FORMATS],
        key="import_format",
        format_func=lambda f: "Detect from the content" if f == "auto" else FORMATS[f].label,
    )
    if upload is None:
        _discard()
        st.info("Choose a file to see how its first records will be imported.", icon=":material/upload_file:")
        return
    path = _saved(upload)
    try:
        fmt, items = session.preview_import(path, format=fmt_choice)
    except UnreadableInput as exc:
        st.error(f"This file cannot be read: {exc}", icon=":material/error:")
        return
    noun = "record" if len(items) == 1 else f"{len(items)} records"
    st.markdown(f"**Preview** · {fmt.label} · the first {noun}")
    st.dataframe(_preview_table(items), hide_index=True, width="stretch")

    if st.button("Import", type="primary", icon=":material/upload:", key="import_go"):
        with st.status("Counting records…", expanded=True) as status:
            total = max(_counted(path, fmt.name), 1)
            bar = st.progress(0.0, text=f"0 of {total} records")

            def progress(report) -> None:
                bar.progress(min(report.read / total, 1.0), text=f"{report.read} of {total} records")

            report = session.import_file(path, format=fmt.name, progress=progress)
            _discard()
            bar.progress(1.0, text=f"{report.read} of {total} records")
            status.update(
                label=f"Import finished: {report.summary()}", state="complete" if not report.rejected else "error"
            )
        st.session_state[RESULT] = (upload.file_id, report)
    shown = st.session_state.get(RESULT)
    if shown is not None and shown[0] == upload.file_id:  # the result of this file, not of the one before
        report = shown[1]
        cols = st.columns(5)
        for col, (name, value) in zip(
            cols,
            (
                ("Read", report.read),
                ("Created", report.created),
                ("Updated", report.updated),
                ("Unchanged", report.unchanged),
                ("Rejected", len(report.rejected)),
            ),
            strict=True,
        ):
            col.metric(name, f"{value:,}")
        if report.rejected:
            st.markdown("**Rejected records**")
            st.dataframe(
                pd.DataFrame([{"Record": e.location, "Reason": e.reason} for e in report.rejected]),
                hide_index=True,
                width="stretch",
            )
        if report.created or report.updated:
            st.page_link("views/incidents.py", label="Open the incidents", icon=":material/list:")


render()
