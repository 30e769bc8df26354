"""The public publicity board (公示栏), no login: a district's compounds and its signing keys,
a compound's publications with objections and answers, one publication with its chain and
signature verification, the printable A4 notice whose QR code carries its signed chain head,
and the verify page that checks such a head against the chain as it is now."""
from __future__ import annotations

import segno
from flask import abort, request, url_for

from ..evaluation import surveys
from ..extensions import db
from ..web import page_arg, public_blueprint, render
from . import chain, keys, publications
from .forms import HeadForm
from .models import OBJECTION_STATUSES, PUBLICATION_KINDS

bp = public_blueprint("board", __name__)


@bp.app_template_filter("grouped")
def grouped(hex_text: str | None, size: int = 8) -> str:
    """Long hex in groups, to read off paper and type back (the verify form drops the spaces)."""
    text = hex_text or ""
    return " ".join(text[i:i + size] for i in range(0, len(text), size))


@bp.route("/")
def index():
    q = request.args.get("q", "")
    page = db.paginate(publications.public_compounds_query(q), page=page_arg(), per_page=20, error_out=False)
    return render("publicity/board/index.html", "publicity/board/_compounds.html", page=page, q=q,
                  args=request.args, counts=publications.publication_counts([c.id for c in page.items]))


@bp.route("/keys")
def signing_keys():
    """The district's public keys, read from the key directory (never the database)."""
    return render("publicity/board/keys.html", keys=list(reversed(keys.trusted(chain.district_slug()).values())))


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
    return render("publicity/board/compound.html", c=c, page=page, args=request.args, kinds=PUBLICATION_KINDS,
                  verdict=chain.verify(c.id), survey=(running or [None])[0], upcoming=upcoming,
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
                  verify_link=verify_url(p) if p.signature else None,
                  verdict=chain.verify(c.id, upto_seq=seq), check=publications.recheck(p),
                  objections=publications.objections_of([p.id]).get(p.id, []), statuses=OBJECTION_STATUSES)


def verify_url(p, **kw) -> str:
    """The verify page with a publication's signed chain head as parameters (the notice's QR)."""
    return url_for("board.verify", compound_id=p.compound_id, seq=p.seq, h=p.content_hash, sig=p.signature,
                   k=p.key_id, **kw)


@bp.route("/c/<int:compound_id>/p/<int:seq>/print")
def print_notice(compound_id: int, seq: int):
    """The A4 notice. A signed publication's QR code carries its chain head to the verify
    page; an unsigned (v1) one's only the address of the online copy."""
    c, p = _publication(compound_id, seq)
    online = url_for("board.publication", compound_id=c.id, seq=p.seq, _external=True)
    target = verify_url(p, _external=True) if p.signature else online
    return render("publicity/board/print.html", c=c, p=p, online=online, kinds=PUBLICATION_KINDS,
                  qr=segno.make(target, error="m").svg_inline(scale=4, omitsize=True), qr_target=target)


@bp.route("/c/<int:compound_id>/verify")
def verify(compound_id: int):
    """Check a chain head from a printed notice (its QR code fills the form) against the chain
    now. GET only: it changes nothing, and a scanned code opens it directly."""
    c = _compound(compound_id)
    form = HeadForm(formdata=request.args, meta={"csrf": False})
    result, status = None, 200
    if request.args:
        if form.validate():
            result = chain.check_head(c.id, form.seq.data, form.h.data, form.sig.data, form.k.data)
        else:
            status = 422
    return render("publicity/board/verify.html", c=c, form=form, result=result), status
