"""Helpers the tests share: log in, post with the CSRF token, wait for a job."""
from __future__ import annotations

import re
import time

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


def wait_for_job(app, run_id: int, timeout: float = 60.0) -> dict:
    """Poll the JobRun row until it has finished (inline runs have already); its fields."""
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
            raise AssertionError(f"job {run_id} did not finish in {timeout}s")
        time.sleep(0.2)
