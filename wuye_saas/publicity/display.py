"""The lines a publication shows: its content's keyed lines ({key, label, value}).

Owner-vote and fund-use publications made before their content carried lines stored only their
fields; those are shown under LEGACY_LABELS. Display only: the stored content, and so its hash,
is never rewritten, and objections still point at keyed lines alone (checks.lines)."""
from __future__ import annotations

LEGACY_LABELS = {
    "matter_label": "表决事项", "title": "事项名称", "description": "事项说明", "filed_at": "报备社区",
    "publicized_on": "公示日期", "opens_on": "表决开始日期", "closes_on": "表决截止日期", "threshold": "通过条件",
    "summary": "表决结果", "counted_on": "计票日期", "item": "维修项目", "contractor": "施工单位",
    "quotes": "报价情况",
}


def shown_lines(content) -> list[dict]:
    if not isinstance(content, dict):
        return []
    lines = content.get("lines")
    if isinstance(lines, list) and lines and all(isinstance(ln, dict) for ln in lines):
        return lines
    out = [{"key": k, "label": label, "value": str(content[k])}
           for k, label in LEGACY_LABELS.items() if content.get(k) not in (None, "")]
    # An old vote result kept its count's explanation as plain text lines.
    out += [{"key": f"count{i}", "label": "计票", "value": ln}
            for i, ln in enumerate(lines if isinstance(lines, list) else []) if isinstance(ln, str)]
    return out
