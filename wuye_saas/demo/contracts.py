"""The demo district's 合同备案: the demo firm's contract filed through the three reviews (with its
number), filings of the demo community's other compounds in review — one at the street past its
same-day deadline, one just arrived at the community — and one returned with the reason; the
district's other serving contracts stay 未备案. A red-listed firm's contract of the published
季测评 is brought to end within 45 days, so the 即将到期 list shows its 优先续约."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from .. import audit
from ..auth.models import Membership
from ..contracts import filing
from ..contracts.models import ContractFiling, FilingFile, FilingReview
from ..evaluation.models import Assessment, Evaluation
from ..extensions import db
from ..org.models import Compound, Contract
from ..publicity.accounts import Upload, save_upload
from ..tenancy import tenant_scope
from ..timeutil import SHANGHAI, today

SCAN = b"%PDF-1.4\n% demo: signed property service contract scan\n%%EOF\n"


def _utc(day, hour: int) -> datetime:
    """A Shanghai working-hours moment of `day`, stored as naive UTC."""
    return datetime.combine(day, time(hour)).replace(tzinfo=SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)


def _working_days_before(day, n: int):
    while n:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def seed_filings(tenant_id: int, demo_compound_id: int | None, demo_firm_id: int | None, folder: str) -> dict:
    counts = {"contract_filings": 0}
    if demo_compound_id is None:
        return counts
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        d = today()
        users = {m.role: m.user_id for m in db.session.execute(select(Membership).order_by(Membership.id.desc()))
                 .scalars()}
        community_id = db.session.get(Compound, demo_compound_id).community_id
        contracts = db.session.execute(
            select(Contract).join(Compound, Compound.id == Contract.compound_id)
            .where(Compound.community_id == community_id, Contract.in_force(d))
            .order_by(Contract.compound_id != demo_compound_id, Contract.id)).scalars().all()
        r = filing.rule()

        def new(c: Contract, kind: str, status: str, at: datetime) -> ContractFiling:
            f = ContractFiling(contract_id=c.id, firm_id=c.firm_id, compound_id=c.compound_id, kind=kind,
                               service_grade=c.service_grade, fee_mode=c.fee_mode, fee_rate=c.fee_rate,
                               start_date=c.start_date, end_date=c.end_date, activates=False, status=status,
                               step_since=at, submitted_at=at, due_on=None,
                               filed_by_id=users.get("firm_manager") if c.firm_id == demo_firm_id else None)
            db.session.add(f)
            db.session.flush()
            name, ctype = save_upload(Upload("物业服务合同（签章扫描件）.pdf", SCAN), folder)
            db.session.add(FilingFile(filing_id=f.id, filename="物业服务合同（签章扫描件）.pdf", stored_name=name,
                                      content_type=ctype, size=len(SCAN)))
            counts["contract_filings"] += 1
            return f

        def passed(f, level, at, approve=True, reason=""):
            db.session.add(FilingReview(filing_id=f.id, level=level, approve=approve, reason=reason,
                                        due_on=filing.due_day(f.step_since, r.days(level)),
                                        user_id=users.get(filing.REVIEWER[level]), reviewed_at=at))

        plan = list(contracts[:4])
        if plan:   # the demo firm's own contract: filed, same-day at each level, a month ago
            c, day = plan.pop(0), _working_days_before(d, 22)
            f = new(c, "elected", "filed", _utc(day, 9))
            for level, hour in (("community", 10), ("street", 14), ("district", 16)):
                passed(f, level, _utc(day, hour))
            f.number_seq, f.number = filing._next_number(r.number_prefix, day.year)
            f.number_year, f.filed_at, f.filed_on, f.approved_by_id = day.year, _utc(day, 16), day, users.get(
                "district_admin")
        if plan:   # at the street since three working days ago: past its same-day deadline
            c, day = plan.pop(0), _working_days_before(d, 3)
            f = new(c, "early", "street", _utc(day, 9))
            passed(f, "community", _utc(day, 11))
            f.step_since, f.due_on = _utc(day, 11), filing.due_day(_utc(day, 11), r.days("street"))
        if plan:   # just arrived at the community: due today
            c = plan.pop(0)
            f = new(c, "elected", "community", _utc(_working_days_before(d, 0), 9))
            f.due_on = filing.due_day(f.step_since, r.days("community"))
        if plan:   # returned by the community with its reason
            c, day = plan.pop(0), _working_days_before(d, 2)
            f = new(c, "early", "returned", _utc(day, 9))
            passed(f, "community", _utc(day, 15), approve=False,
                   reason="附件缺少业主大会选聘决议，请补充后重新提交。")

        # 优先续约: a red-listed firm of the latest published evaluation, its contract ending soon.
        red = db.session.execute(
            select(Assessment.firm_id, Assessment.compound_id)
            .join(Evaluation, Evaluation.id == Assessment.evaluation_id)
            .where(Evaluation.status == "published", Assessment.list_kind == "red",
                   Assessment.compound_id.is_not(None))
            .order_by(Evaluation.period_end.desc(), Assessment.id).limit(1)).first()
        if red is not None:
            c = db.session.execute(select(Contract).where(
                Contract.firm_id == red.firm_id, Contract.compound_id == red.compound_id, Contract.in_force(d))
                .limit(1)).scalar_one_or_none()
            if c is not None:
                c.end_date = d + timedelta(days=45)
                counts["expiring_priority"] = 1
        db.session.flush()
        db.session.commit()
    return counts
