"""信用档案 pages: the register of grades, the 警示名单, a firm's file, staff records, revocation,
objections and their decisions, the district's rule and kinds, and the public credit page
(thin views over grading.py and records.py)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import abort, current_app, flash, g, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import policy
from ..extensions import db
from ..formutil import Form
from ..org.models import Firm
from ..timeutil import today
from ..web import (
    current_membership, get_or_404, page_arg, public_blueprint, render, require, save, send_voucher, tenant_blueprint,
    uploads,
)
from . import consequences, defaults, grading, records
from .forms import DecideForm, KindForm, ObjectionForm, RecordForm, RevokeForm, RuleForm
from .models import (
    BLACKLIST, NATURES, OBJECTION_STATUSES, SOURCES, CreditEvidence, CreditObjection, CreditRecord,
    CreditRecordKind, CreditRule,
)

bp = tenant_blueprint("credit", __name__, "/credit")
public_bp = public_blueprint("public_credit", __name__, "/credit")
REFUSALS = (records.CreditProblem,)

PER_PAGE = 20
GRADES = [b["grade"] for b in defaults.BANDS] + [defaults.LOWEST, BLACKLIST]
STATES = {"valid": "有效", "expired": "已过期", "revoked": "已撤销", "pending": "未生效"}


@bp.app_context_processor
def _credit_nav():
    m = g.get("membership")
    if m is None:
        return {"credit_nav": []}
    if m.role in policy.FIRM_ROLES:
        items = [("credit.index", "shield-check", "我的信用档案")]
    elif m.role == "assessor":
        items = []
    else:
        items = [("credit.index", "shield-check", "信用档案")]
        if policy.reaches(m, CreditRecord):
            items.append(("credit.warning", "exclamation-triangle", "警示名单"))
    if policy.can(m, "decide", "credit_decide"):
        items.append(("credit.objections", "chat-left-dots", "信用异议"))
    return {"credit_nav": items}


@dataclass
class Page:
    """A page of rows computed in Python, with what the pager macro reads."""
    items: list
    page: int
    total: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def prev_num(self):
        return self.page - 1

    @property
    def next_num(self):
        return self.page + 1

    def iter_pages(self, left_edge=1, right_edge=1, left_current=2, right_current=2):
        """Page numbers with None for a gap, as the pager macro expects (1 … 4 5 [6] 7 8 … 30)."""
        last = 0
        for n in range(1, self.pages + 1):
            if (n <= left_edge or n > self.pages - right_edge
                    or self.page - left_current <= n <= self.page + right_current):
                if last + 1 != n:
                    yield None
                yield n
                last = n


def _firms(m, q: str = "") -> list[Firm]:
    stmt = select(Firm).where(policy.visible(m, Firm)).order_by(Firm.name, Firm.id)
    if q:
        stmt = stmt.where(Firm.name.contains(q))
    return list(db.session.execute(stmt).scalars())


def _paged(rows: list):
    n = page_arg()
    return Page(rows[(n - 1) * PER_PAGE: n * PER_PAGE], n, len(rows))


@bp.route("/")
def index():
    m, args = current_membership(), request.args
    if m.role in policy.FIRM_ROLES:
        return _file_page(get_or_404(Firm, m.firm_id))      # a firm's register is its own file
    if m.role == "assessor":
        abort(403)
    firms = _firms(m, args.get("q", "").strip())
    st = grading.standings(today(), [f.id for f in firms]) if firms else {}
    grade = args.get("grade", "")
    rows = [(f, st[f.id]) for f in firms if not grade or st[f.id].grade == grade]
    rows.sort(key=lambda r: (-r[1].score, r[0].name))
    page = _paged(rows)
    flags = consequences.flag_labels(m, today(), [f.id for f, _ in page.items])
    return render("credit/index.html", "credit/_table.html", page=page, args=args, grades=GRADES,
                  flags=flags,
                  files=policy.reaches(m, CreditRecord), filtered=bool(grade or args.get("q")), today=today())


@bp.route("/warning")
def warning():
    m = current_membership()
    if not policy.reaches(m, CreditRecord) or m.role in policy.FIRM_ROLES:
        abort(403)
    firms = {f.id: f for f in _firms(m)}
    st = grading.standings(today(), list(firms)) if firms else {}
    rows = sorted(((firms[i], s) for i, s in st.items() if s.warned), key=lambda r: (-r[1].serious_count,
                                                                                    -r[1].bad_count, r[0].name))
    return render("credit/warning.html", rows=rows, rule=defaults.rule())


def _file_firm(firm_id: int) -> Firm:
    """The firm, when the acting membership may read its file (a committee sees grades only)."""
    firm = get_or_404(Firm, firm_id)
    if not policy.reaches(current_membership(), CreditRecord):
        abort(403)
    return firm


@bp.route("/firms/<int:firm_id>")
def firm(firm_id):
    return _file_page(_file_firm(firm_id))


def _file_page(f: Firm):
    m, d = current_membership(), today()
    recs = list(db.session.execute(
        select(CreditRecord).where(CreditRecord.firm_id == f.id, policy.visible(m, CreditRecord))
        .options(joinedload(CreditRecord.kind), joinedload(CreditRecord.objection))
        .order_by(CreditRecord.occurred_on.desc(), CreditRecord.id.desc())).scalars())
    return render("credit/firm.html", f=f, records=recs, s=grading.standing(f.id, d), today=d,
                  flags=consequences.history(m, f.id), flag_state=consequences.state_on,
                  history=grading.history(f.id), natures=NATURES, sources=SOURCES, states=STATES,
                  o_statuses=OBJECTION_STATUSES, may_record=records.may_record(m))


@bp.route("/firms/<int:firm_id>/records/new", methods=["GET", "POST"])
def new_record(firm_id):
    f, m = _file_firm(firm_id), current_membership()
    require("record", "credit")
    kinds = db.session.execute(select(CreditRecordKind).where(CreditRecordKind.active.is_(True))
                               .order_by(CreditRecordKind.nature.desc(), CreditRecordKind.sort)).scalars().all()
    form = RecordForm(data={"occurred_on": today()} if request.method == "GET" else None)
    form.kind_id.choices = [("", "请选择…")] + [
        (str(k.id), f"{NATURES[k.nature]} · {k.name}（{'+' if k.nature == 'good' else '−'}{k.points} 分"
                    f"{'，列入黑名单' if k.serious else ''}）") for k in kinds if not k.automatic]
    done = save(form, lambda: records.add_record(m, f, form.kind_id.data, form.occurred_on.data, form.evidence.data,
                                                 uploads("files"), current_app.config["UPLOAD_FOLDER"]),
                lambda rec: f"已登记：{f.name} · {rec.title}。", url_for("credit.firm", firm_id=f.id), REFUSALS)
    if done:
        return done
    status = 422 if request.method == "POST" else 200
    if not kinds:
        flash("本区还没有信用记录类型，请区级管理员在“信用评价规则”中载入默认类型。", "warning")
    return render("credit/new.html", f=f, form=form), status


def _record_page(rec: CreditRecord, revoke_form=None, objection_form=None, confirming=False, status=200):
    m, d = current_membership(), today()
    may_revoke = records.may_revoke(m, rec)
    return render("credit/record.html", r=rec, today=d, natures=NATURES, sources=SOURCES, states=STATES,
                  o_statuses=OBJECTION_STATUSES, may_revoke=may_revoke,
                  confirming=confirming and (may_revoke or bool(revoke_form and revoke_form.errors)),
                  revoke_form=revoke_form or RevokeForm(formdata=None),
                  may_object=records.may_object(m, rec) or bool(objection_form and objection_form.errors),
                  objection_form=objection_form or ObjectionForm(formdata=None),
                  objection_until=records.objection_until(rec),
                  window=records.objection_problem(rec)), status


@bp.route("/records/<int:credit_record_id>")
def record(credit_record_id):
    rec = get_or_404(CreditRecord, credit_record_id)
    return _record_page(rec, confirming=request.args.get("revoke") == "1")


@bp.route("/records/<int:credit_record_id>/revoke", methods=["POST"])
def revoke(credit_record_id):
    rec = get_or_404(CreditRecord, credit_record_id)
    require("revoke", "credit_decide")
    form = RevokeForm()
    done = save(form, lambda: records.revoke(current_membership(), rec, form.reason.data),
                lambda _: f"已撤销：{rec.title}。记录保留在档案中，不再计分。", _record_url(rec), REFUSALS)
    return done or _record_page(rec, revoke_form=form, confirming=True, status=422)


def _record_url(rec: CreditRecord) -> str:
    return url_for("credit.record", credit_record_id=rec.id)


@bp.route("/records/<int:credit_record_id>/objection", methods=["POST"])
def object_to(credit_record_id):
    rec = get_or_404(CreditRecord, credit_record_id)
    require("object", "credit_object")
    form = ObjectionForm()
    done = save(form, lambda: records.file_objection(current_membership(), rec, form.reason.data),
                "已提出异议，等待区里裁定。", _record_url(rec), REFUSALS)
    return done or _record_page(rec, objection_form=form, status=422)


@bp.route("/evidence/<int:credit_evidence_id>")
def evidence(credit_evidence_id):
    """An evidence file, only to those who see its record (scope via the policy)."""
    return send_voucher(get_or_404(CreditEvidence, credit_evidence_id))


# --- objections ---------------------------------------------------------------------------------------

@bp.route("/objections")
def objections():
    m = current_membership()
    if not policy.reaches(m, CreditObjection):
        abort(403)
    status = request.args.get("status", "open")
    stmt = (select(CreditObjection).where(policy.visible(m, CreditObjection))
            .options(joinedload(CreditObjection.record), joinedload(CreditObjection.firm))
            .order_by(CreditObjection.filed_at.desc(), CreditObjection.id.desc()))
    if status in OBJECTION_STATUSES:
        stmt = stmt.where(CreditObjection.status == status)
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render("credit/objections.html", page=page, status=status, statuses=OBJECTION_STATUSES, args=request.args)


def _objection_page(obj: CreditObjection, form: DecideForm, status: int = 200):
    m = current_membership()
    return render("credit/objection.html", o=obj, form=form, statuses=OBJECTION_STATUSES,
                  may_decide=policy.can(m, "decide", "credit_decide") and obj.status == "open"), status


@bp.route("/objections/<int:credit_objection_id>")
def objection(credit_objection_id):
    return _objection_page(get_or_404(CreditObjection, credit_objection_id), DecideForm(formdata=None))


@bp.route("/objections/<int:credit_objection_id>/decide", methods=["POST"])
def decide(credit_objection_id):
    obj = get_or_404(CreditObjection, credit_objection_id)
    require("decide", "credit_decide")
    form = DecideForm()
    done = save(form, lambda: records.decide_objection(current_membership(), obj, form.outcome.data == "upheld",
                                                       form.decision.data),
                lambda _: f"已裁定：{OBJECTION_STATUSES[obj.status]}。",
                url_for("credit.objection", credit_objection_id=obj.id), REFUSALS)
    return done or _objection_page(obj, form, 422)


# --- the district's rule and kinds ----------------------------------------------------------------------

def _rule_form(r: CreditRule, formdata=None) -> RuleForm:
    mins = {b["grade"]: Decimal(str(b["min"])) for b in r.bands or []}
    return RuleForm(formdata=formdata, data={
        "base_source": r.base_source, "base_points": r.base_points, "aaa": mins.get("AAA"), "aa": mins.get("AA"),
        "a": mins.get("A"), "b": mins.get("B"), "objection_days": r.objection_days,
        "warning_bad_count": r.warning_bad_count, "evaluation_kinds": r.evaluation_kinds or [],
        "consequence_days": r.consequence_days or defaults.CONSEQUENCE_DAYS,
        "overdue_demands_threshold": r.overdue_demands_threshold or defaults.OVERDUE_DEMANDS_THRESHOLD})


def _settings_page(form: RuleForm, status: int = 200):
    kinds = db.session.execute(select(CreditRecordKind).order_by(CreditRecordKind.nature.desc(),
                                                                 CreditRecordKind.sort)).scalars().all()
    return render("credit/settings.html", form=form, kinds=kinds, natures=NATURES), status


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require("manage", "credit_config")
    r = defaults.rule()
    if request.method == "GET":
        return _settings_page(_rule_form(r))
    form = _rule_form(r, request.form)
    if not form.validate_on_submit():
        return _settings_page(form, 422)
    r.base_source, r.base_points = form.base_source.data, form.base_points.data
    r.bands = [{"grade": g_, "min": str(getattr(form, key).data)} for g_, key in
               (("AAA", "aaa"), ("AA", "aa"), ("A", "a"), ("B", "b"))]
    r.objection_days, r.warning_bad_count = form.objection_days.data, form.warning_bad_count.data
    r.evaluation_kinds = list(form.evaluation_kinds.data or [])
    r.consequence_days, r.overdue_demands_threshold = form.consequence_days.data, form.overdue_demands_threshold.data
    if r.id is None:
        db.session.add(r)
    db.session.commit()
    flash("已保存信用评价规则；已保存的季度等级不变，今天起的计算按新规则。", "success")
    return redirect(url_for("credit.settings"))


@bp.route("/settings/defaults", methods=["POST"])
def load_defaults():
    require("manage", "credit_config")
    if not Form().validate_on_submit():
        abort(400)
    added = defaults.seed_defaults()
    db.session.commit()
    flash(f"已载入 {added} 个默认信用记录类型。" if added else "默认类型均已存在，未做修改。", "success")
    return redirect(url_for("credit.settings"))


@bp.route("/kinds/<int:credit_record_kind_id>", methods=["GET", "POST"])
def kind(credit_record_kind_id):
    k = get_or_404(CreditRecordKind, credit_record_kind_id)
    if request.method == "POST":
        require("manage", "credit_config")
    form = KindForm(obj=k) if request.method == "GET" else KindForm()
    if request.method == "POST" and form.validate_on_submit():
        k.name, k.points = form.name.data.strip(), Decimal(form.points.data.strip())
        k.validity_days, k.serious, k.active = form.validity_days.data, form.serious.data, form.active.data
        db.session.commit()
        flash(f"已保存“{k.name}”；已登记的记录保持原分值和有效期。", "success")
        return redirect(url_for("credit.settings"))
    return render("credit/kind.html", k=k, form=form, natures=NATURES,
                  may_edit=policy.can(current_membership(), "manage", "credit_config")), \
        (422 if request.method == "POST" else 200)


# --- the public credit page ------------------------------------------------------------------------------

@public_bp.route("/")
def public_index():
    """Every firm's grade today and its valid public records: kind, points, dates — no evidence,
    no people, nothing revoked."""
    d = today()
    firms = db.session.execute(select(Firm).order_by(Firm.name, Firm.id)).scalars().all()
    st = grading.standings(d, [f.id for f in firms]) if firms else {}
    recs: dict[int, list] = {}
    for r in db.session.execute(select(CreditRecord).where(*grading.valid_clause(d))
                                .options(selectinload(CreditRecord.kind))
                                .order_by(CreditRecord.occurred_on.desc(), CreditRecord.id.desc())).scalars():
        recs.setdefault(r.firm_id, []).append(r)
    rows = sorted(((f, st[f.id]) for f in firms), key=lambda r: (-r[1].score, r[0].name))
    return render("credit/public.html", page=_paged(rows), recs=recs, natures=NATURES, args=request.args, today=d)
