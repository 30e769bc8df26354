"""What-if simulation: what a policy version would cost the government, the firms and the
residents over the real households of a scope, for one month and for twelve. Reads only.

Households, class links and contracts are loaded with one query each for the whole scope;
every compound-month then goes through `compute.compound_month` (the one rounding rule). A
compound's month is computed once per distinct situation (contract, 先尝后买 or not, contract
year, class links in force) and reused for the other months of the same situation: the parts
depend on the month only through those.
"""
from __future__ import annotations

import time
from bisect import bisect_right
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..org.models import Community, Compound, Contract, Household, HouseholdClass, HouseholdClassLink
from .compute import ContractTerms, PricingProblem, compound_month, month_index, terms_of
from .models import FeePolicy

NO_CLASS = "无困难类别"
NO_CONTRACT = "当月无有效物业服务合同"
PARTS = ("base", "gov", "firm", "resident", "holdback")


@dataclass
class Totals:
    households: int = 0   # household-months
    base: int = 0
    gov: int = 0
    firm: int = 0
    resident: int = 0
    holdback: int = 0

    def add(self, other: "Totals", times: int = 1) -> None:
        for k in ("households",) + PARTS:
            setattr(self, k, getattr(self, k) + times * getattr(other, k))


@dataclass
class Result:
    months: list[date]
    first: Totals = field(default_factory=Totals)
    year: Totals = field(default_factory=Totals)
    first_by_class: dict = field(default_factory=dict)   # label → Totals
    year_by_class: dict = field(default_factory=dict)
    by_month: list = field(default_factory=list)         # [Totals] per month
    compounds: int = 0                                   # compounds in the scope
    skipped: dict = field(default_factory=dict)          # compound name → (reason, months)
    seconds: float = 0.0

    @property
    def class_labels(self) -> list[str]:
        rest = sorted(k for k in self.year_by_class if k != NO_CLASS)
        return ([NO_CLASS] if NO_CLASS in self.year_by_class else []) + rest


def add_months(month: date, n: int) -> date:
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(y, m + 1, 1)


def month_end(month: date) -> date:
    return month.replace(day=monthrange(month.year, month.month)[1])


def scope_compounds(kind: str, scope_id: int | None):
    """SELECT of the compound ids in a scope (district / street / compound)."""
    stmt = select(Compound.id)
    if kind == "compound":
        stmt = stmt.where(Compound.id == scope_id)
    elif kind == "street":
        stmt = stmt.join(Community, Compound.community_id == Community.id).where(Community.street_id == scope_id)
    return stmt


def _contract_for(contracts: list, month: date):
    """The contract valid in the month (the latest start when several)."""
    end = month_end(month)
    valid = [c for c in contracts if c.serves(month, end)]
    return max(valid, key=lambda c: (c.start_date, c.id)) if valid else None


def simulate(policy: FeePolicy, kind: str, scope_id: int | None, start: date, months: int = 12) -> Result:
    started = time.perf_counter()
    terms = terms_of(policy)
    start = start.replace(day=1)
    month_list = [add_months(start, i) for i in range(months)]
    window_end = month_end(month_list[-1])
    comp_ids = scope_compounds(kind, scope_id)

    names = dict(db.session.execute(select(Compound.id, Compound.name).where(Compound.id.in_(comp_ids))).all())
    contracts: dict[int, list] = {}
    for c in db.session.execute(select(Contract).where(
            Contract.compound_id.in_(comp_ids), Contract.in_force(start, window_end))).scalars():
        contracts.setdefault(c.compound_id, []).append(c)
    households: dict[int, list] = {}
    for hid, cid, area in db.session.execute(select(Household.id, Household.compound_id, Household.floor_area)
                                             .where(Household.compound_id.in_(comp_ids)).order_by(Household.id)):
        households.setdefault(cid, []).append((hid, Decimal(area)))
    links: dict[int, list] = {}   # compound → [(valid_from, household_id, class_id)] by date
    for hid, cid, class_id, since in db.session.execute(
            select(HouseholdClassLink.household_id, Household.compound_id,
                   HouseholdClassLink.household_class_id, HouseholdClassLink.valid_from)
            .join(Household, HouseholdClassLink.household_id == Household.id)
            .where(Household.compound_id.in_(comp_ids))):
        links.setdefault(cid, []).append((since, hid, class_id))
    for rows in links.values():
        rows.sort()
    class_names = dict(db.session.execute(select(HouseholdClass.id, HouseholdClass.name)).all())

    def label(class_ids) -> str:
        """A household is counted under the class that sets its concession (the highest)."""
        if not class_ids:
            return NO_CLASS
        return class_names[max(class_ids, key=lambda c: (terms.concessions.get(c, 0), -c))]

    result = Result(months=month_list, compounds=len(names))
    result.by_month = [Totals() for _ in month_list]
    cache: dict = {}
    for cid, homes in households.items():
        comp_links = links.get(cid, [])
        dates = [row[0] for row in comp_links]
        for i, month in enumerate(month_list):
            contract = _contract_for(contracts.get(cid, []), month)
            if contract is None:
                _skip(result, names[cid], NO_CONTRACT)
                continue
            idx = month_index(contract.start_date, month)
            in_force = bisect_right(dates, month_end(month))
            key = (cid, contract.id, 0 <= idx < terms.gov_trial_months,
                   max(idx, 0) // 12 if terms.gov_mode == "declining" else 0, in_force)
            if key not in cache:
                cache[key] = _compound_month(terms, contract, month, homes, comp_links[:in_force], label)
            got = cache[key]
            if isinstance(got, str):
                _skip(result, names[cid], got)
                continue
            for lbl, t in got.items():
                result.by_month[i].add(t)
                result.year_by_class.setdefault(lbl, Totals()).add(t)
                result.year.add(t)
                if i == 0:
                    result.first_by_class.setdefault(lbl, Totals()).add(t)
                    result.first.add(t)
    for cid, name in names.items():
        if cid not in households:
            _skip(result, name, "没有住户", months)
    result.seconds = time.perf_counter() - started
    return result


def _skip(result: Result, name: str, reason: str, months: int = 1) -> None:
    first, n = result.skipped.get(name, (reason, 0))
    result.skipped[name] = (first, n + months)


def _compound_month(terms, contract, month, homes, in_force, label):
    """{class label: Totals} for one compound-month, or the Chinese reason it cannot be priced."""
    classes: dict[int, set] = {}
    for _, hid, class_id in in_force:
        classes.setdefault(hid, set()).add(class_id)
    rows = [(area, frozenset(classes.get(hid, ()))) for hid, area in homes]
    try:
        parts = compound_month(terms, ContractTerms(contract.firm_id, contract.service_grade,
                                                    contract.fee_rate, contract.start_date), month, rows)
    except PricingProblem as exc:
        return str(exc)
    out: dict[str, Totals] = {}
    for (_, cls), p in zip(rows, parts):
        t = out.setdefault(label(cls), Totals())
        t.households += 1
        t.base += p.base
        t.gov += p.gov
        t.firm += p.firm
        t.resident += p.resident
        t.holdback += p.holdback
    return out


def chart_data(result: Result) -> dict:
    """The bar chart's data (plain lists, for |tojson): the year's parts by household class."""
    labels = result.class_labels
    return {"labels": labels,
            "gov": [result.year_by_class[k].gov / 100 for k in labels],
            "firm": [result.year_by_class[k].firm / 100 for k in labels],
            "resident": [result.year_by_class[k].resident / 100 for k in labels],
            "months": [f"{m:%Y-%m}" for m in result.months],
            "month_gov": [t.gov / 100 for t in result.by_month],
            "month_firm": [t.firm / 100 for t in result.by_month],
            "month_resident": [t.resident / 100 for t in result.by_month]}
