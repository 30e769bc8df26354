"""Message wording: the defaults per kind and a district's own (MessageTemplate), rendered with
the message's plain values. A template may name only the placeholders of its kind."""
from __future__ import annotations

from string import Formatter

from sqlalchemy import select

from ..extensions import db
from .models import MessageTemplate

# kind → (label, default text, placeholders it may use)
DEFAULTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "demand.dispatched": ("诉求派单（待接单）", "诉求{number}「{title}」已派给{assignee}，请及时接单办理。",
                          ("number", "title", "assignee", "compound")),
    "demand.resolved": ("诉求办结（待回访）", "{compound}诉求{number}「{title}」已办结，请回访居民。",
                        ("number", "title", "compound")),
    "demand.escalated": ("诉求逾期升级（待督办）", "{compound}诉求{number}「{title}」超过办理时限，已升级街道督办。",
                         ("number", "title", "compound")),
    "objection.raised": ("公示质询（待答复）", "{compound}业委会对公示「{title}」提出质询，请答复。",
                         ("title", "compound")),
    "publication.issued": ("新公示（待核对）", "{compound}发布了新公示「{title}」，请核对。", ("title", "compound")),
    "vote.opened": ("业主表决开始", "{compound}业主表决「{title}」已开始投票。", ("title", "compound")),
    "credit.recorded": ("信用记录（可提出异议）", "贵企业新增一条{nature}信用记录「{title}」，如有异议请在异议期内提出。",
                        ("title", "nature")),
    "credit.objected": ("信用记录异议（待裁定）", "{firm}对信用记录「{title}」提出异议，请在期限内裁定。",
                        ("title", "firm")),
    "evaluation.assigned": ("第三方测评指派（待打分）", "您已被指派为考核「{title}」的第三方测评，共{count}个考核项待打分。",
                            ("title", "count")),
    "demand.taken_resolved": ("巡查上报的诉求已办结", "您登记的诉求{number}「{title}」已由{assignee}办结。",
                              ("number", "title", "assignee", "compound")),
    "reminder.self_report": ("自评截止提醒", "考核「{title}」的自评将于{due}截止，请尽快完成自评。", ("title", "due")),
    "reminder.review": ("审核截止提醒", "考核「{title}」的审核将于{due}截止，尚有{count}个考核对象待审核。",
                        ("title", "due", "count")),
    "reminder.publication": ("公示到期提醒", "{compound}的{title}（{period}）应于{due}前公示，目前尚未公示。",
                             ("title", "compound", "period", "due")),
    "resident.demand_resolved": ("居民：诉求已办结", "您反映的诉求{number}「{title}」已办结，社区将回访，感谢您的支持。",
                                 ("number", "title")),
    "resident.demand_closed": ("居民：诉求已关闭", "您反映的诉求{number}「{title}」已办理完毕并关闭，感谢您的支持。",
                               ("number", "title")),
}
# What a person may choose to receive by SMS/WeChat (the resident messages are not a choice).
INBOX_KINDS = {k: v[0] for k, v in DEFAULTS.items() if not k.startswith("resident.")}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def fields_of(text: str) -> list[str]:
    return [name for _, name, _, _ in Formatter().parse(text) if name is not None]


def problem(kind: str, text: str) -> str | None:
    """Why `text` cannot be this kind's template, or None."""
    if not text.strip():
        return "请填写模板内容。"
    if len(text) > 300:
        return "模板内容不能超过 300 个字。"
    allowed = DEFAULTS[kind][2]
    try:
        names = fields_of(text)
    except ValueError:
        return "模板中的花括号不成对，占位符应写成 {number} 这样的形式。"
    bad = [n for n in names if n not in allowed]
    if bad:
        return f"模板中不能使用占位符 {{{bad[0]}}}；可用：" + "、".join(f"{{{a}}}" for a in allowed)
    return None


def own(kind: str) -> MessageTemplate | None:
    return db.session.execute(select(MessageTemplate).where(MessageTemplate.kind == kind)).scalar_one_or_none()


def render(kind: str, values: dict, tmpl: MessageTemplate | None = None) -> str:
    """The district's text for the kind (its own or the default) with the values filled in."""
    default = DEFAULTS[kind][1]
    text = tmpl.text if tmpl is not None else default
    safe = _Blank({k: str(v) for k, v in values.items()})
    try:
        return text.format_map(safe)[:500]
    except (ValueError, KeyError, IndexError, AttributeError):
        return default.format_map(safe)[:500]
