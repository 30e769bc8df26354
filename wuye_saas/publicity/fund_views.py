"""专项维修资金 (maintenance fund): the compounds' funds against their first deposit, a
compound's household sub-accounts (分户账), deposits and uses split over them, a household's
sub-account, and the district's standard. Thin: the rules are in fund.py and subaccounts.py."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import select

from .. import timeutil
from ..extensions import db
from ..fees.payments import mask_name
from ..money import fmt_yuan, to_fen
from ..org.models import Building, Compound, Household
from ..web import current_membership, get_or_404, page_arg, render, require, save, tenant_blueprint
from . import accounts, fund, subaccounts
from .fund_forms import DepositForm, RuleForm, UseForm

bp = tenant_blueprint("fund", __name__, "/fund")
PER_PAGE = 50


@bp.route("/")
def index():
    m = current_membership()
    q, low = request.args.get("q", ""), request.args.get("low") == "1"
    page = db.paginate(fund.compounds_select(m, q, low), page=page_arg(), per_page=20, error_out=False)
    return render("publicity/fund/index.html", "publicity/fund/_compounds.html", page=page, q=q, low=low,
                  args=request.args, st=fund.statuses([c.id for c in page.items]), rule=fund.rule())


@bp.route("/rule", methods=["GET", "POST"])
def rule():
    require("set", "fund_config")
    r = fund.rule()
    form = RuleForm(data={"cost": Decimal(r.cost_fen_per_m2) / 100, "rate": r.rate_percent, "revenue_rule": r.revenue_rule,
                          "revenue_percent": r.revenue_percent} if r and request.method == "GET" else None)
    done = save(form, lambda: fund.set_rule(form.cost_fen, form.rate.data, form.revenue_rule.data,
                                            form.revenue_percent.data),
                "维修资金交存标准已保存。", url_for("fund.rule"), refusals=(fund.FundProblem,))
    return done or (render("publicity/fund/rule.html", form=form, rule=r),
                    422 if request.method == "POST" else 200)


def _page(total: int) -> SimpleNamespace:
    """The pager macro's page for a list counted and sliced by hand (rows are grouped sums)."""
    pages = max(1, -(-total // PER_PAGE))
    p = min(page_arg(), pages)
    return SimpleNamespace(page=p, pages=pages, total=total, has_prev=p > 1, has_next=p < pages,
                           prev_num=p - 1 if p > 1 else None, next_num=p + 1 if p < pages else None,
                           iter_pages=lambda **kw: _window(p, pages))


def _window(p: int, pages: int):
    shown = sorted({1, pages, *range(max(1, p - 2), min(pages, p + 2) + 1)})
    out, last = [], 0
    for n in shown:
        if n - last > 1:
            out.append(None)
        out.append(n)
        last = n
    return out


@bp.route("/<int:compound_id>")
def compound(compound_id: int):
    c = get_or_404(Compound, compound_id)
    m, today = current_membership(), timeutil.today()
    q = request.args.get("q", "")
    start = date(today.year, 1, 1)
    page = _page(subaccounts.count(c.id, q))
    rows = subaccounts.rows(c.id, start, today, q, PER_PAGE, (page.page - 1) * PER_PAGE)
    r = fund.rule()
    return render("publicity/fund/compound.html", "publicity/fund/_subaccounts.html", compound=c, page=page,
                  rows=rows, q=q, args={**request.args.to_dict(), "compound_id": c.id}, start=start, end=today,
                  st=fund.status(c.id),
                  total=subaccounts.total(c.id, today), pending=subaccounts.pending(c.id), rule=r,
                  standard=sum(fund.standard_amounts(c.id, r).values()) if r else None, mask=mask_name,
                  may_write=accounts.keeps(m, c.id, fund.KIND))


def _keeper_of(compound_id: int) -> Compound:
    c = get_or_404(Compound, compound_id)
    if not accounts.keeps(current_membership(), c.id, fund.KIND):
        abort(403)
    return c


def _posting(form) -> fund.Posting:
    return fund.Posting(form.entry_date.data, (form.counterparty.data or "").strip(),
                        (form.voucher_no.data or "").strip(), (form.note.data or "").strip())


@bp.route("/<int:compound_id>/deposit", methods=["GET", "POST"])
def deposit(compound_id: int):
    c = _keeper_of(compound_id)
    m, today = current_membership(), timeutil.today()
    form = DepositForm(data={"entry_date": today} if request.method == "GET" else None)

    def act():
        if form.mode.data == "standard":
            return fund.deposit_standard(c.id, _posting(form), today, user=m.user)
        amount = to_fen(form.amount.data) if form.amount.data is not None else None
        return fund.deposit_lump(c.id, form.category.data, amount, _posting(form), today, user=m.user)

    done = save(form, act, lambda e: f"已记入维修资金：{e.category} {fmt_yuan(e.amount_fen)}，已分到各户分户账。",
                url_for("fund.compound", compound_id=c.id), refusals=(fund.FundProblem,))
    r = fund.rule()
    return done or (render("publicity/fund/deposit.html", form=form, compound=c, rule=r,
                           per_m2=fund.per_m2_fen(r) if r else None,
                           standard=sum(fund.standard_amounts(c.id, r).values()) if r else None),
                    422 if request.method == "POST" else 200)


@bp.route("/<int:compound_id>/use", methods=["GET", "POST"])
def use(compound_id: int):
    c = _keeper_of(compound_id)
    m, today = current_membership(), timeutil.today()
    form = UseForm(data={"entry_date": today} if request.method == "GET" else None)
    buildings = db.session.execute(select(Building).where(Building.compound_id == c.id)
                                   .order_by(Building.name_key)).scalars().all()
    form.buildings.choices = [(b.id, b.name) for b in buildings]

    def act():
        chosen = form.buildings.data if form.scope.data == "buildings" else None
        return fund.use(c.id, to_fen(form.amount.data), chosen, _posting(form), today, user=m.user)

    done = save(form, act, lambda e: f"已记入维修资金使用支出 {fmt_yuan(-e.amount_fen)}，已按面积分摊到相关各户。",
                url_for("fund.compound", compound_id=c.id), refusals=(fund.FundProblem,))
    return done or (render("publicity/fund/use.html", form=form, compound=c, buildings=buildings,
                           balance=fund.status(c.id).balance),
                    422 if request.method == "POST" else 200)


@bp.route("/<int:compound_id>/allocate", methods=["POST"])
def allocate(compound_id: int):
    """补记分户账: split the entries made before the households were registered (CSRF checked)."""
    c = _keeper_of(compound_id)
    n = subaccounts.allocate_pending(c.id)
    db.session.commit()
    left, _ = subaccounts.pending(c.id)
    if n:
        flash(f"已补记 {n} 笔分录到各户分户账。" + (f"尚有 {left} 笔无法分摊：请先登记房屋及面积。" if left else ""),
              "success" if not left else "warning")
    else:
        flash("没有可补记的分录：请先登记房屋及面积。" if left else "所有分录均已记入分户账。", "info")
    return redirect(url_for("fund.compound", compound_id=c.id))


@bp.route("/households/<int:household_id>")
def household(household_id: int):
    h = get_or_404(Household, household_id)
    page = db.paginate(subaccounts.entry_parts(h.id), page=page_arg(), per_page=30, error_out=False)
    today = timeutil.today()
    start = date(today.year, 1, 1)
    sub = subaccounts.rows(h.compound_id, start, today, household_id=h.id)[0]
    return render("publicity/fund/household.html", h=h, page=page, sub=sub, start=start, end=today, mask=mask_name,
                  args={**request.args.to_dict(), "household_id": h.id})
