"""compound.household_count (wuye_saas/org/counts.py): kept equal to the households counted,
through the register's forms (new, moved to another compound's building, deleted), a failed
save and an import; the household list's total reads it and says the same as counting."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from wuye_saas.extensions import db
from wuye_saas.org import models as m
from wuye_saas.tenancy import tenant_scope

from .helpers import form_data, login, post


def kept_and_counted(app, tid) -> tuple[dict, dict]:
    with app.app_context(), tenant_scope(tid):
        kept = dict(db.session.execute(select(m.Compound.id, m.Compound.household_count)).all())
        counted = {cid: 0 for cid in kept} | dict(db.session.execute(
            select(m.Household.compound_id, func.count()).group_by(m.Household.compound_id)).all())
    return kept, counted


def listed_total(client, query: str = "") -> int:
    html = client.get(f"/d/alpha/households/{query}").get_data(as_text=True)
    return int(re.search(r"共 (\d+) 条", html).group(1))


def test_kept_through_the_forms_and_read_by_the_list(app, client, world):
    a = world["alpha"]
    login(client, "alpha-district")
    kept, counted = kept_and_counted(app, a.tenant_id)
    assert kept == counted and kept[a.compound1] == 1 and listed_total(client) == 2
    resp = post(client, "/d/alpha/households/new", {"building_id": a.building1, "room": "902", "floor": "9",
                                                    "floor_area": "96.35", "owner_name": "王五"})
    assert resp.status_code == 302
    new_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    kept, counted = kept_and_counted(app, a.tenant_id)
    assert kept == counted and (kept[a.compound1], kept[a.compound2]) == (2, 1)
    assert listed_total(client) == 3 and listed_total(client, f"?compound_id={a.compound1}") == 2
    # Moved to a building of the other compound: both compounds are recounted.
    sent = form_data(client.get(f"/d/alpha/households/{new_id}/edit").get_data(as_text=True))
    assert client.post(f"/d/alpha/households/{new_id}/edit",
                       data={**sent, "compound_id": a.compound2, "building_id": a.building2}).status_code == 302
    kept, counted = kept_and_counted(app, a.tenant_id)
    assert kept == counted and (kept[a.compound1], kept[a.compound2]) == (1, 2)
    # A refused save (the room is taken) changes nothing.
    resp = post(client, "/d/alpha/households/new", {"building_id": a.building2, "room": "101", "floor": "1",
                                                    "floor_area": "50", "owner_name": "赵六"})
    assert resp.status_code == 422
    assert kept_and_counted(app, a.tenant_id) == (kept, counted)
    assert post(client, f"/d/alpha/households/{new_id}/delete", {}).status_code == 302
    kept, counted = kept_and_counted(app, a.tenant_id)
    assert kept == counted and (kept[a.compound1], kept[a.compound2]) == (1, 1)
    # A search is counted from the rows (no kept count for it); a firm sees its compound's.
    assert listed_total(client, "?q=张三") == 2
    firm = app.test_client()
    login(firm, "alpha-firm")
    assert listed_total(firm) == 1


def test_the_import_recounts_its_compounds(app, world):
    from wuye_saas.importer import logic
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        records = [{"tenant_id": a.tenant_id, "compound_id": a.compound2, "building_id": a.building2,
                    "room": f"{n}01", "floor": n, "floor_area": 70, "owner_name": "", "household_code": "", "class_ids": [],
                    "owners": []} for n in range(2, 6)]
        logic.write(logic.KINDS["households"], records, lambda *args: None, len(records))
        db.session.commit()
    kept, counted = kept_and_counted(app, a.tenant_id)
    assert kept == counted and kept[a.compound2] == 5
