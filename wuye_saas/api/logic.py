"""API clients: their tokens, created, rotated and revoked by the district admin, and checked on
every call. Plain functions: they flush (the view commits) or raise ClientProblem.

A token is `wy_<key_id>_<secret>`: the key id names the client (public, stored as is), the
secret is 32 random bytes (urlsafe base64) kept only as its SHA-256. A secret that random needs
no slow hash (nobody can guess one to try it against the hash); it is compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import func, select, update

from .. import policy
from ..extensions import db
from ..org.models import Firm
from ..tenancy import system_scope
from ..timeutil import now
from .models import SCOPES, ApiClient

PREFIX = "wy"
SECRET_BYTES = 32
RATE_MIN, RATE_MAX, RATE_DEFAULT = 1, 6000, 120
TOUCH_EVERY = timedelta(minutes=1)     # last_used_at is written at most this often
TOKEN = re.compile(r"^wy_([0-9a-f]{16})_([A-Za-z0-9_-]{40,64})$")
FIRM_SCOPES = {"fees:write"}           # scopes that need the firm the client acts for


class ClientProblem(ValueError):
    def __init__(self, message: str, field: str = "name", status: int = 422):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(client: ApiClient) -> str:
    """A fresh secret for the client (its hash stored); the token, shown once."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    client.secret_hash = _hash(secret)
    return f"{PREFIX}_{client.key_id}_{secret}"


def clients() -> list[ApiClient]:
    return list(db.session.execute(select(ApiClient).order_by(ApiClient.revoked_at.is_not(None),
                                                              ApiClient.id.desc())).scalars())


def _check(name: str, scopes: list[str], firm_id: int | None, rate: int | None, client: ApiClient | None = None):
    name = (name or "").strip()
    if not name:
        raise ClientProblem("请填写客户端名称。", "name")
    if len(name) > 80:
        raise ClientProblem("客户端名称不能超过 80 个字。", "name")
    clash = select(ApiClient.id).where(func.lower(ApiClient.name) == name.lower())
    if client is not None:
        clash = clash.where(ApiClient.id != client.id)
    if db.session.execute(clash).first():
        raise ClientProblem("本区已有同名的接口客户端。", "name")
    scopes = [s for s in SCOPES if s in set(scopes or ())]
    if not scopes:
        raise ClientProblem("请至少选择一项权限范围。", "scopes")
    if firm_id:
        if db.session.get(Firm, firm_id) is None:
            raise ClientProblem("请选择本区的物业服务企业。", "firm_id")
    elif FIRM_SCOPES & set(scopes):
        raise ClientProblem("“登记缴费”须指定所代表的物业服务企业：只能为该企业服务的小区登记缴费。", "firm_id")
    if rate is None or not RATE_MIN <= rate <= RATE_MAX:
        raise ClientProblem(f"每分钟调用上限应在 {RATE_MIN} 到 {RATE_MAX} 之间。", "rate_per_minute")
    return name, scopes


def create(name: str, scopes: list[str], firm_id: int | None, rate: int | None,
           created_by_id: int | None) -> tuple[ApiClient, str]:
    """A new client and its token (shown once)."""
    name, scopes = _check(name, scopes, firm_id, rate)
    client = ApiClient(name=name, scopes=scopes, firm_id=firm_id or None, rate_per_minute=rate,
                       key_id=secrets.token_hex(8), created_by_id=created_by_id)
    token = _new_secret(client)
    db.session.add(client)
    db.session.flush()
    return client, token


def rotate(client: ApiClient) -> str:
    """A new secret; the old one stops working at once."""
    if not client.active:
        raise ClientProblem("该客户端已停用，不能再轮换密钥。", "name", 409)
    token = _new_secret(client)
    client.rotated_at = now()
    db.session.flush()
    return token


def revoke(client: ApiClient) -> None:
    if not client.active:
        raise ClientProblem("该客户端已停用。", "name", 409)
    client.revoked_at = now()
    db.session.flush()


def status_label(client: ApiClient) -> str:
    return "已停用" if not client.active else "正常"


# --- on every call ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    """The client as the policy sees it (policy.API): membership-like, read as `viewer`."""
    id: int
    tenant_id: int
    name: str
    scopes: tuple
    firm_id: int | None
    rate_per_minute: int
    key_id: str
    last_used_at: object
    active: bool = True
    role: str = policy.API
    street_id: None = None
    community_id: None = None
    compound_id: None = None
    grid_id: None = None
    department_id: None = None
    user_id: None = None

    @property
    def viewer(self):
        return policy.api_viewer(self)

    @property
    def user(self):
        """What the logic functions name as the person acting (a demand's timeline)."""
        return SimpleNamespace(display_name=self.actor_name)

    @property
    def actor_name(self) -> str:
        return f"接口：{self.name}"


_LOOKUP = select(ApiClient.id, ApiClient.tenant_id, ApiClient.name, ApiClient.scopes, ApiClient.firm_id,
                 ApiClient.rate_per_minute, ApiClient.key_id, ApiClient.secret_hash, ApiClient.last_used_at,
                 ApiClient.revoked_at)


def authenticate(token: str) -> tuple[Caller | None, str]:
    """The active client of a token, or None and why ("invalid", "revoked")."""
    m = TOKEN.match(token or "")
    if not m:
        return None, "invalid"
    key_id, secret = m.groups()
    with system_scope():
        row = db.session.execute(_LOOKUP.where(ApiClient.key_id == key_id)).one_or_none()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None, "invalid"
    if row.revoked_at is not None:
        return None, "revoked"
    return Caller(row.id, row.tenant_id, row.name, tuple(row.scopes or ()), row.firm_id, row.rate_per_minute,
                  row.key_id, row.last_used_at), ""


def touch(caller: Caller) -> bool:
    """Note the call in last_used_at, at most once a minute (one UPDATE, not audited: derived)."""
    at = now()
    if caller.last_used_at is not None and at - caller.last_used_at < TOUCH_EVERY:
        return False
    db.session.execute(update(ApiClient).where(ApiClient.id == caller.id).values(last_used_at=at)
                       .execution_options(synchronize_session=False))
    return True
