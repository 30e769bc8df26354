"""Keeping the most-read pages (the landing dashboard, the register lists) rendered.

A kept page belongs to one acting membership, one exact address and one kind of response (full
page or HTMX partial), and is valid while the district's `data_version` is the one it was
rendered under. Every committed write in a district bumps that number *after* the commit, on its
own short transaction: a page rendered from data read before a commit was keyed to the old
number, so no reader can keep a page that misses a committed change (the process dying between
commit and bump leaves a page stale until PAGE_CACHE_SECONDS). That bound also covers what
depends on the clock (overdue deadlines, "today"). The CSRF token is bound to the browser
session, so a kept page is cut at it and the current session's token is put back on a hit.
A hit is answered when the request starts (`kept_response`, from the row that decided who is
acting), a miss is rendered and kept by the view's `cached_page` wrapper.

Pages are kept per process (PAGE_CACHE_BYTES each); the version lives in the database, so
several web workers agree on what is stale without sharing memory.
"""
from __future__ import annotations

import struct
import weakref
import zlib
from collections import OrderedDict
from functools import wraps
from itertools import chain
from threading import Lock
from time import monotonic

from flask import Response, current_app, g, make_response, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from .extensions import db, htmx
from .tenancy import Tenant, current_tenant_id

_TOUCHED = "wuye_changed_tenants"


class Memo:
    """A small least-recently-used store with expiry, bounded by the total `size` of what it
    holds (bytes for pages; 1 per entry unless told)."""

    _every: weakref.WeakSet = weakref.WeakSet()   # for `clear()`

    def __init__(self, capacity: int):
        Memo._every.add(self)
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()
        self._size = 0
        self._lock = Lock()   # threaded dev server: one store, several threads

    def get(self, key, version=None):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, ver, size, value = item
            if expires <= monotonic() or ver != version:
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key, value, ttl: float, version=None, size: int = 1) -> None:
        if size > self.capacity:
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (monotonic() + ttl, version, size, value)
            self._size += size
            while self._size > self.capacity:
                self._drop(next(iter(self._items)))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0

    def _drop(self, key) -> None:
        self._size -= self._items.pop(key)[2]


# Change tracking: which districts a transaction wrote to, bumped once it has committed.

@event.listens_for(Session, "after_flush")
def _note_flushed(session, flush_context):
    touched = session.info.setdefault(_TOUCHED, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        tid = obj.id if isinstance(obj, Tenant) else getattr(obj, "tenant_id", None)
        if tid:
            touched.add(tid)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state):
    # Bulk INSERT/UPDATE/DELETE statements bypass the unit of work (bills, escalations).
    if state.is_insert or state.is_update or state.is_delete:
        tid = current_tenant_id()
        if tid:
            state.session.info.setdefault(_TOUCHED, set()).add(tid)


@event.listens_for(Session, "after_commit")
def _bump_versions(session):
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        with db.engine.begin() as conn:
            conn.execute(update(Tenant).where(Tenant.id.in_(sorted(touched)))
                         .values(data_version=Tenant.data_version + 1))


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_TOUCHED, None)


# The kept pages.

_pages: Memo | None = None


def _store() -> Memo:
    global _pages
    if _pages is None:
        _pages = Memo(current_app.config["PAGE_CACHE_BYTES"])
    return _pages


def clear() -> None:
    """Forget everything this process keeps: pages, landing counts, the board's figures."""
    for memo in list(Memo._every):
        memo.clear()


class KeptPage:
    """A rendered page cut at its CSRF tokens, kept plain and gzip-compressed.

    Each piece between two tokens is deflated on its own and ends on a byte boundary (a sync
    flush, the way pigz joins blocks), so a hit joins the compressed pieces with the current
    token as an uncompressed ("stored") deflate block: a valid gzip stream with no compression
    work per request. Browsers always ask for gzip; a page shrinks to about a fifth."""

    __slots__ = ("parts", "packed", "size")

    def __init__(self, body: bytes, token: bytes):
        self.parts = body.split(token)
        last = len(self.parts) - 1
        self.packed = [_deflate(part, final=i == last) for i, part in enumerate(self.parts)]
        self.size = len(body) + sum(map(len, self.packed))

    def plain(self, token: bytes) -> bytes:
        return token.join(self.parts)

    def gzipped(self, token: bytes) -> bytes:
        out, crc, length = [_GZIP_HEADER], 0, 0
        for i, (part, packed) in enumerate(zip(self.parts, self.packed)):
            if i:
                out.append(_stored_block(token))
                crc, length = zlib.crc32(token, crc), length + len(token)
            out.append(packed)
            crc, length = zlib.crc32(part, crc), length + len(part)
        out.append(struct.pack("<II", crc, length & 0xFFFFFFFF))
        return b"".join(out)


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"   # deflate, no name, no mtime, OS unknown


def _deflate(data: bytes, final: bool) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)   # raw deflate: the gzip frame is ours
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def _stored_block(data: bytes) -> bytes:
    # BFINAL=0, BTYPE=00 (stored), padded to the byte; LEN and its one's complement.
    return b"\x00" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data


def _respond(page: KeptPage, outcome: str) -> Response:
    token = generate_csrf().encode()
    if request.accept_encodings["gzip"]:
        resp = Response(page.gzipped(token), mimetype="text/html")
        resp.headers["Content-Encoding"] = "gzip"
    else:
        resp = Response(page.plain(token), mimetype="text/html")
    resp.vary.add("Accept-Encoding")
    resp.headers["X-Page-Cache"] = outcome
    return resp


def _may_keep() -> bool:
    return (current_app.config["PAGE_CACHE_SECONDS"] > 0 and request.method == "GET"
            and "_flashes" not in session)


def _key(acting) -> tuple:
    partial = bool(htmx) and not htmx.history_restore_request
    return (acting.membership_id, acting.user_id, acting.display_name, acting.is_platform_admin,
            request.full_path, partial)


def kept_response(acting) -> Response | None:
    """The kept page for this request, if its view keeps pages and one is valid. Called when
    the request starts, with the row that decided who is acting (web._read_acting): a hit needs
    no ORM object, no user loader and no view."""
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "keeps_page", False) or not _may_keep():
        return None
    page = _store().get(_key(acting), acting.data_version)
    return _respond(page, "hit") if page is not None else None


def cached_page(view):
    """Keep the view's 200 HTML while the district has not changed (kept_response serves it)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _may_keep():
            return view(*args, **kwargs)
        acting = g.acting
        # The version read when the request started, before the view read any data: see the
        # module docstring.
        version = acting.data_version
        resp = make_response(view(*args, **kwargs))
        # Only a plain page: a view that sets its own headers (HX-*, a download) is served as is.
        if (resp.status_code != 200 or resp.mimetype != "text/html" or resp.direct_passthrough
                or set(resp.headers.keys()) - {"Content-Type", "Content-Length"}):
            return resp
        page = KeptPage(resp.get_data(), generate_csrf().encode())
        _store().put(_key(acting), page, current_app.config["PAGE_CACHE_SECONDS"], version, size=page.size)
        return _respond(page, "miss")
    wrapper.keeps_page = True
    return wrapper
