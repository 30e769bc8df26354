"""Helpers the tests share: log in, post with the CSRF token, wait for a job."""
from __future__ import annotations

import re
import time
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

from wuye_saas.extensions import db

PASSWORD = "Test-pass-1234"


def csrf_token(client) -> str:
    """The session's CSRF token, read from the page like a browser would."""
    html = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no csrf meta tag on the login page"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert resp.status_code == 302, f"login of {username} failed: {resp.status_code}"
    return resp


def post(client, url: str, data: dict | None = None, **kw):
    """POST with the session's CSRF token, as the site's own forms do."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=data, **kw)


def wait_for_job(app, run_id: int, timeout: float = 180.0) -> dict:
    """Poll the JobRun row until it has finished (inline runs have already); its fields. The
    timeout is generous (CI runs two suites on two cores); past it, what the run, the database
    and the worker were doing is in the message."""
    from wuye_saas.jobs import JobRun
    from wuye_saas.tenancy import system_scope
    deadline = time.time() + timeout
    while True:
        with app.app_context(), system_scope():
            run = db.session.get(JobRun, run_id)
            if run is not None and run.finished:
                return {"status": run.status, "progress": run.progress, "message": run.message,
                        "result": run.result}
        if time.time() > deadline:
            raise AssertionError(f"job {run_id} did not finish in {timeout}s\n" + _job_diagnosis(app, run_id))
        time.sleep(0.2)


def _job_diagnosis(app, run_id: int) -> str:
    """The run's row, the database's busy sessions and the worker log's tail."""
    import os
    from sqlalchemy import text
    from wuye_saas.tenancy import system_scope
    lines = []
    with app.app_context(), system_scope():
        row = db.session.execute(text("SELECT kind, status, progress, message, created_at, heartbeat_at"
                                      " FROM job_run WHERE id = :i"), {"i": run_id}).first()
        lines.append(f"run: {row}")
        if db.engine.dialect.name == "postgresql":
            for r in db.session.execute(text(
                    "SELECT pid, usename, state, wait_event_type, wait_event, now() - xact_start AS age,"
                    " left(query, 200) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND state <> 'idle'")):
                lines.append(f"pg: {tuple(r)}")
    log = os.environ.get("WUYE_TEST_WORKER_LOG")
    if log and os.path.exists(log):
        with open(log, encoding="utf-8", errors="replace") as f:
            lines.append("worker log:\n" + "".join(f.readlines()[-40:]))
    return "\n".join(lines)


class _FormParser(HTMLParser):
    """The successful controls of each <form>, as a browser would submit them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[dict, list[tuple[str, str]]]] = []
        self._select = None      # (name, multiple, [(value, selected)])
        self._option = None      # attrs of the open <option>, its text collected
        self._textarea = None    # (name, [text])
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a, []))
            self._in_form = True
        elif not self._in_form or ("name" not in a and tag in ("input", "select", "textarea")):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.forms[-1][1].append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "reset", "image"):
                self.forms[-1][1].append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = (a["name"], "multiple" in a, [])
        elif tag == "option" and self._select is not None:
            self._option = (a, [])
        elif tag == "textarea":
            self._textarea = (a["name"], [])

    def handle_data(self, data):
        if self._option is not None:
            self._option[1].append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "option" and self._option is not None:
            attrs, text = self._option
            value = attrs["value"] if "value" in attrs else "".join(text).strip()
            self._select[2].append((value, "selected" in attrs))
            self._option = None
        elif tag == "select" and self._select is not None:
            name, multiple, opts = self._select
            chosen = [v for v, sel in opts if sel]
            if not chosen and not multiple and opts:
                chosen = [opts[0][0]]  # a single select always submits something
            self.forms[-1][1].extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.forms[-1][1].append((name, "".join(text).removeprefix("\n")))
            self._textarea = None


def form_data(html: str, action: str = "") -> MultiDict:
    """What submitting the page's form with the given action (default: the page itself) sends."""
    parser = _FormParser()
    parser.feed(html)
    for attrs, fields in parser.forms:
        if attrs.get("action", "") == action and attrs.get("method", "get").lower() == "post":
            return MultiDict(fields)
    raise AssertionError(f"no POST form with action {action!r} on the page")


def filed_with_street(vote):
    """重大事项报备 done for a vote (filed, reported to the party organisation, acknowledged by
    the street), so it may open: for tests about what happens after opening."""
    from wuye_saas.matters import logic as matters
    return matters.file_and_acknowledge(vote, vote.description or vote.title)
