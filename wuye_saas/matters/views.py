"""重大事项报备: the committee files a vote's matter, the community notes the party report, the
street acknowledges or returns (thin views over logic.py)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from .. import policy
from ..extensions import db
from ..money import fmt_yuan
from ..votes import views as vote_views
from ..votes.models import MATTERS, OwnerVote
from ..web import (
    accepted, current_membership, get_or_404, page_arg, render, require, save, send_voucher, tenant_blueprint, uploads,
)
from . import logic
from .forms import DecideForm, FileForm, RuleForm
from .models import FILING_STATUSES, MatterFiling, MatterFilingFile

bp = tenant_blueprint("matters", __name__, "/matters")


@bp.route("/")
def index():
    args = request.args
    m = current_membership()
    stmt = logic.filings_select(m, args.get("status"), args.get("q", "").strip())
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    threshold = logic.threshold_fen()
    rule_form = RuleForm(data={"threshold": f"{threshold / 100:.2f}"}) if policy.can(m, "set", "matter_config") else None
    return render("matters/index.html", "matters/_table.html", page=page, args=args, statuses=FILING_STATUSES,
                  matters=MATTERS, threshold=fmt_yuan(threshold), rule_form=rule_form,
                  filtered=any(v for k, v in args.items() if k != "page"))


@bp.route("/settings", methods=["POST"])
def settings():
    require("set", "matter_config")
    form = RuleForm()
    done = save(form, lambda: accepted(logic.set_threshold(form.threshold_fen)),
                lambda _: f"支出报备标准已设为 {fmt_yuan(form.threshold_fen)}。", url_for("matters.index"))
    if done:
        return done
    flash("；".join(e for errs in form.errors.values() for e in errs), "danger")
    return redirect(url_for("matters.index"))


def _detail(filing, decide_form=None, errors=None, status=200):
    m = current_membership()
    return render("matters/detail.html", filing=filing, statuses=FILING_STATUSES, matters=MATTERS,
                  may_party=policy.can(m, "note", "matter_party") and filing.status == "filed"
                  and filing.party_reported_at is None,
                  may_decide=policy.can(m, "decide", "matter_ack") and filing.status == "filed",
                  decide_form=decide_form or DecideForm(), errors=errors or {},
                  threshold=logic.threshold_fen()), status


@bp.route("/<int:matter_filing_id>")
def detail(matter_filing_id):
    return _detail(get_or_404(MatterFiling, matter_filing_id))


@bp.route("/<int:matter_filing_id>/party", methods=["POST"])
def party(matter_filing_id):
    filing = get_or_404(MatterFiling, matter_filing_id)
    require("note", "matter_party")
    return save(None, lambda: accepted(logic.note_party_report(filing, user=current_user)),
                "已登记：该事项已报告社区党组织，等待街道签收。", _filing_page(filing),
                refused=lambda problems: _detail(filing, errors=problems, status=422))


def _filing_page(filing: MatterFiling) -> str:
    return url_for("matters.detail", matter_filing_id=filing.id)


@bp.route("/<int:matter_filing_id>/decide", methods=["POST"])
def decide(matter_filing_id):
    filing = get_or_404(MatterFiling, matter_filing_id)
    require("decide", "matter_ack")
    form = DecideForm()

    def decide_it():
        acknowledge = form.decision.data == "acknowledge"
        accepted(logic.decide(filing, acknowledge, form.reason.data or "", user=current_user))
        return acknowledge
    return save(form, decide_it, lambda acknowledged: ("已签收，业委会可在公示期满后开始表决。" if acknowledged
                                                      else "已退回业委会。"),
                _filing_page(filing),
                refused=lambda others: _detail(filing, decide_form=form, errors=others, status=422))


@bp.route("/votes/<int:owner_vote_id>/file", methods=["POST"])
def file_vote(owner_vote_id):
    """Whoever runs the vote (the compound's committee; the community for a formation's
    election) files its matter with the street."""
    vote = get_or_404(OwnerVote, owner_vote_id)
    m = current_membership()
    if not (policy.can(m, "file", "matter_file") and vote_views.may_run(vote)):
        abort(404 if policy.can(m, "file", "matter_file") else 403)
    form = FileForm()
    return save(form, lambda: accepted(logic.file_matter(vote, form.summary.data, user=current_user,
                                                         uploads=uploads("files"),
                                                         folder=current_app.config["UPLOAD_FOLDER"])),
                "已向街道书面报备，请社区登记报告社区党组织后由街道签收。", _filing_page,
                refused=lambda others: vote_views.detail_page(vote, others, form))


@bp.route("/files/<int:matter_filing_file_id>")
def file(matter_filing_file_id):
    """A document of a filing, only to those who see the filing (the policy)."""
    return send_voucher(get_or_404(MatterFilingFile, matter_filing_file_id))
