"""The monthly snapshot summed per node (the district, each street, each community): one
NodeMonth row per node and month, written by the snapshot right after its CompoundMonth rows
(the only writer of those), so the dashboard reads a dozen rows where it summed a district's
compounds for every month on every view. The sums are exactly those of the CompoundMonth rows
(tests/test_indicators.py checks every node and month against the direct aggregate).

A node is as the snapshot recorded it: a community's row is of the compounds whose snapshot
names that community (CompoundMonth keeps the tree as it was)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import case, delete, func, insert, select

from ..extensions import db
from ..tenancy import current_tenant_id
from .definitions import NO_SERVICE_MODE
from .models import CompoundMonth as CM, NodeMonth


def _n(cond):
    return func.sum(case((cond, 1), else_=0))


NO_SERVICE = (CM.management_mode == NO_SERVICE_MODE) & (CM.service_covered.is_(False))


def sums():
    """The summed figures of a set of CompoundMonth rows, labelled as NodeMonth's columns."""
    return [func.count(CM.id).label("compounds"), _n(CM.has_committee.is_(True)).label("committee"),
            _n(CM.service_covered.is_(True)).label("service"), _n(CM.party_org_covered.is_(True)).label("party"),
            _n(CM.party_work_covered.is_(True)).label("party_work"), _n(NO_SERVICE).label("no_service"),
            func.sum(CM.households).label("households"),
            func.sum(CM.demands_received).label("received"), func.sum(CM.demands_due).label("due"),
            func.sum(CM.demands_on_time).label("on_time"), func.sum(CM.demands_overdue).label("overdue"),
            func.sum(CM.demands_visited).label("visited"), func.sum(CM.demands_satisfied).label("satisfied"),
            func.sum(CM.billed_fen).label("billed"), func.sum(CM.collected_fen).label("collected"),
            func.sum(CM.publicity_due).label("pub_due"), func.sum(CM.publicity_on_time).label("pub_on_time")]


SUM_NAMES = [c.name for c in sums()]


def roll_up(month: date) -> int:
    """Replace the month's NodeMonth rows of the current district with the sums of its
    CompoundMonth rows (flushed, not committed); rows written. Two statements and an insert,
    however many compounds: the compounds are summed by the database per community and
    distribution, and those few hundred groups are added up here."""
    db.session.execute(delete(NodeMonth).where(NodeMonth.month == month)
                       .execution_options(synchronize_session=False))
    groups = db.session.execute(
        select(CM.street_id, CM.community_id, CM.management_mode, CM.stars, CM.list_kind,
               func.max(CM.taken_at).label("taken_at"), *sums())
        .where(CM.month == month)
        .group_by(CM.street_id, CM.community_id, CM.management_mode, CM.stars, CM.list_kind)).all()
    nodes: dict = {}

    def node(level, node_id, street_id):
        key = (level, node_id)
        if key not in nodes:
            nodes[key] = {"level": level, "node_id": node_id, "street_id": street_id, "taken_at": None,
                          "modes": defaultdict(int), "stars": defaultdict(int), "lists": defaultdict(int),
                          **dict.fromkeys(SUM_NAMES, 0)}
        return nodes[key]

    for g in groups:
        for row in (node("district", 0, None), node("street", g.street_id, g.street_id),
                    node("community", g.community_id, g.street_id)):
            for name in SUM_NAMES:
                row[name] += int(getattr(g, name) or 0)
            row["taken_at"] = max(filter(None, (row["taken_at"], g.taken_at)), default=None)
            row["modes"][g.management_mode] += g.compounds
            if g.stars is not None:
                row["stars"][str(g.stars)] += g.compounds
            if g.list_kind is not None:
                row["lists"][g.list_kind] += g.compounds
    if not nodes:
        return 0
    tid = current_tenant_id()
    rows = [{**{k: v for k, v in r.items() if k not in ("modes", "stars", "lists")}, "tenant_id": tid,
             "month": month, "distribution": {"modes": dict(r["modes"]), "stars": dict(r["stars"]),
                                              "lists": dict(r["lists"])}}
            for r in nodes.values()]
    db.session.execute(insert(NodeMonth), rows)
    return len(rows)
