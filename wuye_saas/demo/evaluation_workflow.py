"""The demo district's evaluation cycles on the active standard (the standards demo adopts the
default one): last quarter's 季测评, every assessment self-reported, reviewed by the community
(some scores changed, with reasons) and confirmed by the street, one firm vetoed — ready for
the district to finalize and publish; and last month's 月抽查, open now: some firms have
submitted, some are reviewed or confirmed, one report is back with the firm for correction, and
the demo firm's sheet of the demo compound is a half-filled draft (its committee has not
scored yet: the demo committee account finds it in 待办). The compounds' committees scored the
finished quarter (most of them, each with its opinion; the rest count 0).

Scores go through `rules.item_points`; the rows are written in bulk (thousands of item scores)
with one summary audit event per cycle. Evidence: the demo firm's files are its own; the other
firms' evidence rows share one sample file."""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import bindparam, insert, select, update

from .. import audit
from ..auth.models import Membership
from ..evaluation import cycles, standards, workflow
from ..evaluation.models import Assessment, Evaluation, Evidence, ItemScore, StandardItem
from ..evaluation.rules import item_points
from ..extensions import db
from ..org.models import Community, Compound
from ..tenancy import current_tenant_id, tenant_scope
from ..timeutil import SHANGHAI, now, today

REASONS = ["现场抽查发现楼道堆物未清理", "巡查记录与自评不符", "电梯维保记录缺两次", "绿地有裸土、补植未完成",
           "业主投诉核实属实", "公示栏未按月更新"]
# The owners' committees' opinions (业委会履约评价): share of the maximum → the note written.
COMMITTEE_OPINIONS = [("1", "履约良好，报修响应及时，收支按时公示"), ("0.9", "总体满意，节假日保洁人手偏少"),
                      ("0.8", "基本履约，车辆停放管理有待加强"), ("0.6", "电梯故障多次反映处理不及时，业主意见较大")]
VETO_REASON = "物业服务合同已于上季度终止，企业拒不撤出、拒不移交共用设施设备（街道现场核实）"
RETURN_NOTE = "保洁扣分次数与社区巡查记录不一致，请核实后重新填报，并补充设施设备维保记录。"
SAMPLE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
              b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _at(day: date, rng: random.Random) -> datetime:
    """A working-hours moment of a Shanghai day (never later than now), as naive UTC."""
    local = datetime.combine(min(day, today()), time(9), SHANGHAI) + timedelta(minutes=rng.randint(0, 8 * 60))
    return min(local.astimezone(timezone.utc).replace(tzinfo=None), now())


def _in_order(moments: list[datetime], rng: random.Random) -> list[datetime]:
    """The moments of one workflow's steps, each after the one before and none after now (a
    street confirmation never precedes the community review it confirms)."""
    out: list[datetime] = []
    for t in moments:
        out.append(t if not out or t > out[-1] else out[-1] + timedelta(minutes=rng.randint(10, 120)))
    cap = now()
    for i in range(len(out) - 1, -1, -1):   # what ran past now moves back below it, in order
        cap = out[i] = min(out[i], cap - timedelta(minutes=rng.randint(1, 5)))
    return out


def _self_entry(item: StandardItem, rng: random.Random) -> workflow.Entry:
    """A plausible self-report: firms score themselves well."""
    if item.method == "deduction":
        return workflow.Entry(occurrences=str(rng.choices([0, 1, 2, 3], [50, 30, 15, 5])[0]))
    if item.method == "yesno":
        return workflow.Entry(points=str(item.max_points if rng.random() < 0.9 else 0))
    levels = sorted((lv["points"] for lv in item.levels), key=float)
    if item.kind == "bonus":
        return workflow.Entry(points=levels[0])
    return workflow.Entry(points=levels[-1] if rng.random() < 0.6 else levels[max(len(levels) - 2, 0)])


def _reviewed(item: StandardItem, points, occ, rng: random.Random):
    """The reviewer's score: usually the self-score, sometimes lower with a reason."""
    if rng.random() >= 0.15:
        return points, occ, ""
    if item.method == "deduction":
        occ = (occ or 0) + rng.randint(1, 2)
        return item_points(item, occurrences=occ), occ, rng.choice(REASONS)
    if item.method == "yesno":
        return item_points(item, points=0), None, rng.choice(REASONS)
    lower = [lv["points"] for lv in item.levels if float(lv["points"]) < float(points)]
    if not lower:
        return points, occ, ""
    return item_points(item, points=max(lower, key=float)), None, rng.choice(REASONS)


def _uploaded(day: date, submitted: datetime | None, rng: random.Random) -> datetime:
    """Evidence is uploaded while the sheet is filled in: before it is submitted."""
    at = _at(day, rng)
    return at if submitted is None or at < submitted else submitted - timedelta(minutes=rng.randint(5, 60))


def _opened(ev: Evaluation, first: datetime | None, rng: random.Random) -> None:
    """The cycle was opened the day before its period began — before its surveys (which may open
    inside the period) and any submission — and its standard was in force before that (the
    seeds run today, the story is in the past)."""
    opened = _at(ev.period_start - timedelta(days=1), rng)
    if first is not None:
        opened = min(opened, first - timedelta(hours=1))
    ev.created_at = min(ev.created_at, opened)
    std = ev.standard
    std.frozen_at = min(std.frozen_at or ev.created_at, ev.created_at)
    std.activated_at = min(std.activated_at or std.frozen_at, std.frozen_at - timedelta(days=1))
    std.created_at = min(std.created_at, std.activated_at - timedelta(days=1))


class _Filler:
    def __init__(self, ev: Evaluation, rng: random.Random, folder: str, demo_firm_id: int | None):
        self.ev, self.rng, self.folder, self.demo_firm_id = ev, rng, folder, demo_firm_id
        self.tid = current_tenant_id()
        self.items = {i.id: i for i in ev.standard.items}
        self.users = {role: {} for role in ("community_staff", "street_staff", "committee_member")}
        for mem in db.session.execute(select(Membership).where(Membership.role.in_(list(self.users)))).scalars():
            key = {"community_staff": mem.community_id, "street_staff": mem.street_id}.get(mem.role, mem.compound_id)
            self.users[mem.role].setdefault(key, mem.user_id)
        self.place = {c: (comm, street) for c, comm, street in db.session.execute(
            select(Compound.id, Compound.community_id, Community.street_id).join(Community))}
        # Its own stream: the committees' opinions leave every other demo draw as it was.
        self.committee_rng = random.Random(f"{ev.kind}-committee")
        self.shared_file = None
        self.first: datetime | None = None      # the earliest submission
        self.score_rows, self.assessment_rows, self.evidence_rows = [], [], []

    def _file(self, firm_id: int) -> tuple[str, int]:
        """A stored evidence file: the demo firm's own, the others' one shared sample."""
        if firm_id != self.demo_firm_id and self.shared_file:
            return self.shared_file
        name = f"{uuid.uuid4().hex}.pdf"
        path = workflow.evidence_path(self.folder, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(SAMPLE_PDF)
        if firm_id != self.demo_firm_id:
            self.shared_file = (name, len(SAMPLE_PDF))
        return name, len(SAMPLE_PDF)

    def _committee(self, item: StandardItem, compound_id: int) -> tuple:
        """The compound's committee's opinion: points, note, its member's account (if it has one)."""
        share, note = self.committee_rng.choices(COMMITTEE_OPINIONS, [40, 30, 20, 10])[0]
        pts = item_points(item, points=(item.max_points * Decimal(share)).quantize(Decimal("0.01")))
        return pts, note, self.users["committee_member"].get(compound_id)

    def fill(self, a, scores: list[tuple[int, int]], stage: str, *, partial=False, veto=False, note="",
             submitted_on: date | None = None, committee_rate: float = 0.0) -> None:
        """Write one assessment at `stage` (draft / submitted / returned / reviewed / confirmed);
        its committee scored its items with probability `committee_rate` (the rest count 0)."""
        rng, order = self.rng, ["draft", "submitted", "returned", "reviewed", "confirmed"]
        reached = order.index(stage)
        comm_street = self.place.get(a.compound_id, (None, None))
        reviewer = self.users["community_staff"].get(comm_street[0]) if a.compound_id else None
        confirmer = self.users["street_staff"].get(comm_street[1]) if a.compound_id else None
        day = submitted_on or self.ev.self_report_due
        days = [day] + ([min(day + timedelta(days=3), self.ev.review_due)] if reached >= 3 else []) \
            + ([max(self.ev.review_due, day)] if stage == "confirmed" else [])
        times = _in_order([_at(x, rng) for x in days], rng) if reached > 0 else []
        submitted = times[0] if times else None
        if submitted is not None:
            self.first = min(self.first or submitted, submitted)
        vetoed_one = False
        committee_scored = a.compound_id is not None and self.committee_rng.random() < committee_rate
        for sid, iid in scores:
            item = self.items[iid]
            row = {"b_id": sid, "b_sp": None, "b_so": None, "b_note": "", "b_rp": None, "b_ro": None, "b_reason": "",
                   "b_reviewer": None, "b_vetoed": False}
            if workflow.self_scorable(item) and (reached > 0 or (partial and rng.random() < 0.5)):
                e = _self_entry(item, rng)
                if item.method == "deduction":
                    row["b_sp"], row["b_so"] = item_points(item, occurrences=e.occurrences), int(e.occurrences)
                else:
                    row["b_sp"] = item_points(item, points=e.points)
                if workflow.needs_evidence(item, row["b_sp"]):
                    name, size = self._file(a.firm_id)
                    self.evidence_rows.append({"tenant_id": self.tid, "item_score_id": sid, "stored_name": name,
                                               "filename": f"{item.name[:20]}证明材料.pdf", "content_type": "application/pdf",
                                               "size": size, "uploaded_at": _uploaded(day, submitted, rng)})
            level = workflow.level_of(item)
            if item.kind == "veto":
                if stage == "confirmed":
                    occurred = veto and not vetoed_one
                    vetoed_one = vetoed_one or occurred
                    row.update(b_rp=0, b_vetoed=occurred, b_reason=VETO_REASON if occurred else "",
                               b_reviewer=confirmer)
            elif level in ("community", "assessor") and reached >= 3 and row["b_sp"] is not None:
                row["b_rp"], row["b_ro"], row["b_reason"] = _reviewed(item, row["b_sp"], row["b_so"], rng)
                row["b_reviewer"] = reviewer
            elif level == "street" and stage == "confirmed" and row["b_sp"] is not None:
                row["b_rp"], row["b_ro"], row["b_reviewer"] = row["b_sp"], row["b_so"], confirmer
            elif level == "committee" and committee_scored:
                row["b_rp"], row["b_reason"], row["b_reviewer"] = self._committee(item, a.compound_id)
            self.score_rows.append(row)
        self.assessment_rows.append({
            "b_id": a.id, "b_status": stage, "b_note": note,
            "b_submitted": submitted,
            "b_reviewed": times[1] if reached >= 3 else None,
            "b_reviewer": reviewer if reached >= 3 else None,
            "b_confirmed": times[2] if stage == "confirmed" else None,
            "b_confirmer": confirmer if stage == "confirmed" else None})

    def write(self) -> None:
        conn = db.session.connection()
        st, at = ItemScore.__table__, Assessment.__table__
        if self.score_rows:
            conn.execute(update(st).where(st.c.id == bindparam("b_id"), st.c.tenant_id == self.tid).values(
                self_points=bindparam("b_sp"), self_occurrences=bindparam("b_so"), self_note=bindparam("b_note"),
                review_points=bindparam("b_rp"), review_occurrences=bindparam("b_ro"),
                review_reason=bindparam("b_reason"), reviewer_id=bindparam("b_reviewer"),
                vetoed=bindparam("b_vetoed")), self.score_rows)
        if self.assessment_rows:
            conn.execute(update(at).where(at.c.id == bindparam("b_id"), at.c.tenant_id == self.tid).values(
                status=bindparam("b_status"), return_note=bindparam("b_note"), submitted_at=bindparam("b_submitted"),
                reviewed_at=bindparam("b_reviewed"), reviewed_by_id=bindparam("b_reviewer"),
                confirmed_at=bindparam("b_confirmed"), confirmed_by_id=bindparam("b_confirmer")),
                self.assessment_rows)
        if self.evidence_rows:
            db.session.execute(insert(Evidence), self.evidence_rows)
        audit.record_event("update", "assessment", f"{self.ev.name}：演示自评与审核",
                           {"assessments": len(self.assessment_rows), "item_scores": len(self.score_rows),
                            "evidence": len(self.evidence_rows)}, entity_id=self.ev.id)
        db.session.flush()
        db.session.expire_all()   # the bulk writes bypassed the session


def _scores_by_assessment(ev: Evaluation) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    for sid, aid, iid in db.session.execute(select(ItemScore.id, ItemScore.assessment_id, ItemScore.item_id)
                                            .join(Assessment).where(Assessment.evaluation_id == ev.id)
                                            .order_by(ItemScore.id)):
        out.setdefault(aid, []).append((sid, iid))
    return out


def _assessments(ev: Evaluation) -> list[Assessment]:
    return list(db.session.execute(select(Assessment).where(Assessment.evaluation_id == ev.id)
                                   .order_by(Assessment.id)).scalars())


def _assign_assessor(ev: Evaluation) -> None:
    """The district's first assessor account checks the items the standard gives to 第三方测评."""
    found = cycles.assessors()
    if found:
        cycles.assign_assessors(ev, {item.id: found[0].id for item in cycles.assessor_items(ev)})


def seed_evaluation_workflow(tenant_id: int, demo_compound_id: int | None, demo_firm_id: int | None, folder: str,
                             seed: int = 1151) -> dict:
    """The two demo cycles; nothing when there is no active standard or cycles exist already."""
    rng = random.Random(seed)
    counts = {"evaluations": 0, "assessments": 0}
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        std = standards.active_standard()
        if std is None or db.session.execute(select(Evaluation.id).limit(1)).first():
            return counts
        district = db.session.execute(select(Membership).where(Membership.role == "district_admin")
                                      .order_by(Membership.id).limit(1)).scalar_one()
        per_compound, d = std.unit == "compound", today()

        # Last quarter's 季测评: finished, every assessment confirmed; one firm vetoed.
        s = cycles.suggest("quarterly", d)
        due = max(s["period_start"], min(s["period_end"] + timedelta(days=10), d - timedelta(days=2)))
        review_due = max(due, min(s["period_end"] + timedelta(days=20), d - timedelta(days=1)))
        firms = [f.id for f, _ in cycles.firms_in_period(s["period_start"], s["period_end"])]
        if not firms:
            return counts
        q = cycles.open_evaluation(district, std, "quarterly", s["name"], s["period_start"], s["period_end"], due,
                                   review_due, 7, firms, per_compound)
        _assign_assessor(q)
        filler, by_a = _Filler(q, rng, folder, demo_firm_id), _scores_by_assessment(q)
        rows = _assessments(q)
        unlucky = next((a.id for a in reversed(rows) if a.firm_id != demo_firm_id), None)
        for a in rows:
            on = min(max(due - timedelta(days=rng.randint(0, 5)), s["period_end"] + timedelta(days=1)), d)
            filler.fill(a, by_a[a.id], "confirmed", veto=a.id == unlucky, submitted_on=on, committee_rate=0.9)
        filler.write()
        _opened(q, filler.first, rng)
        q.status = "reviewing"
        counts["evaluations"] += 1
        counts["assessments"] += len(rows)

        # Last month's 月抽查: open, deadlines ahead.
        s = cycles.suggest("monthly", d)
        firms = [f.id for f, _ in cycles.firms_in_period(s["period_start"], s["period_end"])]
        mth = cycles.open_evaluation(district, std, "monthly", s["name"], s["period_start"], s["period_end"],
                                     d + timedelta(days=7), d + timedelta(days=14), 7, firms, per_compound)
        _assign_assessor(mth)
        filler, by_a = _Filler(mth, rng, folder, demo_firm_id), _scores_by_assessment(mth)
        rows = _assessments(mth)
        returned = next((a.id for a in rows if a.firm_id != demo_firm_id), None)
        for a in rows:
            on = min(max(d - timedelta(days=rng.randint(0, 3)), s["period_end"] + timedelta(days=1)), d)
            if a.firm_id == demo_firm_id and a.compound_id in (demo_compound_id, None):
                filler.fill(a, by_a[a.id], "draft", partial=True, submitted_on=on)
            elif a.id == returned:
                filler.fill(a, by_a[a.id], "returned", note=RETURN_NOTE, submitted_on=on, committee_rate=0.5)
            else:
                stage = rng.choices(["draft", "submitted", "reviewed", "confirmed"], [45, 30, 15, 10])[0]
                filler.fill(a, by_a[a.id], stage, partial=stage == "draft" and rng.random() < 0.4, submitted_on=on,
                            committee_rate=0.5)
        filler.write()
        _opened(mth, filler.first, rng)
        counts["evaluations"] += 1
        counts["assessments"] += len(rows)
    return counts
