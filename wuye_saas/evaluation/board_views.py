"""The district's public 红黑榜 (no login): the red and black lists of every published
evaluation, newest first — firm, compound, stars and total only; no scores of items, no
reviewers' notes, nothing of unpublished evaluations."""
from __future__ import annotations

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..org.models import Firm
from ..web import page_arg, public_blueprint, render
from .models import CYCLE_KINDS, Assessment, Evaluation

bp = public_blueprint("redblack", __name__)

PUBLIC_LISTS = ("red", "black")


@bp.route("/redblack")
def index():
    stmt = (select(Evaluation).where(Evaluation.status == "published")
            .order_by(Evaluation.published_at.desc(), Evaluation.id.desc()))
    page = db.paginate(stmt, page=page_arg(), per_page=5, error_out=False)
    ids = [e.id for e in page.items]
    listed: dict[int, dict[str, list]] = {e: {k: [] for k in PUBLIC_LISTS} for e in ids}
    if ids:
        rows = db.session.execute(
            select(Assessment).join(Firm, Firm.id == Assessment.firm_id)
            .where(Assessment.evaluation_id.in_(ids), Assessment.list_kind.in_(PUBLIC_LISTS))
            .options(joinedload(Assessment.firm), joinedload(Assessment.compound))
            .order_by(Assessment.rank, Firm.name, Assessment.id)).scalars().all()
        for a in rows:
            listed[a.evaluation_id][a.list_kind].append(a)
    return render("evaluation/board/redblack.html", page=page, listed=listed, kinds=CYCLE_KINDS, args=request.args)
