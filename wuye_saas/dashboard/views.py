"""Each role's landing page: what its slice of the district holds."""
from sqlalchemy import func, select

from .. import policy
from ..extensions import db
from ..org import models as m
from ..web import current_membership, render, tenant_blueprint

bp = tenant_blueprint("dashboard", __name__)

COUNTED = [("streets", m.Street, "街道"), ("communities", m.Community, "社区"),
           ("compounds", m.Compound, "小区"), ("households", m.Household, "住户"),
           ("firms", m.Firm, "物业企业"), ("committees", m.Committee, "业委会/物管会")]


def _count(mem, model, *where):
    stmt = select(func.count(model.id)).where(policy.visible(mem, model), *where)
    return db.session.execute(stmt).scalar_one()


@bp.route("/")
def home():
    mem = current_membership()
    stats = [(key, label, _count(mem, model)) for key, model, label in COUNTED]
    stats = [s for s in stats if s[2] or policy.can(mem, "create")]
    modes = dict(db.session.execute(
        select(m.Compound.management_mode, func.count(m.Compound.id))
        .where(policy.visible(mem, m.Compound)).group_by(m.Compound.management_mode)).all())
    total = sum(modes.values())
    by_mode = [(mode, modes.get(mode, 0), round(modes.get(mode, 0) * 100 / total, 1) if total else 0)
               for mode in m.MANAGEMENT_MODES]
    party = dict(db.session.execute(
        select(m.Firm.party_status, func.count(m.Firm.id))
        .where(policy.visible(mem, m.Firm)).group_by(m.Firm.party_status)).all())
    return render("dashboard/home.html", stats=stats, by_mode=by_mode, total=total,
                  party=[(s, party.get(s, 0)) for s in m.PARTY_STATUSES])
