"""Scoring standards, evaluation cycles, assessments and their item scores, evidence, surveys
and appeals. Points are Decimal with two places (a score sheet has half points), never float."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..org.models import Compound, Firm, Household
from ..tenancy import TenantScoped
from ..timeutil import now

POINTS = Numeric(7, 2)

STANDARD_STATUSES = {"draft": "草稿", "active": "启用中", "retired": "已停用"}
UNITS = {"compound": "按项目（小区）", "firm": "按企业"}
ITEM_KINDS = {"regular": "基本项", "bonus": "加分项", "veto": "一票否决项"}
METHODS = {"graded": "分档评分", "deduction": "按次扣分（扣完为止）", "yesno": "是/否",
           "points": "直接打分（0 至满分）", "computed": "系统数据计算"}
SCORERS = {"self": "企业自评", "community": "社区", "street": "街道", "assessor": "第三方测评",
           "committee": "业主委员会", "survey": "居民满意度测评", "system": "系统"}
# What a survey item earns when the compound has no valid survey (results.py has the rules).
NO_SURVEY_RULES = {"zero": "计 0 分", "gathered": "按已收答卷的满意率", "last": "沿用上次有效测评的满意率",
                   "full": "满分"}
NO_SURVEY_DEFAULT = "zero"
VETO_EFFECTS = {"zero_black": "总分计0、0星并列入黑榜", "black": "列入黑榜", "zero": "总分计0"}
LISTS = {"red": "红榜", "yellow": "黄榜", "black": "黑榜"}
# The standard's 上榜后果: per list (and per 一票否决, when the standard has veto items) a list
# of {"kind": …} entries, 招投标加分 with "points", free text with "text". What each kind
# produces (follow-up, flag) is credit/consequences.py's rules.
CONSEQUENCE_LISTS = {**LISTS, "veto": "一票否决"}
CONSEQUENCE_KINDS = {"interview": "约谈", "more_spot_checks": "加大抽查频次", "exit_procedure": "启动退出程序",
                     "restrict_tender": "限制参加招投标", "restrict_award": "限制评优", "priority_renewal": "优先续约",
                     "tender_bonus": "招投标加分", "text": "其他措施（文字）"}
CYCLE_KINDS = {"monthly": "月抽查", "quarterly": "季测评", "annual": "年度考核"}
EVALUATION_STATUSES = {"draft": "准备中", "open": "自评中", "reviewing": "审核中", "finalized": "已定稿",
                       "published": "已发布"}
ASSESSMENT_STATUSES = {"draft": "待自评", "submitted": "已提交待审核", "returned": "已退回修改",
                       "reviewed": "社区已审核", "confirmed": "街道已确认", "finalized": "已定稿"}
APPEAL_STATUSES = {"open": "待裁定", "upheld": "申诉成立", "rejected": "申诉驳回"}
SURVEY_ANSWERS = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}


class Standard(TenantScoped, db.Model):
    """One version of the district's scoring standard. Frozen (`frozen_at`) once an evaluation
    uses it; editing a frozen version means copying it to a new draft version."""

    __tablename__ = "standard"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    unit: Mapped[str] = mapped_column(String(10), default="compound")
    total_points: Mapped[Decimal] = mapped_column(POINTS, default=Decimal("100"))
    bonus_cap: Mapped[Decimal] = mapped_column(POINTS, default=Decimal("0"))
    # [{"stars": 5, "min": 85}, …] highest first; a total at or above `min` earns the stars.
    star_bands: Mapped[list] = mapped_column(JSON, default=list)
    # [{"list": "red"|"yellow"|"black", "rule": "stars_at_least"|"stars_at_most"|"score_below"|
    #   "score_at_least"|"top_rank"|"bottom_rank"|"veto", "value": n}, …]
    list_rules: Mapped[list] = mapped_column(JSON, default=list)
    # {"red": [{"kind": "priority_renewal"}, {"kind": "tender_bonus", "points": "2"}],
    #  "yellow": [{"kind": "interview"}], "black": [...], "veto": [...], free text:
    #  {"kind": "text", "text": "…"}} (CONSEQUENCE_KINDS; a bare string reads as free text)
    consequences: Mapped[dict] = mapped_column(JSON, default=dict)
    # How an annual result combines the year's cycles: {"monthly": 40, "quarterly": 60, "annual": 0}
    cycle_weights: Mapped[dict] = mapped_column(JSON, default=dict)
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("standard.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    activated_at: Mapped[datetime | None]
    frozen_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("tenant_id", "name", "version"),)

    categories: Mapped[list["StandardCategory"]] = relationship(
        back_populates="standard", order_by="StandardCategory.sort, StandardCategory.id")
    items: Mapped[list["StandardItem"]] = relationship(
        back_populates="standard", order_by="StandardItem.sort, StandardItem.id")

    @property
    def audit_label(self):
        return f"{self.name}（第{self.version}版）"


class StandardCategory(TenantScoped, db.Model):
    __tablename__ = "standard_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standard.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    sort: Mapped[int] = mapped_column(default=0)

    standard: Mapped[Standard] = relationship(back_populates="categories")

    @property
    def audit_label(self):
        return self.name


class StandardItem(TenantScoped, db.Model):
    """A scoring item. Regular items belong to a category; bonus and veto items may not."""

    __tablename__ = "standard_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standard.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("standard_category.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="regular")
    name: Mapped[str] = mapped_column(String(100))
    criterion: Mapped[str] = mapped_column(Text, default="")
    # What residents are asked on the survey (scorer "survey"); the criterion says how points follow.
    question: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Survey items: what a compound without a valid survey earns (NO_SURVEY_RULES).
    no_survey_rule: Mapped[str] = mapped_column(String(10), default=NO_SURVEY_DEFAULT,
                                                server_default=NO_SURVEY_DEFAULT)
    max_points: Mapped[Decimal] = mapped_column(POINTS, default=Decimal("0"))
    method: Mapped[str] = mapped_column(String(10), default="graded")
    scorer: Mapped[str] = mapped_column(String(10), default="community")
    levels: Mapped[list] = mapped_column(JSON, default=list)     # graded: [{"label": …, "points": "5"}]
    deduction_per: Mapped[Decimal | None] = mapped_column(POINTS)  # deduction: points per occurrence
    computed_key: Mapped[str | None] = mapped_column(String(40))  # computed: indicators.computed key
    evidence_required: Mapped[bool] = mapped_column(default=False)
    veto_effect: Mapped[str | None] = mapped_column(String(12))
    sort: Mapped[int] = mapped_column(default=0)

    standard: Mapped[Standard] = relationship(back_populates="items")
    category: Mapped[StandardCategory | None] = relationship()

    @property
    def audit_label(self):
        return self.name


class Evaluation(TenantScoped, db.Model):
    """One cycle on one standard version, for a period, with its deadlines."""

    __tablename__ = "evaluation"
    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standard.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="draft")
    self_report_due: Mapped[date]
    review_due: Mapped[date]
    appeal_days: Mapped[int] = mapped_column(default=7)
    appeal_until: Mapped[date | None]
    results_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)

    standard: Mapped[Standard] = relationship()
    assessments: Mapped[list["Assessment"]] = relationship(back_populates="evaluation")

    @property
    def audit_label(self):
        return self.name


class Assessment(TenantScoped, db.Model):
    """One firm (for one compound, or firm-wide) in one evaluation, and its computed result."""

    __tablename__ = "assessment"
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firm.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    submitted_at: Mapped[datetime | None]
    return_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    finalized_at: Mapped[datetime | None]
    # results (written by the results job)
    base_total: Mapped[Decimal | None] = mapped_column(POINTS)
    bonus_total: Mapped[Decimal | None] = mapped_column(POINTS)
    total: Mapped[Decimal | None] = mapped_column(POINTS)
    vetoed: Mapped[bool] = mapped_column(default=False)
    stars: Mapped[int | None]
    list_kind: Mapped[str | None] = mapped_column(String(10))
    rank: Mapped[int | None]
    breakdown: Mapped[dict] = mapped_column(JSON, default=dict)   # category totals, cycles (annual)
    computed_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("evaluation_id", "firm_id", "compound_id"),)

    evaluation: Mapped[Evaluation] = relationship(back_populates="assessments")
    firm: Mapped[Firm] = relationship()
    compound: Mapped[Compound | None] = relationship()
    scores: Mapped[list["ItemScore"]] = relationship(back_populates="assessment")

    @property
    def audit_label(self):
        return f"{self.firm.name if self.firm else ''} {self.compound.name if self.compound else '（企业）'}"


class ItemScore(TenantScoped, db.Model):
    """One item of one assessment: what the firm claimed, what the reviewer (or assessor, or
    the system) scored, and the final points the results use."""

    __tablename__ = "item_score"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("standard_item.id"), index=True)
    self_points: Mapped[Decimal | None] = mapped_column(POINTS)
    self_occurrences: Mapped[int | None]
    self_note: Mapped[str] = mapped_column(Text, default="")
    review_points: Mapped[Decimal | None] = mapped_column(POINTS)
    review_occurrences: Mapped[int | None]
    review_reason: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    final_points: Mapped[Decimal | None] = mapped_column(POINTS)
    vetoed: Mapped[bool] = mapped_column(default=False)   # veto items: the 一票否决 occurred
    __table_args__ = (UniqueConstraint("assessment_id", "item_id"),)

    assessment: Mapped[Assessment] = relationship(back_populates="scores")
    item: Mapped[StandardItem] = relationship()
    evidence: Mapped[list["Evidence"]] = relationship(back_populates="score")


class Evidence(TenantScoped, db.Model):
    """A file behind a self-reported item, stored outside static/."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_score_id: Mapped[int] = mapped_column(ForeignKey("item_score.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=now)

    score: Mapped[ItemScore] = relationship(back_populates="evidence")


class AssessorAssignment(TenantScoped, db.Model):
    """An item of an evaluation that an assessor (membership) scores."""

    __tablename__ = "assessor_assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("standard_item.id"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id"), index=True)
    __table_args__ = (UniqueConstraint("evaluation_id", "item_id", "membership_id"),)


class Survey(TenantScoped, db.Model):
    """满意度测评 of one compound in one evaluation; residents answer on the public page."""

    __tablename__ = "survey"
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    __table_args__ = (UniqueConstraint("evaluation_id", "compound_id"),)

    evaluation: Mapped[Evaluation] = relationship()
    compound: Mapped[Compound] = relationship()

    @property
    def audit_label(self):
        return f"{self.compound.name if self.compound else ''}满意度测评"


class SurveyResponse(TenantScoped, db.Model):
    """One household's answers ({item_id: "satisfied"|"basically"|"unsatisfied"}); one per
    household code per survey."""

    __tablename__ = "survey_response"
    __audit__ = False   # residents' answers are anonymous to staff; counts are what is read
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    __table_args__ = (UniqueConstraint("survey_id", "household_id"),)

    household: Mapped[Household] = relationship()


class Appeal(TenantScoped, db.Model):
    """申诉 of one item's final points by the firm, within the evaluation's appeal window."""

    __tablename__ = "appeal"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("standard_item.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    decision: Mapped[str] = mapped_column(Text, default="")
    old_points: Mapped[Decimal | None] = mapped_column(POINTS)
    new_points: Mapped[Decimal | None] = mapped_column(POINTS)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]

    assessment: Mapped[Assessment] = relationship()
    item: Mapped[StandardItem] = relationship()

    @property
    def audit_label(self):
        return f"申诉：{self.item.name if self.item else ''}"
