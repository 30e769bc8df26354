"""The demo district: a realistic, deterministic district modelled on 长治市潞州区 (seeds/002),
created by `flask --app wsgi seed-demo`; see `seed.py`."""
import json
from pathlib import Path

_ACCOUNTS_FILE = "demo_accounts.json"


def remember_accounts(instance_path: str, slug: str, name: str, password: str, accounts) -> None:
    """Keep what the demo login page shows (demo mode only): the seeded accounts and password."""
    path = Path(instance_path) / _ACCOUNTS_FILE
    known = remembered_accounts(instance_path)
    known[slug] = {"name": name, "password": password, "accounts": [list(a) for a in accounts]}
    path.write_text(json.dumps(known, ensure_ascii=False, indent=1), encoding="utf-8")


def remembered_accounts(instance_path: str) -> dict:
    path = Path(instance_path) / _ACCOUNTS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
