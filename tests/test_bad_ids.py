"""Ids and page numbers from addresses and query strings: a number no record can have, or a
digit that is not ASCII, is an ordinary "not found" or an ignored filter — never a 500 from an
integer the database cannot hold (issue #12, "Numbers have bounds")."""
from __future__ import annotations

import re

import pytest

from wuye_saas.formutil import MAX_ID, record_id

from .helpers import login

HUGE = "99999999999999999999"   # past 2⁶³: SQLite could not even bind it


def test_record_id_takes_only_ascii_digits_naming_a_possible_record():
    assert record_id("42") == 42 and record_id(str(MAX_ID)) == MAX_ID
    for bad in ("", "0", str(MAX_ID + 1), HUGE, "²", "١٢", "-3", "4.0", " 4", None, 7):
        assert record_id(bad) is None, repr(bad)


def _district_routes_with_ids(app):
    """Every GET route of a district whose only variable parts are integers, as an address with
    each integer part HUGE."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/d/<tenant_slug>") or "<int:" not in rule.rule:
            continue
        path = re.sub(r"<int:\w+>", HUGE, rule.rule.replace("<tenant_slug>", "alpha"))
        if "<" not in path:
            yield rule.rule, path


def test_an_id_past_any_record_in_an_address_is_404_on_every_route(app, client, world):
    login(client, "alpha-district")
    routes = list(_district_routes_with_ids(app))
    assert len(routes) > 60
    for rule, path in routes:
        assert client.get(path).status_code == 404, rule


@pytest.mark.parametrize("query", [
    "/d/alpha/compounds/?community_id={v}", "/d/alpha/households/?compound_id={v}",
    "/d/alpha/fees/assignments/?family_id={v}", "/d/alpha/fees/claims/?firm={v}",
    "/d/alpha/fees/arrears?compound={v}", "/d/alpha/audit/?entity_id={v}",
    "/d/alpha/?level=street&street_id={v}", "/d/alpha/compounds/?page={v}",
    "/d/alpha/checks/compliance?community={v}&req={v}",
])
@pytest.mark.parametrize("value", [HUGE, "²", str(MAX_ID + 1)])
def test_an_odd_number_in_a_query_string_is_ignored_or_not_found(app, client, world, query, value):
    """Each page opens with a plain value; with an odd one it is no server error."""
    login(client, "alpha-district")
    assert client.get(query.format(v="1")).status_code == 200, query
    assert client.get(query.format(v=value)).status_code in (200, 404), (query, value)
