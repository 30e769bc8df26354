"""Residents' public pages (no login): their own bills, verified by the household code."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from flask import request

from ..fees import payments
from ..fees.payment_forms import LookupForm
from ..web import public_blueprint, render

bp = public_blueprint("public", __name__)


class Limiter:
    """At most `limit` lookups per client address in `window` seconds. In-process on purpose:
    there is no table for it (a migration the lead owns), and with several web processes each
    keeps its own count, which only loosens the limit by that factor."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self.hits: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            q = self.hits[key]
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True

    def reset(self):
        with self.lock:
            self.hits.clear()


lookups = Limiter(limit=20, window=600)


@bp.route("/bill", methods=["GET", "POST"])
def bill_lookup():
    # GET ?code= (a link the firm can print) or the form's POST (CSRF-checked by Flask-WTF).
    form = LookupForm(formdata=request.form if request.method == "POST" else request.args,
                      meta={"csrf": request.method == "POST"})
    household, rows, status = None, [], 200
    submitted = request.method == "POST" or "code" in request.args
    if submitted and form.validate():
        if not lookups.allow(request.remote_addr or "?"):
            form.code.errors.append("查询过于频繁，请 10 分钟后再试。")
            status = 429
        else:
            household = payments.household_by_code(form.code.data)
            if household is None:
                form.code.errors.append("未找到该户码")
                status = 404
            else:
                rows = payments.household_bills(household.id)
    elif submitted:
        status = 422
    return render("public/bill.html", form=form, household=household, rows=rows,
                  owner=payments.mask_name(household.owner_name) if household else ""), status
