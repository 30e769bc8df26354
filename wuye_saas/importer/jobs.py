"""The import job, and handing an uploaded file to it.

The upload is saved under UPLOAD_FOLDER (never under static/) and the job gets only its
relative name, so a worker on another machine finds it on the shared upload storage.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app

from .. import jobs
from . import logic

JOB_KIND = "import"


def upload_path(stored_name: str) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / stored_name


@jobs.job(queue="imports", timeout=3600)
def import_register(run, kind: str, stored_name: str, filename: str) -> None:
    """Validate and write one file; its outcome goes to run.result. Writes join the facade's
    single commit, so a run that dies half-way has written nothing and may simply run again."""
    path = upload_path(stored_name)
    try:
        outcome = logic.import_file(kind, path, filename, run.report)
    finally:
        path.unlink(missing_ok=True)
    run.result = outcome
    # Replaces the last progress line, which would otherwise stay on the finished card.
    run.message = f"共读取 {outcome['rows']} 行数据" if outcome["rows"] else "未读取到数据"


def submit(kind: str, stream, filename: str, user) -> jobs.JobRun:
    """Save the upload, create its JobRun and start it (inline now, or on a worker)."""
    ext = Path(filename).suffix.lower()
    stored_name = f"imports/{secrets.token_hex(16)}{ext}"
    path = upload_path(stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        while chunk := stream.read(1 << 16):
            out.write(chunk)
    label = f"导入{logic.KINDS[kind].label}（{filename}）"
    run = jobs.create_run(import_register, label[:200], kind, stored_name, filename, user=user, kind=JOB_KIND)
    jobs.start(run)
    return run
