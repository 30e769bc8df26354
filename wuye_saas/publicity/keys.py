"""The districts' publication signing keys (Ed25519), kept outside the database.

Threat model: someone who can write the database and read this source, but holds no key kept
outside the database, must not be able to change what was published without the public pages
saying so. So each publication's chain head is signed with its district's key, and a signature
is checked only against the public keys found here — never against one read from the database.

The key directory (`PUBLICATION_KEYS_DIR`, env `WUYE_KEYS_DIR`, default `instance/keys`) holds
per district `<slug>/<key id>.json`, the public key with its `valid_from` (and `retired_at`
once rotated), kept forever so old signatures still verify; and `<slug>/<key id>.key`, its
private key (PKCS#8 PEM, mode 0600), while it signs. The private key may come from the
environment instead: `WUYE_SIGNING_KEY_<SLUG>=<key id>:<base64 of the 32-byte private key>`
(its `.json` must still be in the directory). The newest key with a private key signs.
"""
from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

from ..timeutil import now

# What a signature covers: the purpose, the district, the compound and the chain head there.
PURPOSE = "wuye_saas publication chain head"


class NoSigningKey(Exception):
    """The district has no private key here: publishing is refused (nothing is written)."""

    def __init__(self, slug: str):
        super().__init__(f"本区（{slug}）尚未配置公示签名密钥，公示无法发布。请系统管理员在服务器上运行 "
                         f"flask --app wsgi publicity-keys create {slug} 后重试。")
        self.slug = slug


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    raw: bytes                          # the 32 bytes of the Ed25519 public key
    valid_from: datetime                # naive UTC
    retired_at: datetime | None = None  # no signature after this (naive UTC)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, in groups of four for reading aloud and comparing."""
        h = hashlib.sha256(self.raw).hexdigest()
        return " ".join(h[i:i + 4] for i in range(0, 64, 4))

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.raw).decode()


@dataclass(frozen=True)
class SignatureCheck:
    status: str                  # valid | missing | unknown_key | invalid | retired
    key_id: str | None
    key: PublicKey | None = None

    @property
    def valid(self) -> bool:
        return self.status == "valid"


def _district_dir(slug: str) -> Path:
    return Path(current_app.config["PUBLICATION_KEYS_DIR"]) / slug


def _read_public(path: Path) -> PublicKey | None:
    try:
        d = json.loads(path.read_text())
        retired = d.get("retired_at")
        return PublicKey(d["key_id"], base64.b64decode(d["public_key"], validate=True),
                         datetime.fromisoformat(d["valid_from"]),
                         datetime.fromisoformat(retired) if retired else None)
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        return None   # an unreadable record trusts nothing


def trusted(slug: str) -> dict[str, PublicKey]:
    """The district's public keys from the key directory, oldest first."""
    folder = _district_dir(slug)
    found = [k for k in (_read_public(p) for p in sorted(folder.glob("*.json"))) if k and len(k.raw) == 32]
    return {k.key_id: k for k in sorted(found, key=lambda k: (k.valid_from, k.key_id))}


def _env_private(slug: str) -> tuple[str, Ed25519PrivateKey] | None:
    name = "WUYE_SIGNING_KEY_" + slug.upper().replace("-", "_")
    value = current_app.config.get("PUBLICATION_SIGNING_KEYS", {}).get(name)
    if not value:
        return None
    key_id, _, b64 = value.partition(":")
    try:
        return key_id, Ed25519PrivateKey.from_private_bytes(base64.b64decode(b64, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise RuntimeError(f"{name} 的格式应为 <密钥编号>:<32 字节私钥的 base64>") from exc


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signer(slug: str) -> tuple[PublicKey, Ed25519PrivateKey] | None:
    """The key that signs now: the newest trusted, unretired key whose private key is here."""
    keys = trusted(slug)
    env = _env_private(slug)
    if env is not None:
        key = keys.get(env[0])
        if key is None or key.raw != _raw_public(env[1]):
            raise RuntimeError(f"环境变量中的签名密钥 {env[0]} 与密钥目录中的公钥不符")
        if key.retired_at is None:   # a retired one left in the environment after rotation never signs
            return key, env[1]
    for key in reversed(keys.values()):
        if key.retired_at is not None:
            continue
        path = _district_dir(slug) / f"{key.key_id}.key"
        if path.exists():
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if isinstance(private, Ed25519PrivateKey) and _raw_public(private) == key.raw:
                return key, private
    return None


def create(slug: str, *, write_private: bool = True, valid_from: datetime | None = None,
           if_missing: bool = False) -> tuple[PublicKey, Ed25519PrivateKey]:
    """A new key pair for the district; it signs from now on and the previous key is retired
    (its public key stays, its private key file is removed). Serialised by a lock file; with
    `if_missing` (the first publication's automatic key) a process that waited for the lock
    uses the key the other one just made instead of retiring it."""
    folder = _district_dir(slug)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = signer(slug) if if_missing else None
        if found is not None:
            return found
        existing = trusted(slug)
        at = (valid_from or now()).replace(microsecond=0)   # earlier only for the demo's history
        if existing:   # strictly after the newest, so "newest signs" is never a tie
            at = max(at, max(k.valid_from for k in existing.values()) + timedelta(seconds=1))
        private = Ed25519PrivateKey.generate()
        raw = _raw_public(private)
        key = PublicKey(f"{at:%Y%m%d%H%M%S}-{hashlib.sha256(raw).hexdigest()[:8]}", raw, at)
        for old in existing.values():
            if old.retired_at is None:
                _write_public(folder, PublicKey(old.key_id, old.raw, old.valid_from, at))
                (folder / f"{old.key_id}.key").unlink(missing_ok=True)
        if write_private:
            pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
            fd = os.open(folder / f"{key.key_id}.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
        _write_public(folder, key)
    return key, private


def _write_public(folder: Path, key: PublicKey) -> None:
    record = {"key_id": key.key_id, "algorithm": "Ed25519", "public_key": key.public_b64,
              "valid_from": key.valid_from.isoformat(),
              "retired_at": key.retired_at.isoformat() if key.retired_at else None}
    tmp = folder / f".{key.key_id}.json.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1))
    tmp.replace(folder / f"{key.key_id}.json")


def env_value(key: PublicKey, private: Ed25519PrivateKey) -> str:
    """The WUYE_SIGNING_KEY_<SLUG> value for a key kept in the environment."""
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    return f"{key.key_id}:{base64.b64encode(raw).decode()}"


def message(slug: str, compound_id: int, seq: int, head: str) -> bytes:
    return json.dumps({"purpose": PURPOSE, "district": slug, "compound": compound_id, "seq": seq,
                       "hash": head}, sort_keys=True, separators=(",", ":")).encode()


def sign(slug: str, compound_id: int, seq: int, head: str) -> tuple[str, str]:
    """(key id, hex signature) of a chain head. Without a key here: one is made when the
    installation allows it (embedded/demo), else NoSigningKey."""
    found = signer(slug)
    if found is None:
        if not current_app.config.get("PUBLICATION_KEYS_AUTO_CREATE"):
            raise NoSigningKey(slug)
        found = create(slug, if_missing=True)
    key, private = found
    return key.key_id, private.sign(message(slug, compound_id, seq, head)).hex()


def check(slug: str, compound_id: int, seq: int, head: str, key_id: str | None, signature: str | None,
          signed_at: datetime | None = None, keys: dict[str, PublicKey] | None = None) -> SignatureCheck:
    """Is `signature` the district's signature of this chain head, by a trusted key? `key_id`
    may be empty (a typed notice): then every trusted key is tried."""
    if not signature:
        return SignatureCheck("missing", key_id)
    keys = trusted(slug) if keys is None else keys
    try:
        sig = bytes.fromhex(signature)
    except ValueError:
        return SignatureCheck("invalid", key_id)
    candidates = [keys[key_id]] if key_id in keys else ([] if key_id else list(keys.values()))
    if not candidates:
        return SignatureCheck("unknown_key", key_id)
    for key in candidates:
        try:
            Ed25519PublicKey.from_public_bytes(key.raw).verify(sig, message(slug, compound_id, seq, head))
        except InvalidSignature:
            continue
        if key.retired_at is not None and signed_at is not None and signed_at > key.retired_at:
            return SignatureCheck("retired", key.key_id, key)
        return SignatureCheck("valid", key.key_id, key)
    return SignatureCheck("invalid", key_id)
