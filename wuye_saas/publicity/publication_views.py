"""Publications (公示) for staff: the list, publishing from a template, the detail page with the
chain verification and the statement-vs-ledger re-check."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, request, url_for

from sqlalchemy import select

from .. import policy, timeutil
from ..extensions import db
from ..formutil import attach_errors, record_id
from ..money import to_fen
from ..org.models import Compound
from ..web import current_membership, get_or_404, page_arg, render, tenant_blueprint
from . import chain, publications, reports
from . import templates_content as tc
from .forms import (
    AnnualAccountForm, AnnualBudgetForm, CommitteeFeesForm, CommitteeNewsForm, CommitteeRulesForm, DisclosureForm,
    StandingNoticeForm, StatementForm, amounts_of, texts_of,
)
from .models import LEDGER_KINDS, PUBLICATION_KINDS, Publication

bp = tenant_blueprint("publications", __name__, "/publications")

FORMS = {"standing_notice": StandingNoticeForm, "disclosure": DisclosureForm, "ledger_statement": StatementForm,
         "committee_news": CommitteeNewsForm, "committee_rules": CommitteeRulesForm,
         "committee_fees": CommitteeFeesForm, "annual_budget": AnnualBudgetForm, "annual_account": AnnualAccountForm}


@bp.route("/")
def index():
    m = current_membership()
    args = request.args
    cid = args.get("compound", "")
    kind = args.get("kind") if args.get("kind") in PUBLICATION_KINDS else None
    stmt = publications.publications_query(m, record_id(cid), kind, args.get("q", ""))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    compounds = db.session.execute(select(Compound).where(policy.visible(m, Compound))
                                   .order_by(Compound.name)).scalars().all()
    return render("publicity/publications/index.html", "publicity/publications/_list.html", page=page,
                  args=args, kinds=PUBLICATION_KINDS, compounds=compounds,
                  can_publish=bool(publications.publishable(m, timeutil.today())),
                  filtered=any(v for k, v in args.items() if k != "page"))


def _content(template: str, compound: Compound, kind: str | None, form, today: date) -> tuple[dict, str, date | None, date | None]:
    """(content, title, period start, period end) from the form; raises tc.ContentProblem."""
    if template == "standing_notice":
        content = tc.standing_notice(compound.id, today, texts_of(form), form.applies_from.data)
        return content, tc.title_for(template, compound), None, None
    if template == "committee_rules":
        content = tc.committee_rules(compound.id, form.doc.data, form.adopted_on.data, record_id(form.vote_id.data),
                                     form.body.data or "", today)
        return content, tc.title_for(template, compound, doc=form.doc.data), None, None
    if template in tc.REMUNERATED_TEMPLATES:
        year = form.year.data
        source = form.source.data if template == "annual_account" else "entered"
        figures = None
        if source != "ledger" and request.method == "POST":
            carried = form.carried_in.data
            figures = reports.entered(amounts_of(form), to_fen(carried) if carried is not None else 0)
        content = reports.annual_report(compound.id, template, year, today, figures, source)
        start, end = reports.year_span(year)
        return content, tc.title_for(template, compound, start=start, end=end), start, end
    if template == "committee_fees":
        content = reports.member_fees(compound.id, form.year.data, int(form.half.data), today)
        start, end = reports.half_span(form.year.data, int(form.half.data))
        return content, tc.title_for(template, compound, start=start, end=end), start, end
    start, end = form.start.data, form.end.data
    if end > today:
        raise tc.ContentProblem("公示期截止日期不能晚于今天", "end")
    if template == "committee_news":
        content = tc.committee_news(start, end, form.work.data or "", form.decisions.data or "")
    elif template == "disclosure":
        content = tc.disclosure(compound.id, start, end, texts_of(form))
    else:
        content = tc.ledger_statement(compound.id, kind, start, end)
    return content, tc.title_for(template, compound, kind, start, end), start, end


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Without (compound, template) a chooser; with them the template's form and a preview of
    the content. Publishing is final (the chain), so the preview comes first and the button
    says so; the content is rebuilt from the data on POST."""
    m, today = current_membership(), timeutil.today()
    args = request.args
    cid, template = args.get("compound_id", ""), args.get("template", "")
    kind = args.get("kind") if args.get("kind") in LEDGER_KINDS else None
    if not record_id(cid) or template not in FORMS:
        return render("publicity/publications/choose.html", choices=publications.publishable(m, today),
                      templates=tc.TEMPLATES, kinds=LEDGER_KINDS)
    compound = get_or_404(Compound, int(cid))
    if not publications.may_publish(m, compound.id, template, kind, today):
        abort(403)
    defaults = {"start": _arg_date("start") or date(today.year, 1, 1), "end": _arg_date("end") or today,
                **_year_defaults(template, today)}
    form = FORMS[template](data=defaults if request.method == "GET" else None)
    if template == "committee_rules":
        form.vote_id.choices += [(str(v.id), f"{v.title}（{v.closes_on or ''}）") for v in _passed_votes(compound.id)]
    valid = request.method == "POST" and form.validate_on_submit()
    preview, problem = None, None
    # A committee document's or a budget's form starts empty: nothing to preview until it is
    # filled in (a final account's preview is the ledger's, members' fees come from the bills).
    if (request.method == "GET" and template not in EMPTY_AT_FIRST) or valid:
        try:
            preview = _content(template, compound, kind, form, today)
        except tc.ContentProblem as exc:
            if exc.field and request.method == "POST":
                attach_errors(form, {exc.field: str(exc)})
            else:
                problem = str(exc)
    if valid and preview is not None:
        content, title, start, end = preview
        p = publications.publish(compound, template, content, title, user=m.user, start=start, end=end)
        db.session.commit()
        flash(f"已发布第 {p.seq} 号公示。", "success")
        return redirect(url_for("publications.detail", publication_id=p.id))
    status = 422 if request.method == "POST" else 200
    return render("publicity/publications/new.html", form=form, compound=compound, tpl=template, kind=kind,
                  templates=tc.TEMPLATES, kinds=LEDGER_KINDS, preview=preview, problem=problem), status


EMPTY_AT_FIRST = ("committee_news", "committee_rules", "annual_budget")


def _year_defaults(template: str, today: date) -> dict:
    """The period a form proposes: last year's final account, next year's budget (this year's
    in its first quarter, when 上海 第48条 / 北京 第70条 ask for it), the last finished half-year."""
    if template == "annual_account":
        return {"year": today.year - 1, "source": "ledger"}
    if template == "annual_budget":
        return {"year": today.year if today.month <= 3 else today.year + 1}
    if template == "committee_fees":
        return {"year": today.year, "half": "1"} if today.month > 6 else {"year": today.year - 1, "half": "2"}
    return {}


def _passed_votes(compound_id: int):
    from ..votes.models import OwnerVote   # votes build on publicity, not the reverse
    return db.session.execute(select(OwnerVote).where(
        OwnerVote.compound_id == compound_id, OwnerVote.status == "closed", OwnerVote.passed.is_(True))
        .order_by(OwnerVote.closes_on.desc(), OwnerVote.id.desc())).scalars().all()


def _arg_date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/<int:publication_id>")
def detail(publication_id: int):
    p = get_or_404(Publication, publication_id)
    return render("publicity/publications/detail.html", p=p, kinds=PUBLICATION_KINDS,
                  verdict=chain.verify(p.compound_id, upto_seq=p.seq), check=publications.recheck(p),
                  objections=publications.objections_of([p.id]).get(p.id, []))


@bp.app_context_processor
def _publicity_nav():
    """The 账目公示与表决 menu for the acting membership: only what it may use."""
    from ..matters.models import MatterFiling
    from ..votes.models import OwnerVote

    mem = g.get("membership")
    if mem is None or mem.role == "assessor":
        return {"publicity_nav": []}
    compounds = policy.reaches(mem, Publication)
    staff = mem.role in ("district_admin", "street_staff", "community_staff")
    items = [("ledgers.index", "journal-bookmark", "小区账目", compounds),
             ("fund.index", "piggy-bank", "专项维修资金", compounds),
             ("publications.index", "megaphone", "公示管理", compounds),
             ("checks.index", "clipboard-check", "公示核对与质询", compounds),
             ("checks.compliance", "alarm", "逾期与缺失公示", staff),
             ("checks.schedule", "calendar-check", "公示要求", policy.can(mem, "manage", "publicity_config")),
             ("votes.index", "check2-square", "业主表决", policy.reaches(mem, OwnerVote)),
             ("matters.index", "file-earmark-text", "重大事项报备", policy.reaches(mem, MatterFiling)),
             ("funds.index", "tools", "维修资金使用", policy.reaches(mem, OwnerVote))]
    return {"publicity_nav": [(e, icon, label) for e, icon, label, shown in items if shown]}
