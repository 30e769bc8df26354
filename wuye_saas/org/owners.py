"""Owners as persons: who owns a unit, found by identity, never by name.

Rules:
- A person is one identity of the district: the keyed hash of the ID-card number when the
  register has it (two owners called 王伟 with different numbers are two persons; the same number
  on two units is one person owning both). The number itself is never stored: only its hash and
  a masked form (3401**********1234). Without a number each entry is its own person.
- A unit's current owners are its ownerships in force today; co-owners share a unit.
- A unit still held by the developer has no owner persons: all such units are the developer's,
  one owner together for headcount (解释 第九条), whatever names they carry.
- `Household.owner_name` stays the register's display name of the unit: the current owners'
  names joined, kept in step here.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from datetime import date

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..timeutil import today
from .models import OWNER_SHARES, Household, Ownership, Person

ID_RE = re.compile(r"^(\d{17}[\dX]|\d{15})$")
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def id_problem(number: str) -> str | None:
    """Why an ID-card number cannot be right (format and the 18-digit check character)."""
    n = (number or "").strip().upper()
    if not ID_RE.match(n):
        return "身份证号码应为 18 位（末位可为 X）或 15 位数字"
    if len(n) == 18 and _CHECK[sum(int(d) * w for d, w in zip(n[:17], _WEIGHTS)) % 11] != n[17]:
        return "身份证号码校验位不正确，请核对"
    return None


def _pepper() -> bytes:
    cfg = current_app.config
    return (cfg.get("IDENTITY_PEPPER") or cfg.get("SECRET_KEY") or "wuye").encode()


def identity_key(number: str, pepper: bytes | None = None) -> str:
    """"id:" + a keyed hash of the number: equal numbers give equal keys, and the key alone
    does not give the number back (the pepper is the deployment's secret)."""
    n = number.strip().upper()
    return "id:" + hmac.new(pepper or _pepper(), n.encode(), hashlib.sha256).hexdigest()[:40]


def mask_id(number: str) -> str:
    n = number.strip().upper()
    return n[:4] + "*" * (len(n) - 8) + n[-4:] if len(n) > 8 else "*" * len(n)


def mask_phone(phone: str) -> str:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return (phone or "")[:20]


def person_for(name: str, number: str = "", phone: str = "") -> tuple[Person | None, dict]:
    """The district's person with this ID number (the name must match), or a new one."""
    name = (name or "").strip()
    if not name:
        return None, {"owner_name": "请填写业主姓名。"}
    if len(name) > 60:
        return None, {"owner_name": "业主姓名不能超过 60 个字。"}
    number = (number or "").strip().upper()
    if number:
        problem = id_problem(number)
        if problem:
            return None, {"id_number": problem + "。"}
        key = identity_key(number)
        person = db.session.execute(select(Person).where(Person.identity_key == key)).scalar_one_or_none()
        if person is not None:
            if person.name != name:
                return None, {"id_number": f"该身份证号码已登记为业主“{person.name}”，姓名不一致，请核对。"}
            return person, {}
        person = Person(name=name, identity_key=key, id_masked=mask_id(number), phone_masked=mask_phone(phone))
    else:
        person = Person(name=name, identity_key=f"u:{uuid.uuid4().hex}", phone_masked=mask_phone(phone))
    db.session.add(person)
    db.session.flush()
    return person, {}


def current_owners(household_id: int, day: date | None = None) -> list[Ownership]:
    day = day or today()
    return [o for o in db.session.execute(select(Ownership).where(Ownership.household_id == household_id)
                                          .order_by(Ownership.id)).scalars()
            if (o.valid_from is None or o.valid_from <= day) and (o.valid_until is None or o.valid_until >= day)]


def owners_of(household_ids, day: date | None = None) -> dict[int, list[Ownership]]:
    """household id → ownerships in force (with their persons), for a page of units: one read."""
    from sqlalchemy.orm import joinedload

    from ..votes.roll import owned_on   # the same "in force" rule the vote roll uses
    ids = list(household_ids)
    out: dict[int, list[Ownership]] = {i: [] for i in ids}
    if not ids:
        return out
    for o in db.session.execute(select(Ownership).options(joinedload(Ownership.person))
                                .where(Ownership.household_id.in_(ids), owned_on(day or today()))
                                .order_by(Ownership.id)).scalars():
        out[o.household_id].append(o)
    return out


def sync_owner_name(h: Household) -> None:
    names = [o.person.name for o in current_owners(h.id)]
    h.owner_name = "、".join(dict.fromkeys(names))[:60]


def add_owner(h: Household, name: str, number: str = "", phone: str = "", share: str = "单独所有",
              valid_from: date | None = None) -> tuple[Ownership | None, dict]:
    if h.developer_held:
        return None, {"owner_name": "该户标记为开发商持有（未售或未交付），请先取消该标记再登记业主。"}
    if share not in OWNER_SHARES:
        return None, {"share": "请选择共有方式。"}
    if valid_from is not None and valid_from > today():
        return None, {"valid_from": "取得日期不能晚于今天。"}
    person, problems = person_for(name, number, phone)
    if problems:
        return None, problems
    if any(o.person_id == person.id for o in current_owners(h.id)):
        return None, {"owner_name": f"{person.name}已是该户的业主。"}
    o = Ownership(household_id=h.id, person_id=person.id, share=share, valid_from=valid_from)
    db.session.add(o)
    db.session.flush()
    sync_owner_name(h)
    db.session.flush()
    return o, {}


def end_ownership(o: Ownership, until: date | None) -> dict:
    """The owner no longer owns the unit after `until` (sold, inherited …): kept as history."""
    if until is None:
        return {"valid_until": "请填写截止日期。"}
    if o.valid_until is not None:
        return {"valid_until": "该产权记录已结束。"}
    if o.valid_from is not None and until < o.valid_from:
        return {"valid_until": "截止日期不能早于取得日期。"}
    o.valid_until = until
    db.session.flush()
    sync_owner_name(o.household)
    db.session.flush()
    return {}
