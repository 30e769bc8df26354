"""Owner votes: file → publicize → open → ballots → close and count (thin views over logic.py)."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from .. import policy
from ..extensions import db, htmx
from ..formutil import attach_errors
from ..committees.models import Formation
from ..org import owners
from ..org.models import Household
from ..web import current_membership, get_or_404, page_arg, render, require, tenant_blueprint
from . import counting, logic
from .forms import BallotForm, PublicizeForm, VoteForm
from .models import CHOICES, MATTERS, VOTE_STATUSES, Ballot, OwnerVote
from ..matters import logic as matters
from ..matters.forms import FileForm
from ..matters.models import FILING_STATUSES, MatterFiling

bp = tenant_blueprint("votes", __name__, "/votes")

STEP_LABELS = {"file": "已报备社区", "open": "表决已开始", "close": "已计票"}


def may_run(vote: OwnerVote) -> bool:
    """A committee member of the vote's own compound runs it; a committee election of a
    formation is run by the community that runs the formation (the scope brought it here)."""
    m = current_membership()
    if vote.matter == "committee" and policy.can(m, "act", "formation") and db.session.execute(
            db.select(Formation.id).where(Formation.vote_id == vote.id)).first():
        return True
    return policy.can(m, "run", "vote") and m.compound_id == vote.compound_id


def _require_run(vote: OwnerVote) -> None:
    """404 for a vote the membership may not run (it was already loaded in scope)."""
    if not may_run(vote):
        abort(404 if policy.can(current_membership(), "run", "vote") else 403)


@bp.route("/")
def index():
    args = request.args
    stmt = logic.votes_select(current_membership(), args.get("q", "").strip(), args.get("status"),
                              args.get("matter"))
    page = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    return render("votes/index.html", "votes/_table.html", page=page, args=args, statuses=VOTE_STATUSES,
                  matters=MATTERS, filtered=any(v for k, v in args.items() if k != "page"))


@bp.route("/new", methods=["GET", "POST"])
def new():
    require("run", "vote")
    form = VoteForm()
    if form.validate_on_submit():
        vote, problems = logic.create_vote(current_membership().compound_id, form.matter.data, form.title.data,
                                           form.description.data or "", items=form.item_titles)
        if vote is not None:
            db.session.commit()
            flash("表决草稿已创建。下一步：报备社区。", "success")
            return redirect(url_for("votes.detail", owner_vote_id=vote.id))
        attach_errors(form, problems)
    return render("votes/new.html", form=form), (422 if form.errors else 200)


def _detail(vote, publicize=None, errors=None, status=200, file_form=None):
    confirm = request.args.get("confirm") == "close" and vote.status == "open"
    counted = logic.tally_items(vote) if vote.status == "open" else None
    items = logic.items_of(vote)
    live = counted[0][1] if counted and len(counted) == 1 else None
    if publicize is None:
        d = logic.today() + timedelta(days=logic.NOTICE_DAYS)
        publicize = PublicizeForm(data={"opens_on": d, "closes_on": d + timedelta(days=14)})
    return render("votes/detail.html", vote=vote, may_run=may_run(vote), publicize=publicize,
                  errors=errors or {}, confirm=confirm, live=live, counts=logic.ballot_counts(vote),
                  statuses=VOTE_STATUSES, matters=MATTERS, conditions=counting.conditions(vote.matter),
                  choices=CHOICES, items=items, live_items=counted if counted and len(counted) > 1 else None,
                  live_items_rows=[{"position": i.position, "title": i.title, **d.as_dict()} for i, d in counted or []],
                  formation=db.session.execute(db.select(Formation).where(Formation.vote_id == vote.id)).scalar(),
                  **_matter_context(vote, file_form)), status


def detail_page(vote, errors: dict, file_form) -> tuple:
    """The vote's page with a refusal shown on it (422), for the filing's view."""
    return _detail(vote, errors=errors, status=422, file_form=file_form)


def _matter_context(vote, file_form=None):
    """The vote's 重大事项报备 with the street: the filings, whether it may open, and the form."""
    m = current_membership()
    gate = matters.gate(vote)
    live = matters.current(vote)
    return {"filings": matters.filings_of(vote) if policy.reaches(m, MatterFiling) else [],
            "filing_gate": gate, "filing_statuses": FILING_STATUSES,
            "may_file": (policy.can(m, "file", "matter_file") and may_run(vote) and vote.status in matters.FILABLE
                         and gate is not None and (live is None or live.status != "filed")),
            "file_form": file_form or FileForm(data={"summary": vote.description or vote.title})}


@bp.route("/<int:owner_vote_id>")
def detail(owner_vote_id):
    return _detail(get_or_404(OwnerVote, owner_vote_id))


@bp.route("/<int:owner_vote_id>/publicize", methods=["POST"])
def publicize(owner_vote_id):
    vote = get_or_404(OwnerVote, owner_vote_id)
    _require_run(vote)
    form = PublicizeForm()
    if form.validate_on_submit():
        problems = logic.publicize_vote(vote, form.opens_on.data, form.closes_on.data, user=current_user)
        if not problems:
            db.session.commit()
            flash("表决事项已公示，并已写入本小区公示链。", "success")
            return redirect(url_for("votes.detail", owner_vote_id=vote.id))
        db.session.rollback()
        attach_errors(form, {k: v for k, v in problems.items() if k in form})
        return _detail(vote, publicize=form, errors={k: v for k, v in problems.items() if k not in form},
                       status=422)
    return _detail(vote, publicize=form, status=422)


@bp.route("/<int:owner_vote_id>/<any(file, open, close):step>", methods=["POST"])
def step(owner_vote_id, step):
    vote = get_or_404(OwnerVote, owner_vote_id)
    _require_run(vote)
    if step == "file":
        problems = logic.file_vote(vote)
    elif step == "open":
        problems = logic.open_vote(vote)
    else:
        _, problems = logic.close_vote(vote, user=current_user)
    if problems:
        db.session.rollback()
        return _detail(vote, errors=problems, status=422)
    db.session.commit()
    flash(STEP_LABELS[step] + ("，计票结果已公示。" if step == "close" else "。"), "success")
    return redirect(url_for("votes.detail", owner_vote_id=vote.id))


@bp.route("/<int:owner_vote_id>/ballots")
def ballots(owner_vote_id):
    vote = get_or_404(OwnerVote, owner_vote_id)
    args = request.args
    stmt = logic.households_select(vote, args.get("q", "").strip(), args.get("voted", ""))
    page = db.paginate(stmt, page=page_arg(), per_page=30, error_out=False)
    ids = [h.id for h in page.items]
    cast = logic.ballots_of(vote, ids)
    return render("votes/ballots.html", "votes/_ballot_table.html", vote=vote, page=page, args=args, cast=cast,
                  editable=may_run(vote) and vote.status == "open", choices=CHOICES, items=logic.items_of(vote),
                  picked=logic.choices_of(vote, ids), owners=owners.owners_of(ids),
                  counts=logic.ballot_counts(vote), filtered=any(v for k, v in args.items() if k != "page"))


@bp.route("/<int:owner_vote_id>/ballots/<int:household_id>", methods=["POST"])
def ballot(owner_vote_id, household_id):
    """Save one row of the ballot sheet; an HTMX request gets the row back."""
    vote = get_or_404(OwnerVote, owner_vote_id)
    household = get_or_404(Household, household_id)
    _require_run(vote)
    if household.compound_id != vote.compound_id:
        abort(404)
    form = BallotForm()
    items = logic.items_of(vote)
    problems = dict(form.errors) if not form.validate_on_submit() else {}
    if not problems:
        # A vote of several items posts one select per item (item_<id>); a single one "choice".
        picked = ({i.id: request.form.get(f"item_{i.id}", "") for i in items} if len(items) > 1
                  else {items[0].id: form.choice.data or ""})
        _, problems = logic.record_ballot(vote, household, choices=picked)
    if problems:
        db.session.rollback()
    else:
        db.session.commit()
    errors = {k: (v[0] if isinstance(v, list) else v) for k, v in problems.items()}
    b = db.session.execute(db.select(Ballot).filter_by(vote_id=vote.id, household_id=household.id)).scalar_one_or_none()
    if htmx:
        return render("votes/_ballot_row.html", vote=vote, h=household, b=b, editable=True, choices=CHOICES,
                      items=items, picked=logic.choices_of(vote, [household.id]), owners=owners.owners_of([household.id]),
                      errors=errors, saved=not errors, form_data=request.form if errors else None)
    if errors:
        flash(f"{household.label}：" + "；".join(errors.values()), "danger")
    else:
        flash(f"已登记 {household.label} 的表决意见。", "success")
    # Back to the same page of the sheet: only the sheet's own filters are carried over (an
    # arbitrary query string would clash with url_for's own arguments).
    keep = {k: v for k, v in request.args.items() if k in ("q", "voted", "page")}
    return redirect(url_for("votes.ballots", owner_vote_id=vote.id, **keep))
