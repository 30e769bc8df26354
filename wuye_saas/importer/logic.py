"""Import of the organisation register from .xlsx / .csv.

One file holds one kind of record. Every row is read and validated first (types, enumerations,
parents by name, duplicates in the file and against the district); only when all rows are good
are they written, with bulk inserts in the caller's transaction, plus one audit summary event.
Plain functions with no Flask request in them: the job and the views call them.
"""
from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterable

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import insert, select

from .. import audit
from ..extensions import db
from ..formutil import AREA_M2, COMPOUND_AREA_M2, parse_decimal
from ..org import models as m
from ..org import owners
from ..org.resources import new_household_code
from ..org.validators import area_problem, credit_code_check_char, credit_code_problem
from ..tenancy import current_tenant_id
from ..timeutil import today

MAX_ROWS = 300_000        # bounds memory and time of one job (a district's register: docs/bench_votes.md)
MAX_ERRORS_SHOWN = 200    # the page lists this many bad rows, with the total
CHUNK = 1000              # rows per bulk INSERT
IN_CHUNK = 500            # values per IN (...) lookup
PROGRESS_EVERY = 500
INSTRUCTIONS_SHEET = "填写说明"

Progress = Callable[[int, int, str], None]


# --- what each kind of file contains ---------------------------------------------------------

@dataclass(frozen=True)
class Col:
    header: str
    key: str
    required: bool = False
    type: str = "text"      # text | int | area | choice | bool | phone | code | credit | classes | idcard | owners
    max_len: int = 0
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    default: object = None
    note: str = ""
    example: str = ""

    @property
    def allowed(self) -> str:
        """The allowed values as the instructions show them."""
        if self.type == "choice":
            return "、".join(self.choices)
        if self.type == "bool":
            return "是、否"
        if self.type == "int" and self.low is not None:
            return f"{self.low}–{self.high} 的整数"
        return ""


STREET = Col("街道名称", "street", True, max_len=60, note="须与本区已有街道名称完全一致", example="太行街道")
COMMUNITY = Col("社区名称", "community", True, max_len=60, note="该街道下已有的社区", example="英雄南路社区")
COMPOUND = Col("小区名称", "compound", True, max_len=80, note="该社区下已有的小区", example="英雄南路3号院")
BUILDING = Col("楼栋号", "building", True, max_len=40, note="该小区下已有的楼栋", example="1号楼")
PHONE_NOTE = "11 位手机号导入时自动脱敏为 138****5678"


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    model: type
    cols: list[Col]
    parents: int        # how many leading name columns locate the parent (0: none)
    intro: str
    parent_fields: tuple[str, ...] = ()   # the record's foreign keys, filled from the parent

    @property
    def required(self) -> list[Col]:
        return [c for c in self.cols if c.required]


KINDS: dict[str, Kind] = {k.key: k for k in [
    Kind("streets", "街道", m.Street, [
        Col("街道名称", "name", True, max_len=60, note="本区内不能重复", example="太行街道"),
        Col("街道编码", "code", max_len=20, default="", note="可选，如统计用区划代码", example="140403001"),
    ], 0, "街道/镇是组织架构的第一级，请最先导入。"),
    Kind("communities", "社区", m.Community, [
        Col("街道名称", "street", True, max_len=60, note="须与本区已有街道名称完全一致", example="太行街道"),
        Col("社区名称", "name", True, max_len=60, note="同一街道下不能重复", example="英雄南路社区"),
        Col("社区编码", "code", max_len=20, default="", note="可选", example="140403001001"),
    ], 1, "按“街道名称”找到所属街道，街道须已存在。", ("street_id",)),
    Kind("compounds", "小区", m.Compound, [
        STREET, Col("社区名称", "community", True, max_len=60, note="该街道下已有的社区", example="英雄南路社区"),
        Col("小区名称", "name", True, max_len=80, note="同一社区下不能重复", example="英雄南路3号院"),
        Col("小区类型", "compound_type", True, "choice", choices=tuple(m.COMPOUND_TYPES), example="老旧小区"),
        Col("管理模式", "management_mode", True, "choice", choices=tuple(m.MANAGEMENT_MODES), example="专业物业"),
        Col("“五管”模式", "wuguan_mode", type="choice", choices=tuple(m.WUGUAN_MODES), note="可选", example="统管"),
        Col("建成年份", "build_year", type="int", low=1900, high=2100, note="可选", example="1998"),
        Col("建筑面积（㎡）", "area_m2", type="area", note="可选，最多两位小数", example="35600.50"),
        Col("地址", "address", max_len=200, default="", note="可选", example="英雄南路3号"),
    ], 2, "按“街道名称 + 社区名称”找到所属社区，社区须已存在。", ("community_id",)),
    Kind("buildings", "楼栋", m.Building, [
        STREET, COMMUNITY, COMPOUND,
        Col("楼栋号", "name", True, max_len=40, note="同一小区下不能重复", example="1号楼"),
        Col("层数", "floors", type="int", low=1, high=200, note="可选", example="6"),
        Col("单元数", "units", type="int", low=1, high=50, note="可选", example="2"),
        Col("有电梯", "has_lift", type="bool", default=False, note="可选，留空为“否”", example="否"),
    ], 3, "按“街道名称 + 社区名称 + 小区名称”找到所属小区，小区须已存在。", ("compound_id",)),
    Kind("households", "住户", m.Household, [
        STREET, COMMUNITY, COMPOUND, BUILDING,
        Col("房号", "room", True, max_len=20, note="同一楼栋下不能重复", example="1单元101"),
        Col("所在楼层", "floor", type="int", low=-5, high=200, note="可选", example="1"),
        Col("产权面积（㎡）", "floor_area", True, "area", note="不动产登记的专有部分面积，最多两位小数",
            example="89.56"),
        Col("业主姓名", "owner_name", max_len=60, default="", note="可选；登记为该户的业主（产权人）", example="王建国"),
        Col("业主身份证号码", "owner_id", type="idcard", default="",
            note="可选；只保存加密摘要和脱敏号码。同一号码即同一业主（拥有多套房屋按一人计），同名不同号为不同业主",
            example="110101199003077777"),
        Col("共有人", "co_owners", type="owners", default=(),
            note="可选；与业主共有该户的人，写作“姓名:身份证号码”，多人用“、”分隔，号码可省略", example="李秀英:110101199205068888"),
        Col("开发商持有", "developer_held", type="bool", default=False,
            note="可选，留空为“否”；开发商未出售或未交付的房屋填“是”，不论登记何种姓名，合计按一名业主计", example="否"),
        Col("面积来源", "area_source", type="choice", choices=tuple(m.AREA_SOURCES.values()), default="不动产登记簿",
            note="可选，留空为“不动产登记簿”；无登记的依次以测绘、合同面积为准（建筑物区分所有权解释第八条）",
            example="不动产登记簿"),
        Col("联系电话", "phone_masked", type="phone", default="", note="可选；" + PHONE_NOTE,
            example="13812345678"),
        Col("户码", "household_code", type="code", default="",
            note="可选，6–16 位大写字母或数字，本区内不能重复；留空自动生成", example=""),
        Col("困难类别", "classes", type="classes", default=(),
            note="可选，须为本区已设置的困难类别，多个用“、”分隔", example="低保"),
    ], 4, "按“街道名称 + 社区名称 + 小区名称 + 楼栋号”找到所属楼栋，楼栋须已存在。",
        ("building_id", "compound_id")),
    Kind("firms", "物业企业", m.Firm, [
        Col("企业名称", "name", True, max_len=100, example="长治市宏远物业服务有限公司"),
        Col("统一社会信用代码", "credit_code", True, "credit", note="18 位，校验位须正确；本区内不能重复",
            example="91140400MA0K3B2C7" + credit_code_check_char("91140400MA0K3B2C7")),
        Col("党组织状况", "party_status", True, "choice", choices=tuple(m.PARTY_STATUSES), example="单独建立党组织"),
        Col("资质等级", "qualification", type="choice", choices=tuple(m.QUALIFICATIONS), default="无资质等级",
            note="可选，留空为“无资质等级”", example="二级"),
        Col("党员人数", "party_members", type="int", low=0, high=100000, default=0, note="可选，留空为 0",
            example="5"),
        Col("从业人员数", "staff_count", type="int", low=0, high=1000000, default=0, note="可选，留空为 0",
            example="86"),
        Col("法定代表人", "legal_rep", max_len=40, default="", note="可选", example="李明"),
        Col("联系电话", "contact_phone", type="phone", default="", note="可选", example="0355-2021234"),
        Col("地址", "address", max_len=200, default="", note="可选", example="长治市潞州区英雄中路88号"),
    ], 0, "物业服务企业与组织架构无上下级关系，可随时导入。"),
]}

ORDER_HINT = "街道 → 社区 → 小区 → 楼栋 → 住户"


# --- reading a file --------------------------------------------------------------------------

class FileProblem(Exception):
    """The file as a whole cannot be imported (unreadable, wrong columns, empty)."""


def _text(value) -> str:
    """A cell as text: Excel numbers without a spurious '.0', dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _decode(raw: bytes) -> str:
    # Excel on Chinese Windows saves CSV in GBK (GB18030 is its superset); others in UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem("无法识别文件编码，请将 CSV 另存为 UTF-8 或 GBK 编码后重试")


def read_table(path: Path) -> list[list[str]]:
    """All rows of the file's data sheet as text cells, header row first."""
    if not path.exists():
        raise FileProblem("上传的文件已不存在，请重新上传")
    ext = path.suffix.lower()
    if ext == ".csv":
        text = _decode(path.read_bytes())
        try:
            return [[_text(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as exc:
            raise FileProblem(f"CSV 文件格式有误：{exc}") from exc
    if ext == ".xlsx":
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several types for a damaged or fake .xlsx
            raise FileProblem("无法读取 Excel 文件，文件可能已损坏或不是 .xlsx 格式") from exc
        try:
            sheets = [ws for ws in wb.worksheets if ws.title != INSTRUCTIONS_SHEET] or wb.worksheets
            return [[_text(c) for c in row] for row in sheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()  # read-only mode keeps the file open until closed
    raise FileProblem("只能导入 .xlsx 或 .csv 文件")


def _header_key(text: str) -> str:
    """A header as typed: the template marks required columns with '*'."""
    return re.sub(r"[*＊]|（必填）|\(必填\)", "", text).strip()


def map_columns(kind: Kind, header: list[str]) -> dict[str, int]:
    """Column key → index in the file; missing required columns are a file problem."""
    by_header = {}
    for i, text in enumerate(header):
        key = _header_key(text)
        if key:
            by_header.setdefault(key, i)
    missing = [c.header for c in kind.required if c.header not in by_header]
    if missing:
        raise FileProblem(f"缺少必填列：{'、'.join(missing)}。请使用“{kind.label}”导入模板，"
                          f"并确认选择的导入类型与文件内容一致")
    return {c.key: by_header[c.header] for c in kind.cols if c.header in by_header}


# --- one cell → a value or a problem ---------------------------------------------------------

PHONE_RE = re.compile(r"^[0-9*\-+ ]{1,20}$")
CODE_RE = re.compile(r"^[A-Z0-9]{6,16}$")
MOBILE_RE = re.compile(r"^1\d{10}$")
BOOLS = {"是": True, "有": True, "y": True, "yes": True, "true": True, "1": True,
         "否": False, "无": False, "n": False, "no": False, "false": False, "0": False}
CLASS_SPLIT = re.compile(r"[、,，;；/\s]+")
OWNER_SPLIT = re.compile(r"[、,，;；\n]+")
MAX_CO_OWNERS = 10


def _owner_entry(entry: str) -> tuple[str, str]:
    """"姓名:号码" (or 姓名：号码, or 姓名 alone) → (name, number)."""
    name, _, number = entry.replace("：", ":").partition(":")
    return name.strip(), number.strip()


def parse_cell(col: Col, text: str):
    """(value, None) or (None, reason). Blank optional cells give the column's default."""
    if text == "":
        if col.required:
            return None, "不能为空"
        return col.default, None
    if col.type == "text":
        if col.max_len and len(text) > col.max_len:
            return None, f"不能超过 {col.max_len} 个字"
        return text, None
    if col.type == "int":
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None, "应为整数"
        if not d.is_finite() or d != d.to_integral_value():
            return None, "应为整数"
        if not col.low <= d <= col.high:
            return None, f"应在 {col.low}–{col.high} 之间"
        return int(d), None
    if col.type == "area":
        problem = area_problem(text, COMPOUND_AREA_M2 if col.key == "area_m2" else AREA_M2)
        return (None, problem) if problem else (parse_decimal(text).quantize(Decimal("0.01")), None)
    if col.type == "choice":
        if text not in col.choices:
            return None, f"应为以下之一：{'、'.join(col.choices)}（填写的是“{text}”）"
        return text, None
    if col.type == "bool":
        if text.lower() not in BOOLS:
            return None, "应填“是”或“否”"
        return BOOLS[text.lower()], None
    if col.type == "phone":
        if not PHONE_RE.match(text):
            return None, "只能包含数字、*、-、+"
        # Only a masked number is stored (the register shows it to firm and community staff).
        return (text[:3] + "****" + text[7:]) if MOBILE_RE.match(text) else text, None
    if col.type == "code":
        code = text.upper()
        return (code, None) if CODE_RE.match(code) else (None, "应为 6–16 位大写字母或数字")
    if col.type == "credit":
        code = text.upper()
        problem = credit_code_problem(code)
        return (None, problem) if problem else (code, None)
    if col.type == "classes":
        return tuple(dict.fromkeys(n for n in CLASS_SPLIT.split(text) if n)), None
    if col.type == "idcard":
        number = text.upper()
        problem = owners.id_problem(number)
        return (None, problem) if problem else (number, None)
    if col.type == "owners":
        out = []
        for entry in OWNER_SPLIT.split(text):
            if not entry:
                continue
            name, number = _owner_entry(entry)
            if not name or len(name) > 60:
                return None, f"“{entry}”应为“姓名:身份证号码”，姓名不超过 60 个字"
            if number and owners.id_problem(number):
                return None, f"{name}的{owners.id_problem(number)}"
            out.append((name, number.upper()))
        if len(out) > MAX_CO_OWNERS:
            return None, f"共有人最多 {MAX_CO_OWNERS} 人"
        return tuple(out), None
    raise ValueError(f"unknown column type {col.type}")


# --- the district as the validator needs it --------------------------------------------------

@dataclass
class Context:
    """Lookups of the current district, loaded once per import."""
    tenant_id: int
    parents: list[dict] = field(default_factory=list)   # level → {names: ids for Kind.parent_fields}
    classes: dict[str, int] = field(default_factory=dict)
    pepper: bytes = b""


def load_context(kind: Kind) -> Context:
    ctx = Context(tenant_id=current_tenant_id())
    S, C, P, B = m.Street, m.Community, m.Compound, m.Building
    queries = [
        select(S.name, S.id),
        select(S.name, C.name, C.id).join(S, C.street_id == S.id),
        select(S.name, C.name, P.name, P.id).join(C, P.community_id == C.id).join(S, C.street_id == S.id),
        select(S.name, C.name, P.name, B.name, B.id, P.id).join(P, B.compound_id == P.id)
        .join(C, P.community_id == C.id).join(S, C.street_id == S.id),
    ]
    for level in range(kind.parents):
        width = level + 1
        ctx.parents.append({tuple(r[:width]): tuple(r[width:]) for r in db.session.execute(queries[level])})
    if kind.key == "households":
        ctx.classes = dict(db.session.execute(select(m.HouseholdClass.name, m.HouseholdClass.id)).all())
        ctx.pepper = owners._pepper()
    return ctx


PARENT_COLS = [STREET, COMMUNITY, COMPOUND, BUILDING]
LEVEL_LABELS = ["街道", "社区", "小区", "楼栋"]


def resolve_parent(kind: Kind, values: dict, ctx: Context):
    """The parent ids for the row's name columns, or (None, reason naming the column)."""
    names = tuple(values[c.key] for c in PARENT_COLS[:kind.parents])
    for level in range(kind.parents):
        found = ctx.parents[level].get(names[:level + 1])
        if found is not None:
            continue
        col, name, what = PARENT_COLS[level], names[level], LEVEL_LABELS[level]
        if level == 0:
            return None, f"【{col.header}】本区没有街道“{name}”"
        return None, f"【{col.header}】{LEVEL_LABELS[level - 1]}“{names[level - 1]}”下没有{what}“{name}”"
    return ctx.parents[kind.parents - 1][names], None


# --- rows → records --------------------------------------------------------------------------

@dataclass
class Row:
    line: int
    record: dict
    problems: list[str]


def build_record(kind: Kind, cells: list[str], columns: dict[str, int], ctx: Context, line: int) -> Row:
    values, problems = {}, []
    for col in kind.cols:
        idx = columns.get(col.key)
        text = cells[idx] if idx is not None and idx < len(cells) else ""
        value, reason = parse_cell(col, text)
        if reason:
            problems.append(f"【{col.header}】{reason}")
        values[col.key] = value
    record = {k: v for k, v in values.items() if k not in ("street", "community", "compound", "building")}
    record["tenant_id"] = ctx.tenant_id
    if kind.parents and not any(values[c.key] is None for c in PARENT_COLS[:kind.parents]):
        parent, reason = resolve_parent(kind, values, ctx)
        if reason:
            problems.append(reason)
        else:
            record.update(zip(kind.parent_fields, parent))
    if kind.key == "households":
        names = record.pop("classes") or ()
        unknown = [n for n in names if n not in ctx.classes]
        if unknown:
            have = "、".join(sorted(ctx.classes)) or "（本区尚未设置困难类别）"
            problems.append(f"【困难类别】本区没有“{'、'.join(unknown)}”，可选：{have}")
        record["class_ids"] = tuple(ctx.classes[n] for n in names if n in ctx.classes)
        _owner_fields(record, problems, ctx)
    return Row(line, record, problems)


AREA_SOURCE_CODES = {label: code for code, label in m.AREA_SOURCES.items()}


def _owner_fields(record: dict, problems: list[str], ctx: "Context") -> None:
    """The unit's owners as (name, identity key, masked number) under "owners"; the developer's
    units have none (they are the developer's, whatever name they carry)."""
    number, co = record.pop("owner_id"), record.pop("co_owners") or ()
    record["area_source"] = AREA_SOURCE_CODES.get(record["area_source"], "registry")
    name = record["owner_name"]
    if (number or co) and not name:
        problems.append("【业主姓名】填写了业主身份证号码或共有人时，须填写业主姓名")
    people = [(name, number)] if name else []
    people += list(co)
    keys = []
    for who, num in people:
        # No number: the person of this row alone (a fresh key at writing); never matched by name.
        keys.append((who, owners.identity_key(num, ctx.pepper) if num else "", owners.mask_id(num) if num else ""))
    if len({k for _, k, _ in keys if k}) < sum(1 for _, k, _ in keys if k):
        problems.append("【共有人】同一身份证号码在本行出现了两次")
    record["owners"] = () if record["developer_held"] else tuple(keys)
    if co and not record["developer_held"]:
        record["owner_name"] = "、".join(dict.fromkeys(w for w, _ in people))[:60]


@dataclass(frozen=True)
class Unique:
    """One of the model's unique keys: how to read it from a record and find existing ones."""
    headers: tuple[str, ...]
    fields: tuple[str, ...]
    columns: tuple          # model columns in the same order as `fields`
    by: int = -1            # which field the IN (...) lookup filters on


UNIQUES: dict[str, list[Unique]] = {
    "streets": [Unique(("街道名称",), ("name",), (m.Street.name,))],
    "communities": [Unique(("街道名称", "社区名称"), ("street_id", "name"),
                           (m.Community.street_id, m.Community.name))],
    "compounds": [Unique(("社区名称", "小区名称"), ("community_id", "name"),
                         (m.Compound.community_id, m.Compound.name))],
    "buildings": [Unique(("小区名称", "楼栋号"), ("compound_id", "name"),
                         (m.Building.compound_id, m.Building.name), by=0)],
    "households": [Unique(("楼栋号", "房号"), ("building_id", "room"),
                          (m.Household.building_id, m.Household.room), by=0),
                   Unique(("户码",), ("household_code",), (m.Household.household_code,))],
    "firms": [Unique(("统一社会信用代码",), ("credit_code",), (m.Firm.credit_code,))],
}


def _key(u: Unique, record: dict):
    key = tuple(record.get(f) for f in u.fields)
    return None if any(v in (None, "") for v in key) else key


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def existing_keys(u: Unique, keys: set) -> set:
    """Those of `keys` already present in the district (tenant filter applies)."""
    probe = sorted({k[u.by] for k in keys})
    found = set()
    for part in _chunks(probe, IN_CHUNK):
        found.update(tuple(r) for r in db.session.execute(select(*u.columns).where(u.columns[u.by].in_(part))))
    return found & keys


def check_owners(rows: list[Row]) -> None:
    """One ID number is one person: the same name wherever it appears, in the file and in the
    district's register."""
    first: dict[str, tuple[str, int]] = {}
    for row in rows:
        for name, key, _ in row.record.get("owners", ()):
            if not key:
                continue
            seen = first.setdefault(key, (name, row.line))
            if seen[0] != name:
                row.problems.append(f"【业主身份证号码】与第 {seen[1]} 行同一号码的姓名“{seen[0]}”不一致")
    names = {}
    for part in _chunks(sorted(first), IN_CHUNK):
        names.update(db.session.execute(select(m.Person.identity_key, m.Person.name)
                                        .where(m.Person.identity_key.in_(part))).all())
    for row in rows:
        for name, key, _ in row.record.get("owners", ()):
            if key in names and names[key] != name:
                row.problems.append(f"【业主身份证号码】本区已登记该号码的业主为“{names[key]}”，与“{name}”不一致")


def check_uniques(kind: Kind, rows: list[Row]) -> None:
    """Duplicates within the file and against the district, as problems on the rows."""
    for u in UNIQUES[kind.key]:
        cols = "、".join(u.headers)
        first: dict[tuple, int] = {}
        for row in rows:
            key = _key(u, row.record)
            if key is None:
                continue
            if key in first:
                row.problems.append(f"【{cols}】与第 {first[key]} 行重复")
            else:
                first[key] = row.line
        taken = existing_keys(u, set(first))
        for row in rows:
            key = _key(u, row.record)
            if key in taken and first.get(key) == row.line:
                row.problems.append(f"【{cols}】本区已有相同{cols}的{kind.label}")


# --- writing ---------------------------------------------------------------------------------

def _fill_household_codes(records: list[dict]) -> None:
    """Give every record without a 户码 a fresh one, unique in the file and the district."""
    u = UNIQUES["households"][1]
    taken = {r["household_code"] for r in records if r["household_code"]}
    pending = [r for r in records if not r["household_code"]]
    while pending:
        for r in pending:
            code = new_household_code()
            while code in taken:
                code = new_household_code()
            r["household_code"] = code
            taken.add(code)
        clash = existing_keys(u, {(r["household_code"],) for r in pending})
        pending = [r for r in pending if (r["household_code"],) in clash]


def _write_persons(records: list[dict]) -> dict[str, int]:
    """The persons of the file's owners: those with an ID number already in the district are
    reused, the others inserted in bulk; identity key → person id. An owner without a number gets
    a key of its own (one row, one person)."""
    tenant = records[0]["tenant_id"]
    wanted: dict[str, tuple[str, str]] = {}
    for r in records:
        fixed = []
        for name, key, masked in r["owners"]:
            if not key:
                key = f"u:{uuid.uuid4().hex}"
            wanted.setdefault(key, (name, masked))
            fixed.append(key)
        r["owners"] = tuple(fixed)
    ids: dict[str, int] = {}
    numbered = sorted(k for k in wanted if k.startswith("id:"))
    for part in _chunks(numbered, IN_CHUNK):
        ids.update(db.session.execute(select(m.Person.identity_key, m.Person.id)
                                      .where(m.Person.identity_key.in_(part))).all())
    new = [{"tenant_id": tenant, "name": name, "identity_key": key, "id_masked": masked, "phone_masked": ""}
           for key, (name, masked) in wanted.items() if key not in ids]
    for part in _chunks(new, CHUNK):
        ids.update(db.session.execute(insert(m.Person).returning(m.Person.identity_key, m.Person.id), part).all())
    return ids


def write(kind: Kind, records: list[dict], progress: Progress, total: int) -> dict:
    """Bulk-insert all records in the current transaction; counts for the audit summary."""
    links = ownerships = 0
    if kind.key == "households":
        _fill_household_codes(records)
        persons = _write_persons(records)
    for n, part in enumerate(_chunks(records, CHUNK)):
        if kind.key != "households":
            db.session.execute(insert(kind.model), part)
        else:
            # Codes are unique in the district: they map the returned ids back to the rows.
            class_ids = {r["household_code"]: r.pop("class_ids") for r in part}
            held = {r["household_code"]: r.pop("owners") for r in part}
            ids = db.session.execute(insert(m.Household).returning(m.Household.id, m.Household.household_code),
                                     part).all()
            day = today()
            tenant = part[0]["tenant_id"]
            link_rows = [{"tenant_id": tenant, "household_id": hid, "household_class_id": cid,
                          "valid_from": day} for hid, code in ids for cid in class_ids[code]]
            if link_rows:
                db.session.execute(insert(m.HouseholdClassLink), link_rows)
                links += len(link_rows)
            own_rows = [{"tenant_id": tenant, "household_id": hid, "person_id": persons[key],
                         "share": "单独所有" if len(held[code]) == 1 else "共同共有"}
                        for hid, code in ids for key in held[code]]
            if own_rows:
                db.session.execute(insert(m.Ownership), own_rows)
                ownerships += len(own_rows)
        done = min((n + 1) * CHUNK, len(records))
        progress(total + done, 2 * total, f"正在写入 {done}/{len(records)} 条")
    return {"class_links": links, **({"ownerships": ownerships, "persons": len(persons)}
                                     if kind.key == "households" else {})}


# --- the whole import ------------------------------------------------------------------------

def _outcome(kind: Kind, filename: str, rows: int, imported: int, errors: list[dict], total_errors: int,
             summary: str) -> dict:
    return {"kind": kind.key, "kind_label": kind.label, "filename": filename, "ok": not total_errors,
            "rows": rows, "imported": imported, "errors": errors[:MAX_ERRORS_SHOWN],
            "error_total": total_errors, "summary": summary}


def import_file(kind_key: str, path: Path, filename: str, progress: Progress) -> dict:
    """Validate every row of the file, then write all of them or none. The outcome (counts and
    bad rows with their spreadsheet line numbers) is a plain dict for JobRun.result."""
    kind = KINDS[kind_key]
    try:
        table = read_table(path)
        if not table or not any(table[0]):
            raise FileProblem("文件是空的：第 1 行应为表头")
        columns = map_columns(kind, table[0])
        # Line numbers as the spreadsheet shows them: header = 1, first data row = 2.
        data = [(line, cells) for line, cells in enumerate(table[1:], start=2) if any(cells)]
        if not data:
            raise FileProblem("文件中没有数据行（第 2 行起填写数据）")
        if len(data) > MAX_ROWS:
            raise FileProblem(f"数据共 {len(data)} 行，超过单个文件 {MAX_ROWS} 行的上限，请拆分后分别导入")
    except FileProblem as exc:
        return _outcome(kind, filename, 0, 0, [{"line": None, "reasons": [str(exc)]}], 1,
                        f"文件无法导入：{exc}")

    total = len(data)
    ctx = load_context(kind)
    rows = []
    for i, (line, cells) in enumerate(data, start=1):
        rows.append(build_record(kind, cells, columns, ctx, line))
        if i % PROGRESS_EVERY == 0:
            progress(i, 2 * total, f"正在校验 {i}/{total} 行")
    check_uniques(kind, rows)
    if kind.key == "households":
        check_owners(rows)
    bad = [{"line": r.line, "reasons": r.problems} for r in rows if r.problems]
    if bad:
        return _outcome(kind, filename, total, 0, bad, len(bad),
                        f"共 {total} 行，其中 {len(bad)} 行有错误，未导入任何数据。请修改后重新上传。")

    progress(total, 2 * total, "校验通过，正在写入")
    counts = write(kind, [r.record for r in rows], progress, total)
    audit.record_event("create", "import", f"导入{kind.label} {total} 条（{filename}）",
                       changes={"kind": kind.key, "table": kind.model.__tablename__, "file": filename,
                                "rows": total, **counts})
    return _outcome(kind, filename, total, total, [], 0, f"已导入 {total} 条{kind.label}")


# --- templates to download -------------------------------------------------------------------

def _header(col: Col) -> str:
    return col.header + ("*" if col.required else "")


def _allowed(col: Col, classes: list[str]) -> str:
    if col.type == "classes":
        return "、".join(classes) or "（本区尚未设置困难类别，请先在“困难类别”中添加）"
    return col.allowed


def template_xlsx(kind: Kind, classes: list[str]) -> bytes:
    """Header row, one example row, and a sheet 填写说明 describing every column."""
    wb = Workbook()
    ws = wb.active
    ws.title = kind.label
    ws.append([_header(c) for c in kind.cols])
    ws.append([c.example for c in kind.cols])
    red, bold = Font(bold=True, color="B71C1C"), Font(bold=True)
    for i, col in enumerate(kind.cols, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = red if col.required else bold
        cell.fill = PatternFill("solid", fgColor="FDECEC" if col.required else "F3F4F6")
        letter = cell.column_letter
        ws.column_dimensions[letter].width = max(12, len(col.header) * 2 + 4)
        if col.type in ("text", "phone", "code", "credit", "idcard", "owners"):
            # Text format: keeps leading zeros and 18-digit codes from becoming numbers.
            ws.column_dimensions[letter].number_format = "@"
            ws.cell(row=2, column=i).number_format = "@"
        if col.type in ("choice", "bool"):
            values = col.choices if col.type == "choice" else ("是", "否")
            dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=not col.required,
                                error=f"{col.header}应为：{'、'.join(values)}", errorTitle="取值不正确")
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    ws.freeze_panes = "A2"

    info = wb.create_sheet(INSTRUCTIONS_SHEET)
    notes = [
        f"{kind.label}导入说明",
        "1. 第 1 行为表头，请勿修改列名；带 * 的列为必填（表头红色）。第 2 行为示例，导入前请删除或改为真实数据。",
        f"2. 上级按名称匹配，须已在本区存在。建议按顺序导入：{ORDER_HINT}；物业企业可随时导入。{kind.intro}",
        "3. 整份文件全部校验通过才会写入；任一行有错误时不导入任何数据，并列出出错的行号（与表格左侧行号一致）和原因。",
        "4. 支持 .xlsx 和 .csv（UTF-8 或 GBK 编码）；本说明页不会被导入。",
    ]
    for line in notes:
        info.append([line])
    info["A1"].font = Font(bold=True, size=14)
    info.append([])
    info.append(["列名", "是否必填", "说明", "可选值"])
    for cell in info[info.max_row]:
        cell.font = bold
    for col in kind.cols:
        info.append([col.header, "必填" if col.required else "选填", col.note, _allowed(col, classes)])
    for letter, width in zip("ABCD", (18, 10, 48, 48)):
        info.column_dimensions[letter].width = width
    for row in info.iter_rows(min_row=len(notes) + 3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_csv(kind: Kind) -> bytes:
    """Header and example row, UTF-8 with BOM so that Excel opens it with the right encoding."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([_header(c) for c in kind.cols])
    writer.writerow([c.example for c in kind.cols])
    return buf.getvalue().encode("utf-8-sig")


def class_names() -> list[str]:
    return list(db.session.execute(select(m.HouseholdClass.name).order_by(m.HouseholdClass.name)).scalars())
