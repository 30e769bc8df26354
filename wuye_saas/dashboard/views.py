"""Each role's landing page: what its slice of the district holds."""
from sqlalchemy import func, select

from .. import policy, timeutil
from ..extensions import db
from ..fees import payments
from ..fees.models import Bill
from ..org import models as m
from ..publicity import schedule
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
                  party=[(s, party.get(s, 0)) for s in m.PARTY_STATUSES], figures=_figures(mem))


def _figures(mem) -> list[tuple[str, str, str, str]]:
    """(label, value, note, endpoint) of the key rates in this membership's scope."""
    out = []
    today = timeutil.today()
    if policy.reaches(mem, Bill):
        months, _, total = payments.collection(mem, today, months=2)
        last = months[0]
        out.append(("上月缴费率", total.text(last), f"{last:%Y年%m月}账单居民应缴部分的收回比例",
                    "payments.collection"))
    if mem.role in ("district_admin", "street_staff", "community_staff"):
        ids = db.session.execute(select(m.Compound.id).where(policy.visible(mem, m.Compound))).scalars().all()
        rate = schedule.compliance_rate(ids, today)
        value = "—" if rate is None else payments.rate_text(rate.numerator, rate.denominator)
        out.append(("公示按时率", value, "按本区公示要求，最近一期已到期的公示按时发布的比例",
                    "checks.compliance"))
    return out
