"""Login sessions kept on the server, so that ending one holds even for a copied cookie.

The signed cookie carries the session's random id (`sid`) and when the browser was last seen
(`seen`, epoch seconds). A session is alive while its row is not revoked, it is younger than the
absolute lifetime (SESSION_MAX_HOURS, counted from the login) and the browser was seen within the
idle lifetime (SESSION_IDLE_MINUTES). `seen` lives in the cookie, refreshed at most once a
minute, so a GET never writes to the database; a copied cookie stays usable only while it is
itself used, and never past the absolute lifetime or a revocation."""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta

from flask import current_app, session
from sqlalchemy import delete, or_, update

from ..extensions import db
from ..timeutil import now
from .models import LoginSession

SEEN_REFRESH_SECONDS = 60   # how stale `seen` may get before the cookie is rewritten


def open_session(user_id: int) -> None:
    """A new session for this browser (after session.clear() and login_user); the caller commits.
    The user's ended sessions are dropped here, so the table holds only live ones and the recent."""
    cut = now() - timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    db.session.execute(delete(LoginSession).where(
        LoginSession.user_id == user_id,
        or_(LoginSession.revoked_at.is_not(None), LoginSession.created_at < cut)))
    sid = secrets.token_urlsafe(32)
    db.session.add(LoginSession(id=sid, user_id=user_id))
    session["sid"], session["seen"] = sid, int(time.time())


def current_sid() -> str | None:
    sid = session.get("sid")
    return sid if isinstance(sid, str) else None


def revoke(user_id: int, keep: str | None = None) -> int:
    """End the user's open sessions (but `keep`, this browser's); how many. The caller commits."""
    stmt = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(LoginSession.id != keep)
    return db.session.execute(stmt.values(revoked_at=now())).rowcount


def end(sid: str | None) -> None:
    """End one session (logging out); the caller commits."""
    db.session.execute(update(LoginSession).where(LoginSession.id == sid, LoginSession.revoked_at.is_(None))
                       .values(revoked_at=now()))


def alive(created_at: datetime, revoked_at: datetime | None) -> bool:
    """Whether the session whose row says this (and whose cookie is the current one) may go on;
    refreshes the cookie's `seen` when it is more than a minute old."""
    cfg, at = current_app.config, time.time()
    seen = session.get("seen")
    if (revoked_at is not None or not isinstance(seen, int)
            or at - seen > cfg["SESSION_IDLE_MINUTES"] * 60
            or now() - created_at > timedelta(hours=cfg["SESSION_MAX_HOURS"])):
        return False
    if at - seen >= SEEN_REFRESH_SECONDS:
        session["seen"] = int(at)
    return True
