"""The default kinds of credit records and grading rule a district starts with (RULES.md
"Evaluation, credit and lists"), and seeding them. A district changes points, validity and
seriousness per kind afterwards; seeding again adds only what is missing."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from .models import CreditRecordKind, CreditRule

# 烟台: a record counts for one year.
VALIDITY_DAYS = 365

# (code, name, nature, points, serious, basis). Codes starting eval_ are written automatically
# from published evaluations (records.sync_evaluation).
KINDS = [
    ("honour_national", "获国家级表彰", "good", "5", False, "扬州：荣誉按级别加 5…1 分"),
    ("honour_province", "获省级表彰", "good", "4", False, "扬州：荣誉按级别加 5…1 分"),
    ("honour_city", "获市级表彰", "good", "3", False, "扬州：荣誉按级别加 5…1 分"),
    ("honour_district", "获区（县）级表彰", "good", "2", False, "扬州：荣誉按级别加 5…1 分"),
    ("honour_street", "获街道（镇）级表彰", "good", "1", False, "扬州：荣誉按级别加 5…1 分"),
    ("eval_red", "考核列入红榜", "good", "3", False, "合肥、广元：考核结果与评先评优挂钩（分值为建议）"),
    ("party_org", "新建企业党组织", "good", "2", False, "红色物业：党建引领（分值为建议）"),
    ("eval_yellow", "考核列入黄榜", "bad", "3", False, "合肥、淮南：红黄榜（分值为建议）"),
    ("eval_black", "考核列入黑榜", "bad", "6", False, "广元、商丘：黑榜（分值为建议）"),
    ("eval_veto", "考核一票否决", "bad", "10", True, "考核标准的一票否决项"),
    ("fee_publicity", "未按规定公示收费", "bad", "5", False, "扬州：每次未公示收费扣 5 分"),
    ("revenue_publicity", "未按规定公示公共收益", "bad", "5", False, "扬州：每次未公示公共收益扣 5 分"),
    ("publicity_missed", "未按期履行其他公示义务", "bad", "3", False, "民法典第943条：定期公开服务、维修资金等情况（分值为建议）"),
    ("criticised", "受到通报批评", "bad", "3", False, "主管部门通报批评（分值为建议）"),
    ("court_judgment", "生效判决认定违约或侵权", "bad", "5", False, "法院生效判决（分值为建议）"),
    ("overdue_demands", "诉求超期未办结超过规定", "bad", "2", False, "青岛：三次黄牌为红牌——每月逾期升级诉求达到规定件数（分值为建议）"),
    ("fund_misuse", "挪用专项维修资金", "bad", "20", True, "扬州：一票否决"),
    # Written by the exit deadline check (sources.record_exit_refusal), or by staff with evidence.
    ("exit_refusal", "合同终止拒不退出", "bad", "20", True, "扬州：一票否决；民法典 第949条"),
]

# 山东/烟台: AAA ≥ 85, AA ≥ 80, A ≥ 70, B ≥ 60, else C.
BANDS = [{"grade": "AAA", "min": "85"}, {"grade": "AA", "min": "80"}, {"grade": "A", "min": "70"},
         {"grade": "B", "min": "60"}]
LOWEST = "C"
# Without an annual result: the configured base (a proposal: AA's floor, so one bad record takes
# a firm to A and one honour of the highest level to AAA).
BASE_POINTS = Decimal("80")

OBJECTION_DAYS = 15
WARNING_BAD_COUNT = 3
# 烟台: one year, as records — how long a list's consequence flag counts from publication.
CONSEQUENCE_DAYS = 365
# 青岛: three yellow cards (an unfixed finding each) make a red card — here three demands of one
# firm escalated past their deadline within a calendar month make one bad record (a proposal).
OVERDUE_DEMANDS_THRESHOLD = 3

# 月抽查 lists are frequent and partial: by default only 季测评 and 年度考核 lists become records.
EVALUATION_KINDS = ["quarterly", "annual"]


def rule() -> CreditRule:
    """The district's rule; the defaults (unsaved) when it has none yet."""
    r = db.session.execute(select(CreditRule)).scalar_one_or_none()
    return r or CreditRule(base_source="evaluation", base_points=BASE_POINTS, bands=BANDS,
                           objection_days=OBJECTION_DAYS, warning_bad_count=WARNING_BAD_COUNT,
                           evaluation_kinds=list(EVALUATION_KINDS), consequence_days=CONSEQUENCE_DAYS,
                           overdue_demands_threshold=OVERDUE_DEMANDS_THRESHOLD)


def kind(code: str) -> CreditRecordKind | None:
    """The district's kind of this code, the default one added when it has none yet (the
    automatic sources write records of their kinds without a person loading the defaults)."""
    k = db.session.execute(select(CreditRecordKind).where(CreditRecordKind.code == code)).scalar_one_or_none()
    if k is not None:
        return k
    for sort, (c, name, nature, points, serious, basis) in enumerate(KINDS):
        if c == code:
            k = CreditRecordKind(code=c, name=name, nature=nature, points=Decimal(points), validity_days=VALIDITY_DAYS,
                                 serious=serious, basis=basis, sort=sort)
            db.session.add(k)
            db.session.flush()
            return k
    return None


def seed_defaults() -> int:
    """Add the default kinds (and rule) the district does not have yet; how many kinds were added."""
    have = set(db.session.execute(select(CreditRecordKind.code)).scalars())
    added = 0
    for sort, (code, name, nature, points, serious, basis) in enumerate(KINDS):
        if code in have:
            continue
        db.session.add(CreditRecordKind(code=code, name=name, nature=nature, points=Decimal(points),
                                        validity_days=VALIDITY_DAYS, serious=serious, basis=basis, sort=sort))
        added += 1
    if db.session.execute(select(CreditRule.id)).first() is None:
        db.session.add(rule())
    db.session.flush()
    return added
