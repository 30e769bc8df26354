"""Request limits, counted in one place for every web process: Flask-Limiter on Redis when
REDIS_URL is configured (config.RATELIMIT_STORAGE_URI), in memory otherwise (one process).

The client address is the one Werkzeug's ProxyFix settled on (TRUSTED_PROXIES in config.py):
behind nginx without it, every resident and every office would share nginx's address."""
from __future__ import annotations

from flask import render_template
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

limiter = Limiter(key_func=get_remote_address)

# The limits, per client address.
BILL_LOOKUPS = "20 per 10 minutes"          # household codes looked up on the public bill page
WRONG_SURVEY_CODES = "10 per 10 minutes"    # wrong household codes on the public survey
PUBLIC_DEMANDS = "10 per hour"              # demands submitted without login
LOGIN_FAILURES_PER_ADDRESS = "{} per {} minutes"   # 4 × LOGIN_MAX_FAILURES per LOGIN_LOCK_MINUTES


def address_failures(ip: str, limit: int, minutes: int) -> tuple:
    return parse(LOGIN_FAILURES_PER_ADDRESS.format(limit, minutes)), "login-failures", ip


def over(item_and_keys: tuple) -> bool:
    """Whether the count has reached its limit (counts nothing)."""
    item, *keys = item_and_keys
    return not limiter.limiter.test(item, *keys)


def count(item_and_keys: tuple) -> None:
    item, *keys = item_and_keys
    limiter.limiter.hit(item, *keys)


def too_many(e):
    """The 429 page, in Chinese, for every limit (Flask-Limiter's RateLimitExceeded)."""
    item = e.limit.limit
    minutes = max(item.get_expiry() // 60, 1)
    return render_template("errors/error.html", code=429, title="操作过于频繁",
                           text=f"同一网络每 {minutes} 分钟最多 {item.amount} 次，请稍后再试。"), 429
