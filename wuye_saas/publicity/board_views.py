"""The public publicity board (公示栏), no login: a district's compounds, a compound's
publications with objections and answers, one publication with its chain verification, and
the printable A4 notice with a QR code to the online copy."""
from __future__ import annotations

import segno
from flask import abort, request, url_for

from ..evaluation import surveys
from ..extensions import db
from ..web import page_arg, public_blueprint, render
from . import chain, publications
from .models import OBJECTION_STATUSES, PUBLICATION_KINDS

bp = public_blueprint("board", __name__)


@bp.route("/")
def index():
    q = request.args.get("q", "")
    page = db.paginate(publications.public_compounds_query(q), page=page_arg(), per_page=20, error_out=False)
    return render("publicity/board/index.html", "publicity/board/_compounds.html", page=page, q=q,
                  args=request.args, counts=publications.publication_counts([c.id for c in page.items]))


def _compound(compound_id: int):
    # The tenant filter applies: another district's compound id is a 404 under this slug.
    c = publications.compound_or_none(compound_id)
    if c is None:
        abort(404)
    return c


@bp.route("/c/<int:compound_id>/")
def compound(compound_id: int):
    c = _compound(compound_id)
    page = db.paginate(publications.board_query(c.id), page=page_arg(), per_page=10, error_out=False)
    running, upcoming, _ = surveys.public_surveys(c.id)
    return render("publicity/board/compound.html", c=c, page=page, survey=(running or [None])[0], upcoming=upcoming, args=request.args, kinds=PUBLICATION_KINDS,
                  objections=publications.objections_of([p.id for p in page.items]), statuses=OBJECTION_STATUSES)


def _publication(compound_id: int, seq: int):
    c = _compound(compound_id)
    p = publications.by_seq(c.id, seq)
    if p is None:
        abort(404)
    return c, p


@bp.route("/c/<int:compound_id>/p/<int:seq>")
def publication(compound_id: int, seq: int):
    c, p = _publication(compound_id, seq)
    return render("publicity/board/publication.html", c=c, p=p, kinds=PUBLICATION_KINDS,
                  verdict=chain.verify(c.id, upto_seq=seq), check=publications.recheck(p),
                  objections=publications.objections_of([p.id]).get(p.id, []), statuses=OBJECTION_STATUSES)


@bp.route("/c/<int:compound_id>/p/<int:seq>/print")
def print_notice(compound_id: int, seq: int):
    c, p = _publication(compound_id, seq)
    online = url_for("board.publication", compound_id=c.id, seq=p.seq, _external=True)
    return render("publicity/board/print.html", c=c, p=p, online=online, kinds=PUBLICATION_KINDS,
                  qr=segno.make(online, error="m").svg_inline(scale=4, omitsize=True))
