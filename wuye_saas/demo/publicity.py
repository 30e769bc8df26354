"""The demo district's accounts and publicity: the publicity schedule from RULES.md, two
years of 专项维修资金 and 公共收益 entries (公共收益 also where a firm collects it without a
committee), and the publications a 红色物业 district shows (`_publish_history`): every firm's
standing fee notice (明码标价) when its contract starts, and per the district's publicity
requirements the periodic statements and disclosures of the periods the dashboard judges —
most on time, some late, some never — each through the real publishing function, so every
compound's hash chain verifies; the demo compound's owner votes (demo/votes.py) publish their
notices and results among them in date order. The demo compound's last-quarter 公共收益 statement carries one
objection (质询) that the firm has answered. The district has a first-deposit standard and
adopts 北京 第74条; the demo compound's fund is kept per household (分户账): its first deposit at
the standard, interest, a lift replacement for two buildings and a roof repair for all, which
leave it below 30% of the first deposit (the warning), so its yearly fund statement shows the
sub-accounts."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select

from .. import audit
from ..auth.models import Membership, User
from ..extensions import db
from ..indicators import definitions as ind
from ..indicators import snapshots
from ..org.models import Building, Committee, Compound, Contract, Firm
from ..publicity import chain, checks, fee_income, fund, keys, ledger, publications, schedule
from ..publicity import templates_content as tc
from ..publicity.accounts import keeper_of
from ..publicity.models import LEDGER_KINDS, LedgerEntry, LedgerKeeper
from ..tenancy import current_tenant_id, tenant_scope
from ..timeutil import SHANGHAI, local, today
from ..timeutil import now as utc_now
from ..votes.models import Ballot, OwnerVote
from . import yearly_reports
from .votes import plan_votes

NOTICE_TEXTS = {"payer": "本小区全体业主（物业使用人按约定代缴）",
                "service_content": "公共区域保洁、秩序维护、绿化养护、共用设施设备日常维修养护、装修管理服务",
                "items": "物业服务费（不含专项维修资金、停车服务费）",
                "basis_text": "《物业服务收费管理办法》、本区物业服务收费政策及物业服务合同"}
REVENUE = [("停车费", 180_000, 420_000), ("广告费", 30_000, 120_000), ("场地租赁", 20_000, 60_000),
           ("快递柜", 5_000, 15_000)]
SPENDING = [("公共设施维修", 20_000, 150_000), ("补充维修资金", 50_000, 200_000)]


def _quarter_before(d: date) -> tuple[date, date]:
    first = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    end = first - timedelta(days=1)
    return date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end


def seed_publicity(tenant_id: int, demo_compound_id: int, demo_firm_id: int, seed: int = 1151) -> dict:
    rng, now = random.Random(seed), today()
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        counts = {"requirements": schedule.seed_defaults()}
        # Here the firms collect and keep the common parts' income (代收代管) and the committees
        # check it — so an objection goes from the committee to the firm.
        db.session.add(LedgerKeeper(kind="public_revenue", keeper="firm"))
        with_committee = set(db.session.execute(select(Committee.compound_id).distinct()).scalars())
        # A firm collects the common parts' income where it serves, with a committee or not.
        served = set(db.session.execute(select(Contract.compound_id).where(
            Contract.start_date <= now, Contract.end_date >= now)).scalars())
        areas = dict(db.session.execute(select(Compound.id, Compound.area_m2)
                                        .where(Compound.id.in_(with_committee | served))).all())
        rows = []
        for cid in sorted(with_committee | served):
            start = now - timedelta(days=730)
            if cid in with_committee and cid != demo_compound_id:
                area = areas.get(cid) or Decimal("20000")
                # 首期交存: ≈ 100 元/㎡ (5–8% of the construction cost, 令165), then yearly interest.
                deposit = int(area * 100 * 100)
                rows.append(_entry(cid, "maintenance_fund", start, "首期交存", deposit, "全体业主"))
                rows.append(_entry(cid, "maintenance_fund", start + timedelta(days=365), "利息", deposit // 70,
                                   "开户银行"))
            for month in range(24):
                day = start + timedelta(days=30 * month + rng.randint(0, 25))
                if day >= now:
                    break
                for category, lo, hi in REVENUE[:2 if rng.random() < 0.5 else 4]:
                    rows.append(_entry(cid, "public_revenue", day, category, rng.randint(lo, hi) // 10 * 10,
                                       "物业服务企业代收"))
                if rng.random() < 0.3:
                    category, lo, hi = rng.choice(SPENDING)
                    rows.append(_entry(cid, "public_revenue", day, category, -rng.randint(lo, hi) // 10 * 10,
                                       "施工单位"))
        _number_vouchers(rows)
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(LedgerEntry), rows[i:i + 5000])
        audit.record_event("create", "ledger_entry", f"演示账目 {len(rows)} 笔", changes={"entries": len(rows)})
        counts["ledger_entries"] = len(rows)
        counts["ledger_entries"] += _demo_fund(demo_compound_id, now - timedelta(days=730))
        # Under 酬金制 the firms have posted each past month's fee payments (缴费汇总入账);
        # this month's are still to post, so the page shows what is waiting.
        counts["ledger_entries"] += _post_fee_income(now)
        # The demo committee's members and their units' bills of the last finished half-year.
        counts.update(yearly_reports.prepare_member_fees(demo_compound_id, now))

        firm_user = _user_of("firm_manager", firm_id=demo_firm_id)
        chair = _user_of("committee_member", compound_id=demo_compound_id)
        made, statement = _publish_history(random.Random(seed + 1), demo_compound_id, demo_firm_id, firm_user, chair)
        counts["publications"] = made
        counts["owner_votes"] = db.session.execute(select(func.count(OwnerVote.id))).scalar_one()
        counts["ballots"] = db.session.execute(select(func.count(Ballot.id))).scalar_one()
        _objection(statement, chair, firm_user)
        db.session.flush()
    return counts


def _demo_fund(compound_id: int, start: date) -> int:
    """The district's standard (1,600 元/㎡ × 6%, 北京 第74条 adopted) and the demo compound's
    fund, split per household as it is posted; how many entries."""
    r = fund.set_rule(160_000, Decimal(6), True, Decimal(50))
    amounts = fund.standard_amounts(compound_id, r)
    first = sum(amounts.values())
    if not first:
        return 0
    lifts = list(db.session.execute(select(Building.id).where(Building.compound_id == compound_id)
                                    .order_by(Building.name_key).limit(2)).scalars())
    post = [(start, "首期交存", first, "全体业主", "首期交存：按本区标准逐户计算", {"basis": "standard", "amounts": amounts}),
            (start + timedelta(days=365), "利息", first // 70, "开户银行", "年度利息", {}),
            (start + timedelta(days=400), "使用支出", -(first * 45 // 100), "电梯工程公司",
             "维修资金使用：电梯更换（相关楼栋业主分摊）", {"basis": "buildings", "building_ids": lifts}),
            (start + timedelta(days=600), "使用支出", -(first * 32 // 100), "防水工程公司",
             "维修资金使用：屋面防水及外墙修缮", {"basis": "area"})]
    for day, category, amount, who, note, shares in post:
        ledger.add_entry(compound_id, "maintenance_fund", day, category, amount, counterparty=who,
                         voucher_no=f"记-{day:%Y%m}-900", note=note, shares=shares)
    return len(post)


def _post_fee_income(on: date) -> int:
    return fee_income.post_past_months(list(set(db.session.execute(select(Contract.compound_id).where(
        Contract.fee_mode == "酬金制", Contract.start_date <= on, Contract.end_date >= on)).scalars())), on)


def _entry(cid, kind, day, category, amount, counterparty) -> dict:
    return {"tenant_id": current_tenant_id(), "compound_id": cid, "kind": kind, "entry_date": day,
            "category": category, "amount_fen": amount, "counterparty": counterparty,
            "voucher_no": "", "note": f"{day:%Y年%m月}{category}"}


def _number_vouchers(rows: list[dict]) -> None:
    """Voucher numbers as a bookkeeper writes them: 记-年月-号, numbered per compound and month."""
    seq: dict = {}
    for row in sorted(rows, key=lambda r: (r["compound_id"], r["entry_date"])):
        key = (row["compound_id"], f"{row['entry_date']:%Y%m}")
        seq[key] = seq.get(key, 0) + 1
        row["voucher_no"] = f"记-{key[1]}-{seq[key]:03d}"


def _user_of(role: str, **scope) -> User | None:
    stmt = select(User).join(Membership, Membership.user_id == User.id).where(Membership.role == role)
    for key, value in scope.items():
        stmt = stmt.where(getattr(Membership, key) == value)
    return db.session.execute(stmt.limit(1)).scalar_one_or_none()


def _objection(p, chair: User | None, firm_user: User | None) -> None:
    """The chair asks about the parking income line; the firm, keeper of 公共收益 here, answers."""
    if p is None or chair is None or firm_user is None:
        return
    lines = checks.lines(p)
    target = next((ln for ln in lines if "停车" in ln.get("label", "") + ln.get("key", "")), lines[0] if lines else None)
    if target is None:
        return
    def membership(user):
        return db.session.execute(select(Membership).where(Membership.user_id == user.id)).scalar_one()

    with audit.acting_as(chair.id, chair.display_name):
        obj = checks.raise_objection(p, membership(chair), target["key"],
                                     "停车收入较上季度减少，请说明原因并附停车场收费明细。")
    with audit.acting_as(firm_user.id, firm_user.display_name):
        checks.answer(obj, membership(firm_user),
                      "本季度地下车库改造，部分车位停用两个月，收费明细已张贴于物业服务中心公示栏。")


# --- the publications -------------------------------------------------------------------------
DISCLOSURE_TEXTS = {
    "services": "公共区域保洁、秩序维护、绿化养护、共用设施设备日常维修养护、装修管理服务",
    "staff": "项目经理 1 名，客服、保洁、秩序维护、工程维修人员按合同配置，名单张贴于物业服务中心",
    "quality": "按物业服务合同约定的服务等级标准执行，接受业主委员会和社区监督",
}
PERFORMANCE = ["本期按合同完成各项服务，居民诉求均已按时限办结并回访。",
               "本期完成共用设施设备巡检和养护，消防设施检测合格，绿化补植已完成。",
               "本期完成楼道照明和单元门禁维修，电梯维保按期进行，未发生安全事故。"]
LATE = 0.5   # of the publications not made on time, the share made late (the rest never)


def _snapshot_days(on: date) -> list[date]:
    """The days the dashboard's twelve monthly snapshots are taken for (snapshots.day_for)."""
    current = ind.month_start(on)
    return [min(on, ind.month_end(ind.add_months(current, -k))) for k in range(snapshots.HISTORY_MONTHS)]


def _periods(req, on: date) -> list[tuple[date, date]]:
    """The periods the snapshots judge, and the ones already over but not yet due."""
    out = {schedule.due_period(req.frequency, req.grace_days, day)[:2] for day in _snapshot_days(on)}
    start, _ = schedule.period_containing(on, req.frequency)
    while True:
        start, end = schedule.period_containing(start - timedelta(days=1), req.frequency)
        if end + timedelta(days=req.grace_days) < on:
            break
        out.add((start, end))
    return sorted(out)


def _at(day: date, rng: random.Random, at_now: datetime) -> datetime:
    """A moment of office hours (Shanghai) on the day, as naive UTC, never after now."""
    loc = datetime.combine(day, time(9), SHANGHAI) + timedelta(minutes=rng.uniform(0, 510))
    at = loc.astimezone(timezone.utc).replace(tzinfo=None)
    return min(at, at_now - timedelta(minutes=rng.uniform(1, 30)))


def _publish_history(rng: random.Random, demo_compound_id: int, demo_firm_id: int, firm_user: User | None,
                     chair: User | None):
    """Publish the district's history in each compound's chain order; (count, the demo compound's
    last-quarter 公共收益 statement)."""
    on, at_now = today(), utc_now()
    compounds = {c.id: c for c in db.session.execute(select(Compound).order_by(Compound.id)).scalars()}
    contracts: dict[int, list] = {}
    for k, firm_name in db.session.execute(select(Contract, Firm.name).join(Firm, Firm.id == Contract.firm_id)
                                           .order_by(Contract.start_date, Contract.id)):
        contracts.setdefault(k.compound_id, []).append((k, firm_name))
    committees: dict[int, list] = {}
    for cm in db.session.execute(select(Committee).order_by(Committee.term_start)).scalars():
        committees.setdefault(cm.compound_id, []).append(cm)
    keepers = {kind: keeper_of(kind) for kind in LEDGER_KINDS}
    reliable: dict[tuple, float] = {("firm", demo_firm_id): 0.95}

    def firm_on(cid, day):
        valid = [(k, n) for k, n in contracts.get(cid, []) if k.start_date <= day <= k.end_date]
        return valid[-1] if valid else None   # the latest start

    def responsible(req, c, end, deadline):
        """(key, name, user, first and last day in office) of who publishes the period, or None: for a
        disclosure the firm serving at the period's end (its content needs that contract), for a
        statement whoever keeps the ledger when it is due."""
        day = end if req.kind == "disclosure" else min(deadline, on)
        if req.kind == "disclosure" or keepers.get(req.ledger_kind) == "firm":
            hit = firm_on(c.id, day)
            if hit is None or (req.ledger_kind == "fee_account" and hit[0].fee_mode != "酬金制"):
                return None
            k, name = hit
            return (("firm", k.firm_id), name, firm_user if k.firm_id == demo_firm_id else None, k.start_date,
                    k.end_date)
        cm = next((x for x in reversed(committees.get(c.id, [])) if x.term_start <= day <= x.term_end), None)
        if cm is None:
            return None
        return ("committee", c.id), cm.name, chair if c.id == demo_compound_id else None, cm.term_start, cm.term_end

    def share(key):
        if key not in reliable:   # firms mostly keep to the schedule; committees less so
            reliable[key] = rng.betavariate(9, 2) if key[0] == "firm" else rng.betavariate(6, 2)
        return reliable[key]

    plan = []   # (compound id, at, template, ledger kind, start, end, publisher name, user)
    # 明码标价: each firm posts its fee notice when its contract starts (before charging).
    horizon = on - timedelta(days=730)
    for cid, ks in contracts.items():
        for k, name in ks:
            if k.end_date < horizon or k.start_date > on:
                continue
            key = ("firm", k.firm_id)
            if k.firm_id == demo_firm_id or rng.random() < share(key) + 0.1:
                day = k.start_date + timedelta(days=rng.randint(0, 10))
            else:
                day = k.start_date + timedelta(days=rng.randint(40, 300))
            if day <= min(on, k.end_date):
                plan.append((cid, _at(day, rng, at_now), "standing_notice", None, None, None, name,
                             firm_user if k.firm_id == demo_firm_id else None))

    demo_quarter = _quarter_before(on)
    for req in db.session.execute(schedule.requirements_select()).scalars():
        if req.frequency == "standing" or req.kind not in ("ledger_statement", "disclosure"):
            continue
        for start, end in _periods(req, on):
            deadline = end + timedelta(days=req.grace_days)
            for c in compounds.values():
                if req.management_mode and req.management_mode != c.management_mode:
                    continue
                who = responsible(req, c, end, deadline)
                if who is None:
                    continue
                key, name, user, since, until = who
                forced = (c.id == demo_compound_id and req.ledger_kind == "public_revenue"
                          and (start, end) == demo_quarter)
                roll, p = rng.random(), share(key)
                if forced or roll < p:
                    span = max(req.grace_days, 1)
                    day = end + timedelta(days=min(req.grace_days, int(rng.triangular(1, span + 1, 1 + span * 0.7))))
                elif roll < p + (1 - p) * LATE:
                    day = deadline + timedelta(days=rng.randint(5, 75))
                else:
                    continue
                day = max(day, since)   # a committee formed after the period publishes once in office
                if forced:
                    day = min(day, on)
                if day > on or day > until + timedelta(days=30):
                    continue   # not published yet, or the firm (committee) had left by then
                plan.append((c.id, _at(day, rng, at_now), req.kind, req.ledger_kind, start, end, name, user))

    # The demo compound's yearly fund statement with its sub-accounts is published on time, drawn
    # apart from `rng` so every other publication stays as it was.
    for req in db.session.execute(schedule.requirements_select()).scalars():
        if req.ledger_kind != "maintenance_fund" or demo_compound_id not in compounds:
            continue
        start, end, deadline = schedule.due_period(req.frequency, req.grace_days, on)
        who = responsible(req, compounds[demo_compound_id], end, deadline)
        planned = any(x[0] == demo_compound_id and x[3] == req.ledger_kind and x[4:6] == (start, end) for x in plan)
        if who is not None and not planned:
            day = max(min(end + timedelta(days=max(req.grace_days // 2, 1)), on), who[3])
            plan.append((demo_compound_id, _at(day, random.Random(day.toordinal()), at_now), req.kind,
                         req.ledger_kind, start, end, who[1], who[2]))

    # The demo compound's owner votes publish their notices and results in the same chain.
    plan += plan_votes(random.Random(rng.random()), demo_compound_id, chair, on, at_now)
    if chair is not None and demo_compound_id in compounds:
        plan += _committee_documents(compounds[demo_compound_id], chair, on, at_now)
        plan += yearly_reports.plan_member_fees(compounds[demo_compound_id], chair, on, at_now)
    # 酬金制 compounds: the firm's final account and budget (their own draws, apart from `rng`).
    plan += yearly_reports.plan_remunerated(compounds, firm_user, demo_firm_id, on, at_now)
    plan.sort(key=lambda x: (x[0], x[1]))
    # The demo district signs its publications like any other, with a key in use since its first
    # one; made here if the key directory has none (whatever WUYE_KEYS_AUTO_CREATE says).
    slug = chain.district_slug()
    if plan and keys.signer(slug) is None:
        keys.create(slug, valid_from=min(x[1] for x in plan))
    made, statement = 0, None
    with db.session.no_autoflush:   # publish flushes each publication itself; its audit event can wait
        for item in plan:
            p = _publish_one(item, compounds[item[0]], rng)
            made += 1
            if item[0] == demo_compound_id and item[3] == "public_revenue" and item[4:6] == demo_quarter:
                statement = p
    return made, statement


COMMITTEE_WORK = ("本半年召开业委会会议 3 次（每次过半数委员出席），列席社区“1+3+N”联席会议 6 次；"
                  "督促物业整改电梯困人、地下车库漏水等问题 5 项，均已办结；核对物业公示 4 份，就停车收入提出质询 1 次，"
                  "已获答复。")
COMMITTEE_DECISIONS = "同意由公共收益列支更换 3 号楼单元门禁（7 名委员中 6 名签字同意），费用公示后实施。"
RULES_TEXT = ("第一条 为维护本物业管理区域内全体业主的合法权益，根据《中华人民共和国民法典》《物业管理条例》，"
              "制定本规约。\n第二条 业主应当按时交纳物业服务费，不得以未享受或者无需接受相关物业服务为由拒绝交纳。\n"
              "第三条 业主不得擅自改变房屋承重结构，不得违法搭建建筑物、构筑物，不得占用、损坏共用部位和共用设施设备。\n"
              "第四条 共有部分的经营收益属于全体业主，主要用于补充专项维修资金，每季度公布一次。")


def _committee_documents(c: Compound, chair: User, on: date, at_now: datetime) -> list[tuple]:
    """The demo committee's own publications: its 管理规约 as the owners adopted it, and its report
    of the last finished half-year (北京 第44条（八）), each at a fixed moment (no draw from rng)."""
    half_end = date(on.year, 6, 30) if on.month > 6 else date(on.year - 1, 12, 31)
    half_start = date(half_end.year, 1 if half_end.month == 6 else 7, 1)
    adopted = on - timedelta(days=420)

    def publisher(template, content, title, start=None, end=None):
        return lambda at: publications.publish(c, template, content, title, user=chair, start=start, end=end,
                                               at=at, publisher=chair.display_name)

    rules = tc.committee_rules(c.id, "管理规约", adopted, None, RULES_TEXT, on)
    news = tc.committee_news(half_start, half_end, COMMITTEE_WORK, COMMITTEE_DECISIONS)
    moment = lambda d: min(datetime.combine(d, time(10), SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None),
                           at_now - timedelta(minutes=5))   # noqa: E731
    return [(c.id, moment(adopted + timedelta(days=3)),
             publisher("committee_rules", rules, tc.title_for("committee_rules", c, doc="管理规约")),
             None, None, None, chair.display_name, chair),
            (c.id, moment(half_end + timedelta(days=8)),
             publisher("committee_news", news, tc.title_for("committee_news", c, start=half_start, end=half_end),
                       half_start, half_end),
             None, half_start, half_end, chair.display_name, chair)]


def _publish_one(item: tuple, c: Compound, rng: random.Random):
    """One planned publication, its content from the data as the publish page builds it."""
    cid, at, template, kind, start, end, name, user = item
    if callable(template):      # a vote's notice or result (demo/votes.py), published at its moment
        return template(at)
    if template == "standing_notice":
        content = tc.standing_notice(cid, local(at).date(), NOTICE_TEXTS)
    elif template == "disclosure":
        content = tc.disclosure(cid, start, end, {**DISCLOSURE_TEXTS, "performance": rng.choice(PERFORMANCE)})
    else:
        content = tc.ledger_statement(cid, kind, start, end)
    # When and by whom are inside the signed hash (v2): given at publishing, never set afterwards.
    return publications.publish(c, template, content, tc.title_for(template, c, kind, start, end),
                                user=user, start=start, end=end, at=at,
                                publisher=getattr(user, "display_name", "") or name)
