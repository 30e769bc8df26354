"""Configuration read from the environment when the app is created, never at import."""
import os
import secrets
from pathlib import Path


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    overrides = overrides or {}
    env = os.environ
    db_url = overrides.get("SQLALCHEMY_DATABASE_URI") or env.get("DATABASE_URL")
    if not db_url:
        db_url = "sqlite:///" + str(Path(instance_path) / "wuye.db")
    elif db_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship.
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    # The owner role and the pooler describe DATABASE_URL's database: from the environment only
    # for that database (an app made for another one, a test's SQLite file, takes neither).
    same = _psycopg(env.get("DATABASE_URL") or "") == db_url
    owner_url = _psycopg(overrides.get("DATABASE_OWNER_URL") or (env.get("DATABASE_OWNER_URL", "") if same else "")) or None
    # Behind a pooler in transaction mode (pgbouncer): a server connection serves one
    # transaction at a time, so psycopg must not prepare statements on it (pgbouncer before
    # 1.21 cannot follow them; see README, "Row-level security and pgbouncer").
    pooler = (overrides.get("DATABASE_POOLER") or (env.get("DATABASE_POOLER") if same else "") or "") == "transaction"
    demo = env.get("WUYE_DEMO") == "1"
    secret = env.get("SECRET_KEY")
    if not secret:
        # No default key: a random one per start (sessions reset on restart) unless configured.
        secret = _instance_secret(instance_path)
    cfg = {
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": db_url,
        # The role migrations run as (flask db upgrade); unset: the same as DATABASE_URL.
        "DATABASE_OWNER_URL": owner_url,
        "DATABASE_POOLER": "transaction" if pooler else "",
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"prepare_threshold": None}} if pooler else {},
        # Idle connections are pinged before use (extensions.ping_when_idle), not every checkout.
        "DB_PING_IDLE_SECONDS": float(env.get("DB_PING_IDLE_SECONDS", "10")),
        "REDIS_URL": env.get("REDIS_URL") or None,
        # 0: a commit that wrote outbox messages or webhook deliveries does not start sending them.
        "NOTIFY_KICK": env.get("NOTIFY_KICK", "1") != "0",
        # Networks outside the internet that webhooks and SMS/WeChat endpoints may reach (comma
        # separated CIDRs, e.g. a 政务外网 range); everything else not public is refused (outbound.py).
        "OUTBOUND_ALLOWED_NETWORKS": _networks(env.get("OUTBOUND_ALLOWED_NETWORKS", "")),
        "RQ_QUEUES": ["default", "imports"],
        "DEMO_MODE": demo,
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(Path(instance_path) / "uploads"),
        "MAX_CONTENT_LENGTH": 30 * 1024 * 1024,   # five 5 MB photos and the form
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_I18N_ENABLED": False,  # use WTForms' bundled zh messages (formutil.Form)
        "PER_PAGE": 20,
        "LANDING_COUNTS_SECONDS": int(env.get("LANDING_COUNTS_SECONDS", "60")),
        # Kept pages (pagecache.py): how long at most, and how much memory per process.
        "PAGE_CACHE_SECONDS": int(env.get("PAGE_CACHE_SECONDS", "30")),
        "PAGE_CACHE_BYTES": int(env.get("PAGE_CACHE_BYTES", str(32 * 1024 * 1024))),
        # Login sessions (auth/sessions.py): ended after this long without a request, and
        # this long after the login whatever happens.
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", "120")),
        "SESSION_MAX_HOURS": int(env.get("SESSION_MAX_HOURS", "12")),
        # Password hashing (auth/models.py): argon2id, OWASP's 19 MiB / 2 passes / 1 lane.
        "ARGON2_TIME_COST": int(env.get("ARGON2_TIME_COST", "2")),
        "ARGON2_MEMORY_KIB": int(env.get("ARGON2_MEMORY_KIB", "19456")),
        "ARGON2_PARALLELISM": int(env.get("ARGON2_PARALLELISM", "1")),
        # Request limits (ratelimit.py) shared by every web process through Redis when there is one.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL") or "memory://",
        "RATELIMIT_KEY_PREFIX": "wuye-limits",
        "RATELIMIT_STRATEGY": "moving-window",
        # How many proxies in front of the app set X-Forwarded-For/-Proto (nginx: 1). 0 trusts none.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "LOGIN_MAX_FAILURES": int(env.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCK_MINUTES": int(env.get("LOGIN_LOCK_MINUTES", "15")),
        # Publication signing keys (publicity/keys.py): outside the database by design.
        "PUBLICATION_KEYS_DIR": env.get("WUYE_KEYS_DIR") or str(Path(instance_path) / "keys"),
        "PUBLICATION_KEYS_AUTO_CREATE": _auto_create_keys(env, demo),
        "PUBLICATION_SIGNING_KEYS": {k: v for k, v in env.items() if k.startswith("WUYE_SIGNING_KEY_")},
    }
    cfg.update(overrides)
    return cfg


def _psycopg(url: str) -> str:
    """psycopg 3 is the driver we ship."""
    return "postgresql+psycopg://" + url[len("postgresql://"):] if url.startswith("postgresql://") else url


def _auto_create_keys(env, demo: bool) -> bool:
    """A district without a signing key gets one at its first publication in the embedded
    setup (no DATABASE_URL) and the demo; elsewhere an operator creates it (publishing is
    refused until then), unless WUYE_KEYS_AUTO_CREATE says otherwise."""
    if env.get("WUYE_KEYS_AUTO_CREATE") in ("0", "1"):
        return env["WUYE_KEYS_AUTO_CREATE"] == "1"
    return demo or not env.get("DATABASE_URL")


def _instance_secret(instance_path: str) -> str:
    """A per-installation random key kept in instance/, so the embedded setup needs no config."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _networks(value: str) -> list[str]:
    """Comma-separated CIDRs; a wrong one stops the start (a typo must not open or close a network silently)."""
    import ipaddress
    nets = [n.strip() for n in value.split(",") if n.strip()]
    for n in nets:
        try:
            ipaddress.ip_network(n, strict=False)
        except ValueError as e:
            raise SystemExit(f"OUTBOUND_ALLOWED_NETWORKS: {n!r} is not a network ({e})") from None
    return nets
