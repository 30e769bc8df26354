"""Seed the demo district: plain functions, no Flask request in them.

Modelled on 长治市潞州区 (seeds/002: 1151 小区 — 504 专业物业, 520 自管, 127 无人管理) and 合肥's firm
party coverage (seeds/000: 621 firms — 284 own party org, 53 in joint branches, the rest with a
党建指导员). A fixed `random.Random` seed makes the district the same on every run; dates are
relative to today so contracts and committee terms are current whenever it is seeded.

Big tables go in with bulk inserts (explicit tenant_id, chunked, RETURNING ids in parameter
order) because the ORM unit of work would take minutes for 20,000+ households; bulk inserts
bypass the audit hook, so one summary audit event records the counts. The handful of users and
memberships go through the ORM and are audited one by one.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, update

from .. import audit
from ..admin.logic import normalise_slug, slug_problem
from ..auth.logic import password_problem
from ..auth.models import ROLE_LABELS, Membership, User, hash_password
from ..extensions import db
from ..fees.models import FeeAssignment, FeeConcession, FeePolicy, FeePolicyGrade
from ..org import models as m
from ..org.resources import CODE_ALPHABET
from ..org.validators import credit_code_check_char
from ..tenancy import Tenant, tenant_by_slug, tenant_scope
from ..timeutil import today
from ..users.logic import find_user, username_problem

SEED = 1151  # 潞州's compound count: any fixed number gives the same district every run
REGION = "山西省长治市"
DEFAULT_NAME = "潞州区（演示）"
PLATFORM_ADMIN = "platform-admin"
CHUNK = 2000

# 潞州's management-mode shares (seeds/002); 国资托管 is carved out of 自管 below.
MODE_SHARES = {"专业物业": 504 / 1151, "无人管理": 127 / 1151}
STATE_SHARE = 0.02

# Streets and communities with 潞州-style names; roads near each street for addresses.
STREETS = [
    ("英雄南路街道", ["英雄南路社区", "府后社区", "解放东街社区", "新华社区"],
     ["英雄南路", "府后东街", "解放东街", "新华街"]),
    ("太行东街街道", ["太行东街社区", "瑞达社区", "城东社区", "长兴社区", "华丰社区"],
     ["太行东街", "长兴中路", "城东路", "华丰路"]),
    ("延安南路街道", ["延安南路社区", "南关社区", "站前社区", "金威社区"],
     ["延安南路", "南关街", "站前路", "太行西街"]),
    ("紫金街道", ["紫金东街社区", "紫金西街社区", "蓝郡社区", "御林社区"],
     ["紫金东街", "紫金西街", "长兴南路", "西一环路"]),
    ("常青街道", ["常青社区", "淮海社区", "漳泽社区", "和平社区", "南华社区"],
     ["常青路", "淮海东街", "漳泽路", "和平北路"]),
    ("东街街道", ["东大街社区", "上党门社区", "钟楼社区", "东关社区"],
     ["东大街", "上党门街", "钟楼街", "东关街"]),
    ("西街街道", ["西大街社区", "城隍庙社区", "府坡社区", "西关社区"],
     ["西大街", "府坡街", "城隍庙街", "西关路"]),
    ("长北街道", ["长北社区", "北董社区", "故县社区", "捉马社区"],
     ["英雄北路", "北董路", "故县街", "捉马东大街"]),
]

SURNAMES = ("王" * 9 + "李" * 8 + "张" * 7 + "刘" * 6 + "郭" * 5 + "赵" * 5 + "杨" * 4 + "陈" * 4
            + "武" * 3 + "牛" * 3 + "申" * 3 + "秦" * 3 + "贾" * 2 + "段" * 2 + "常" * 2 + "霍" * 2
            + "崔" * 2 + "宋" * 2 + "连史冯马胡任郝韩程田梁孙周吴徐高何董苗桑暴靳栗侯")
GIVEN = ("建国 志强 晓东 海军 卫东 红梅 丽娟 秀英 桂兰 玉兰 俊杰 子涵 雨涵 浩然 文斌 丽萍 建军 国庆 永红 "
         "晓燕 海燕 春生 秋菊 冬梅 宏伟 鹏飞 慧敏 静 敏 军 强 磊 伟 芳 娜 霞 斌 勇 杰 刚 涛 琳 婷 鑫 瑞 "
         "晨 悦 欣 晶 亮 平 红 华 英 玲 鹏 超 保平 二虎 润生 金花 引弟 素琴 福全 晋生 潞生 太平 宇航 "
         "思远 梓萱 一诺 佳怡 明轩 欣怡 俊峰 志刚 晓峰 艳芳 秀兰 凤英 小军 海涛 雪梅").split()
MOBILE_PREFIXES = ["139", "138", "137", "136", "135", "150", "151", "152", "158", "159", "182",
                   "183", "187", "188", "130", "131", "132", "155", "156", "185", "186", "133",
                   "153", "180", "189", "177", "199"]

ESTATE_WORDS = ["太行", "紫金", "上党", "漳泽", "潞宁", "金威", "华府", "御景", "锦绣", "泰和", "阳光",
                "翡翠", "盛世", "丽景", "康城", "东方", "长兴", "瑞祥", "滨河", "世纪", "天润", "碧水",
                "龙湾", "凤凰", "新城", "名都", "君悦", "金鼎", "嘉禾", "澜庭"]
ESTATE_SUFFIXES = ["花园", "家园", "苑", "名苑", "华庭", "公馆", "雅居", "尚城", "府", "湾", "国际", "小区"]
OLD_NAMES = ["东方红", "向阳", "解放", "和平", "建设", "红旗", "前进", "光明", "胜利", "团结", "幸福",
             "朝阳", "新华", "文化", "五一", "八一", "健康", "友谊", "跃进", "工农"]
UNITS = ["市供电公司", "市自来水公司", "长治钢铁厂", "淮海机械厂", "清华机械厂", "市人民医院",
         "市第二人民医院", "市邮电局", "市粮食局", "市建筑公司", "市交通局", "市供销社", "市二中", "市卫校",
         "市棉纺厂", "市化肥厂", "市公安局", "市税务局", "市林业局", "市电机厂", "长治液压件厂",
         "市烟草公司", "市农机公司", "市水泥厂", "长治日报社"]
VILLAGES = ["捉马", "故县", "北董", "南垂", "关村", "西旺", "史家庄", "马厂", "堠北庄", "大辛庄", "黄碾",
            "南石槽", "西白兔", "壶口", "苗圃", "漳村"]
HOUSING_WORDS = ["安居", "康居", "宜居", "惠民", "和谐", "幸福", "乐居", "民生"]
PHASES = ["二期", "三期", "四期", "五期", "六期", "七期", "八期", "九期"]

# Compound type by management mode: firms serve the 商品房, 单位房改房 and old compounds are
# mostly self-managed or unmanaged (seeds/002 "老旧小区无人管事").
TYPES_BY_MODE = {
    "专业物业": {"商品房": 70, "安置房": 15, "保障房": 10, "老旧小区": 5},
    "自管": {"单位房改房": 55, "老旧小区": 40, "安置房": 5},
    "无人管理": {"老旧小区": 80, "单位房改房": 20},
    "国资托管": {"老旧小区": 100},
}
BUILD_YEARS = {"商品房": (2000, 2022), "安置房": (2008, 2022), "保障房": (2010, 2020),
               "单位房改房": (1975, 1998), "老旧小区": (1975, 2000)}
AREA_RANGE = {"商品房": (8000, 16000), "安置房": (6000, 12000), "保障房": (4500, 6500),
              "单位房改房": (4500, 9000), "老旧小区": (4500, 9000)}  # 0.01 m²
SIZE_WEIGHT = {"商品房": 3.0, "安置房": 2.2, "保障房": 1.6, "单位房改房": 0.8, "老旧小区": 0.7}
# How much likelier a household of this compound type is to be on 低保/特困.
NEED_WEIGHT = {"老旧小区": 3.0, "单位房改房": 2.5, "安置房": 2.0, "保障房": 4.0, "商品房": 0.5}

# 24 firms: (name, qualification, party status). Shares follow 合肥: ~45% own org, ~10% joint,
# the rest with an instructor, and one with none yet. The first is the demo firm account's.
FIRMS = [
    ("长治市上党红物业服务有限公司", "二级", "单独建立党组织"),
    ("长治市太行物业管理有限公司", "一级", "单独建立党组织"),
    ("长治市漳泽物业服务有限公司", "二级", "单独建立党组织"),
    ("长治市国有资本物业服务有限公司", "一级", "单独建立党组织"),
    ("长治市紫金物业服务有限公司", "二级", "派驻党建指导员"),
    ("山西晋东南物业管理有限公司", "一级", "单独建立党组织"),
    ("长治市安居物业服务有限公司", "三级", "派驻党建指导员"),
    ("长治市和顺达物业服务有限公司", "三级", "联合党支部"),
    ("长治市鑫诚物业管理有限公司", "二级", "单独建立党组织"),
    ("长治市华宇物业服务有限公司", "三级", "派驻党建指导员"),
    ("长治市锦绣物业服务有限公司", "二级", "单独建立党组织"),
    ("长治市丰泽物业管理有限公司", "无资质等级", "派驻党建指导员"),
    ("长治市惠民物业服务有限公司", "三级", "单独建立党组织"),
    ("长治市瑞祥物业服务有限公司", "三级", "派驻党建指导员"),
    ("长治市德馨物业管理有限公司", "二级", "单独建立党组织"),
    ("长治市嘉禾物业服务有限公司", "无资质等级", "联合党支部"),
    ("长治市宏远物业服务有限公司", "三级", "派驻党建指导员"),
    ("长治市祥和物业管理有限公司", "二级", "单独建立党组织"),
    ("长治市百福物业服务有限公司", "无资质等级", "派驻党建指导员"),
    ("长治市金盾物业服务有限公司", "三级", "派驻党建指导员"),
    ("长治市广泰物业管理有限公司", "三级", "单独建立党组织"),
    ("长治市恒信物业服务有限公司", "无资质等级", "派驻党建指导员"),
    ("长治市佳园物业服务有限公司", "无资质等级", "无"),
    ("长治市博雅物业服务有限公司", "二级", "派驻党建指导员"),
]
STATE_FIRM = 3  # takes the 国资托管 compounds (政府兜底)
STAFF_RANGE = {"一级": (300, 800), "二级": (120, 400), "三级": (40, 150), "无资质等级": (15, 60)}
FIRM_WEIGHT = {"一级": 5, "二级": 3, "三级": 2, "无资质等级": 1}
# 元/㎡·月 by service grade (济南's guided price steps, RULES.md: 0.50 … 1.60).
RATE_RANGE = {"一级": (120, 160), "二级": (80, 120), "三级": (50, 80)}
INSTRUCTOR_UNITS = ["潞州区物业管理服务中心", "潞州区委组织部", "潞州区住房和城乡建设局"]

# The functional departments demands and meeting action items go to (002's 联合执法): the names
# the demo's demands use, each with its kind. 区城管局 has the demo's department account.
DEPARTMENTS = [("区城管局", "城管执法"), ("区住建局", "住房建设"), ("区物业管理服务中心", "住房建设"),
               ("区市场监管局", "市场监管"), ("街道综合执法队", "城管执法"), ("消防救援站", "消防救援"),
               ("辖区派出所", "公安"), ("交警大队", "公安"), ("供电所", "其他"), ("市自来水公司", "其他"),
               ("街道环卫所", "其他")]
DEMO_DEPARTMENT = "区城管局"

COUNT_LABELS = [("streets", "街道"), ("communities", "社区"), ("grids", "网格"), ("departments", "职能部门"), ("compounds", "小区"),
                ("buildings", "楼栋"), ("households", "住户"), ("household_classes", "住户类别"),
                ("household_class_links", "住户类别登记"), ("persons", "业主"), ("ownerships", "产权登记"),
                ("developer_units", "开发商持有房屋"),
                ("firms", "物业企业"), ("contracts", "物业服务合同"), ("committees", "业委会/物管会"),
                ("committee_members", "委员"), ("party_orgs", "党组织"), ("instructors", "党建指导员"),
                ("cross_appointments", "交叉任职"), ("fee_policies", "收费政策"),
                ("fee_assignments", "收费政策适用小区"), ("users", "区县账号"), ("bills", "账单"),
                ("payments", "缴费"), ("claims", "补贴申领"), ("requirements", "公示要求"),
                ("ledger_entries", "账目"), ("publications", "公示"), ("owner_votes", "业主表决"), ("ballots", "表决票"), ("vetting_criteria", "联审清单项"),
                ("formations", "组建换届"), ("supervisions", "责令整改"), ("follow_ups", "任期届满提醒"),
                ("demands", "诉求"), ("api_clients", "接口客户端"), ("api_demands", "接口转入工单"),
                ("meetings", "联席会议"), ("meeting_minutes", "会议纪要公示"), ("four_list_items", "四项清单事项"),
                ("volunteers", "党员志愿者"), ("volunteer_tasks", "志愿服务与党员接单"),
                ("building_leaders", "楼栋长与党员中心户"),
                ("standards", "评分标准"), ("standard_items", "评分项"),
                ("evaluations", "考核周期"), ("assessments", "考核对象"),
                ("surveys", "满意度测评"), ("survey_responses", "测评答卷"),
                ("published_evaluations", "已发布考核"), ("consequence_follow_ups", "上榜后果待办"),
                ("consequence_flags", "上榜后果标记"),
                ("holdback_releases", "质量保证金释放（小区×月）"),
                ("appeals", "申诉"), ("credit_kinds", "信用记录类型"), ("credit_records", "信用记录"),
                ("credit_source_records", "公示、诉求自动信用记录"),
                ("credit_objections", "信用异议"), ("credit_grades", "季度信用等级"), ("exits", "退出交接"),
                ("contract_filings", "合同备案"), ("expiring_priority", "即将到期且优先续约的合同"),
                ("selections", "物业选聘"), ("tender_applications", "投标报名"),
                ("demands_today", "今日 12345 工单"), ("inbox_unread", "未读站内消息"), ("reminders", "截止日期提醒"), ("outbox", "短信/微信消息"),
                ("sms_sent", "已发送短信"), ("webhook_deliveries", "Webhook 推送"),
                ("snapshots", "统计快照（小区×月）")]


class DemoExists(Exception):
    """The slug is taken: seeding changes nothing."""


class SetupProblem(ValueError):
    """Bad input (slug, password, username): the message is shown to the operator."""


@dataclass
class SeedResult:
    tenant_id: int
    counts: dict
    accounts: list = field(default_factory=list)  # (username, role label, scope name)
    seconds: float = 0.0  # set by the caller, commit included
    demo_compound_id: int | None = None  # the demo committee's compound, served by the demo firm
    demo_firm_id: int | None = None


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _credit_code(rng: random.Random) -> str:
    """A valid 统一社会信用代码 of a 潞州 company: 91 (enterprise) + 140403 (潞州区) + an
    organisation code with its own GB 11714 check digit + the GB 32100 check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "MA0" + "".join(rng.choice(alphabet) for _ in range(5))
    values = [int(c, 36) for c in body]
    check = 11 - sum(v * w for v, w in zip(values, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    first17 = "91140403" + body + {10: "X", 11: "0"}.get(check, str(check))
    return first17 + credit_code_check_char(first17)


class _Builder:
    """Generates one district's rows level by level, inserting each level in bulk."""

    def __init__(self, tenant_id: int, n_compounds: int, n_households: int):
        self.rng = random.Random(SEED)
        self.tid = tenant_id
        self.n_compounds = n_compounds
        self.n_households = n_households
        self.today = today()
        self.counts: dict[str, int] = {}
        self.used_names: set[str] = set()

    # --- helpers ---------------------------------------------------------------------------
    def insert(self, model, rows: list[dict], key: str) -> list[int]:
        """Bulk insert in chunks; the new ids in the order of `rows`."""
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
        ids: list[int] = []
        # The same keys in every row (absent ones are nullable links): one statement per chunk.
        blank = dict.fromkeys({k for r in rows for k in r})
        for i in range(0, len(rows), CHUNK):
            chunk = [{**blank, **r, "tenant_id": self.tid} for r in rows[i:i + CHUNK]]
            ids += db.session.execute(stmt, chunk).scalars().all()
        self.counts[key] = self.counts.get(key, 0) + len(rows)
        return ids

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def phone(self) -> str:
        # Masked: the demo never carries a dialable number.
        return f"{self.rng.choice(MOBILE_PREFIXES)}****{self.rng.randint(0, 9999):04d}"

    def days_ago(self, lo: int, hi: int) -> date:
        return self.today - timedelta(days=self.rng.randint(lo, hi))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, weights: dict):
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def unique(self, name: str) -> str:
        base, k = name, 0
        while name in self.used_names:
            name = base + PHASES[k % len(PHASES)] + ("" if k < len(PHASES) else str(k))
            k += 1
        self.used_names.add(name)
        return name

    # --- the organisation tree -------------------------------------------------------------
    def tree(self):
        street_ids = self.insert(m.Street, [{"name": s, "code": f"1404030{i + 1:02d}"}
                                            for i, (s, _, _) in enumerate(STREETS)], "streets")
        rows, self.comm_roads = [], []
        for si, (_, comms, roads) in enumerate(STREETS):
            for ci, c in enumerate(comms):
                rows.append({"street_id": street_ids[si], "name": c,
                             "code": f"1404030{si + 1:02d}{ci + 1:03d}"})
                self.comm_roads.append(roads)
        self.community_ids = self.insert(m.Community, rows, "communities")
        self.street_ids = street_ids
        self.comm_names = [r["name"] for r in rows]
        grid_rows, self.comm_grids = [], []
        for ci, cid in enumerate(self.community_ids):
            n = self.rng.randint(2, 4)
            grid_rows += [{"community_id": cid, "name": f"第{k + 1}网格", "keeper": self.person(),
                           "keeper_phone": self.phone()} for k in range(n)]
        grid_ids = self.insert(m.Grid, grid_rows, "grids")
        self.grid_keepers = {g: r["keeper"] for g, r in zip(grid_ids, grid_rows)}
        for cid in self.community_ids:
            self.comm_grids.append([g for g, r in zip(grid_ids, grid_rows) if r["community_id"] == cid])

    def firms(self):
        rows = []
        for name, qual, status in FIRMS:
            members = {"单独建立党组织": self.rng.randint(3, 25), "联合党支部": self.rng.randint(1, 2),
                       "派驻党建指导员": self.rng.randint(0, 2), "无": 0}[status]
            roads = self.rng.choice(STREETS)[2]
            rows.append({"name": name, "credit_code": _credit_code(self.rng), "qualification": qual,
                         "legal_rep": self.person(), "contact_phone": self.phone(),
                         "address": f"潞州区{self.rng.choice(roads)}{self.rng.randint(1, 399)}号",
                         "party_status": status, "party_members": members,
                         "staff_count": self.rng.randint(*STAFF_RANGE[qual])})
        self.firm_rows = rows
        self.firm_ids = self.insert(m.Firm, rows, "firms")

    def _compound_name(self, ctype: str, roads: list[str]) -> str:
        r = self.rng
        if ctype == "商品房":
            name = r.choice(ESTATE_WORDS) + r.choice(ESTATE_SUFFIXES)
        elif ctype == "老旧小区":
            name = r.choice([f"{r.choice(OLD_NAMES)}小区", f"{r.choice(roads)}{r.randint(1, 199)}号院"])
        elif ctype == "单位房改房":
            name = r.choice(UNITS) + r.choice(["家属院", "宿舍", "生活区"])
        elif ctype == "安置房":
            name = f"{r.choice(VILLAGES)}安置小区"
        else:
            name = f"{r.choice(HOUSING_WORDS)}公租房小区"
        return self.unique(name)

    def _modes(self) -> list[str]:
        n = self.n_compounds
        prof = round(n * MODE_SHARES["专业物业"])
        none = round(n * MODE_SHARES["无人管理"])
        state = max(1, round(n * STATE_SHARE))
        modes = ["专业物业"] * prof + ["无人管理"] * none + ["国资托管"] * state
        modes += ["自管"] * (n - len(modes))
        rest = modes[3:]
        self.rng.shuffle(rest)
        return modes[:3] + rest  # the first three are 专业物业: the demo accounts' anchors

    def compounds(self):
        r, n = self.rng, self.n_compounds
        comm_of = [0, 0, 0]  # anchors: the demo community (first of the first street)
        others = list(range(1, len(self.community_ids)))
        weights = [r.uniform(0.5, 1.5) for _ in self.community_ids]
        for i in range(3, n):
            k = i - 3
            comm_of.append(others[k] if k < len(others) else r.choices(range(len(weights)), weights)[0])
        specs = []
        for i, mode in enumerate(self._modes()):
            ctype = "商品房" if i == 0 else self.pick(TYPES_BY_MODE[mode])
            specs.append({"mode": mode, "type": ctype, "ci": comm_of[i],
                          "size": SIZE_WEIGHT[ctype] * r.uniform(0.6, 1.5)})
        total = sum(s["size"] for s in specs)
        rows, plans = [], []
        for s in specs:
            ci, ctype = s["ci"], s["type"]
            plan = self._buildings(ctype, max(60, round(self.n_households * s["size"] / total)))
            roads = self.comm_roads[ci]
            rows.append({
                "community_id": self.community_ids[ci], "grid_id": r.choice(self.comm_grids[ci]),
                "name": self._compound_name(ctype, roads),
                "address": f"潞州区{r.choice(roads)}{r.randint(1, 499)}号",
                "compound_type": ctype, "build_year": r.randint(*BUILD_YEARS[ctype]),
                # 建筑面积: the units' floor area plus ~20% common parts.
                "area_m2": (sum(b["households"] * b["avg_area"] for b in plan) * Decimal("1.2"))
                .quantize(Decimal("0.01")),
                "management_mode": s["mode"], "wuguan_mode": None})
            plans.append(plan)
        self.specs, self.compound_rows = specs, rows
        self.compound_ids = self.insert(m.Compound, rows, "compounds")
        self._insert_buildings(plans)

    def _buildings(self, ctype: str, budget: int) -> list[dict]:
        """Buildings for about `budget` households: low-rise walk-ups for old compounds, 11–33
        floor towers with lifts for new ones."""
        r = self.rng
        clamp = lambda v, lo, hi: min(hi, max(lo, round(v)))  # noqa: E731
        low = ctype in ("老旧小区", "单位房改房") or (ctype == "保障房" and self.chance(0.3))
        floors = r.randint(5, 7) if low else r.randint(11, 33)
        units = clamp(budget / (6 * floors * 2), 1, 3)  # stairwells per building, 2 flats a floor
        count = clamp(budget / (floors * units * 2), 6, 30)
        if not low:  # few, tall towers: fit the height to the budget instead
            floors = clamp(budget / (count * units * 2), 11, 33)
        plan = []
        lo, hi = AREA_RANGE[ctype]
        for _ in range(count):
            f = r.randint(5, 7) if low else min(33, max(11, floors + r.randint(-3, 3)))
            # Every floor of a stairwell repeats the same two flat plans.
            areas = [r.randint(lo, hi) for _ in range(2)]
            plan.append({"floors": f, "units": units, "areas": areas, "households": f * units * 2,
                         "avg_area": Decimal(sum(areas)) / 200,
                         # Towers have lifts; ~12% of walk-ups have had one retrofitted (加装电梯).
                         "has_lift": f >= 8 or self.chance(0.12)})
        return plan

    def _insert_buildings(self, plans: list[list[dict]]):
        rows, owners = [], []
        for cid, plan in zip(self.compound_ids, plans):
            for k, b in enumerate(plan):
                rows.append({"compound_id": cid, "name": f"{k + 1}号楼", "floors": b["floors"],
                             "units": b["units"], "has_lift": b["has_lift"]})
                owners.append((cid, b))
        building_ids = self.insert(m.Building, rows, "buildings")
        self.buildings_of: dict[int, list[tuple[int, str]]] = {}
        for bid, row in zip(building_ids, rows):
            self.buildings_of.setdefault(row["compound_id"], []).append((bid, row["name"]))
        self._insert_households(building_ids, owners)

    def _insert_households(self, building_ids, owners):
        r, codes, rows, kinds = self.rng, set(), [], []
        type_of = {cid: s["type"] for cid, s in zip(self.compound_ids, self.specs)}
        for bid, (cid, b) in zip(building_ids, owners):
            for u in range(1, b["units"] + 1):
                for fl in range(1, b["floors"] + 1):
                    for pos, area in enumerate(b["areas"], start=1):
                        code = "".join(r.choice(CODE_ALPHABET) for _ in range(8))
                        while code in codes:
                            code = "".join(r.choice(CODE_ALPHABET) for _ in range(8))
                        codes.add(code)
                        rows.append({"compound_id": cid, "building_id": bid,
                                     "room": f"{u}单元{fl}{pos:02d}", "floor": fl,
                                     "floor_area": Decimal(area).scaleb(-2), "owner_name": self.person(),
                                     "phone_masked": self.phone(), "household_code": code})
                        kinds.append(type_of[cid])
        ids = self.insert(m.Household, rows, "households")
        self._household_classes(ids, kinds)
        self._owners(ids, rows)

    def _owners(self, ids: list[int], rows: list[dict]):
        """Owners as persons (headcount is by person, 解释 第九条): most units have an owner of
        their own; about 3% are a second unit of an owner in the same compound and 8% are co-owned
        by a couple. In the demo compound the developer still holds its last 12 units (names
        blank or its company's: still one owner), and the first two units belong to two
        different owners both called 王伟. Its own RNG: the rest of the demo stays as it was."""
        r = random.Random(SEED + 14)
        demo = self.compound_ids[0]
        demo_rows = [i for i, row in enumerate(rows) if row["compound_id"] == demo]
        developer = set(demo_rows[-12:])
        wangwei = set(demo_rows[:2])
        people: list[dict] = []
        links: list[tuple[int, int, str]] = []      # (row, person, share)
        names: dict[int, str] = {}                  # row → owner name when it changes
        previous: dict[int, int] = {}               # compound → a person owning a unit there

        def new_person(name: str) -> int:
            people.append({"name": name, "identity_key": f"demo:{len(people) + 1}",
                           "id_masked": f"1404{'*' * 10}{r.randint(0, 9999):04d}", "phone_masked": self.phone()})
            return len(people) - 1

        for i, row in enumerate(rows):
            cid = row["compound_id"]
            if i in developer:
                names[i] = "" if i % 2 else "长治市鑫达房地产开发有限公司"
                continue
            if i in wangwei:
                names[i] = "王伟"
                links.append((i, new_person("王伟"), "单独所有"))
                continue
            if cid in previous and r.random() < 0.03:
                p = previous[cid]
                links.append((i, p, "单独所有"))
                names[i] = people[p]["name"]
                continue
            owner = new_person(row["owner_name"])
            if r.random() < 0.08:
                spouse = new_person(self.rng_name(r))
                links += [(i, owner, "共同共有"), (i, spouse, "共同共有")]
                names[i] = f"{row['owner_name']}、{people[spouse]['name']}"
            else:
                links.append((i, owner, "单独所有"))
            previous[cid] = owner
        person_ids = self.insert(m.Person, people, "persons")
        self.insert(m.Ownership, [{"household_id": ids[i], "person_id": person_ids[p], "share": share}
                                  for i, p, share in links], "ownerships")
        if names:
            db.session.execute(update(m.Household), [{"id": ids[i], "owner_name": n} for i, n in names.items()])
        if developer:
            db.session.execute(update(m.Household).where(m.Household.id.in_([ids[i] for i in developer]))
                               .values(developer_held=True))
        self.counts["developer_units"] = len(developer)

    @staticmethod
    def rng_name(r: random.Random) -> str:
        return r.choice(SURNAMES) + r.choice(GIVEN)

    def _household_classes(self, ids: list[int], kinds: list[str]):
        """低保 3%, 特困 1% (not also 低保), 残疾 2%, 优抚 1% of households; need is likelier in
        old and subsidised housing (weighted sampling without replacement)."""
        r, n = self.rng, len(ids)
        names = ["低保", "特困", "残疾", "优抚"]
        class_ids = self.insert(m.HouseholdClass, [{"name": c} for c in names], "household_classes")
        self.class_id = dict(zip(names, class_ids))

        def sample(k, weight, exclude=()):
            pool = [i for i in range(n) if i not in exclude]
            keyed = sorted(pool, key=lambda i: r.random() ** (1 / weight(i)), reverse=True)
            return keyed[:k]

        need = lambda i: NEED_WEIGHT[kinds[i]]  # noqa: E731
        dibao = sample(round(n * 0.03), need)
        tekun = sample(round(n * 0.01), need, exclude=set(dibao))
        canji = sample(round(n * 0.02), lambda i: 1.0)
        youfu = sample(round(n * 0.01), lambda i: 1.0)
        rows = []
        for cls, picked in zip(class_ids, (dibao, tekun, canji, youfu)):
            rows += [{"household_id": ids[i], "household_class_id": cls,
                      "valid_from": self.days_ago(30, 1800)} for i in sorted(picked)]
        self.insert(m.HouseholdClassLink, rows, "household_class_links")

    # --- firms serving compounds -----------------------------------------------------------
    def contracts(self):
        r, rows = self.rng, []
        self.active_firm: dict[int, int] = {}  # compound index -> firm index
        market = [i for i in range(len(FIRMS)) if i != STATE_FIRM]
        weights = [FIRM_WEIGHT[FIRMS[i][1]] for i in market]
        prof = [i for i, s in enumerate(self.specs) if s["mode"] == "专业物业"]
        for k, i in enumerate(prof):
            if i < 3:
                firm = 0 if i < 2 else 1  # anchors: the demo firm serves two compounds of the demo community
            elif k - 3 < len(market):
                firm = market[k - 3]  # every firm gets at least one project
            else:
                firm = r.choices(market, weights)[0]
            self.active_firm[i] = firm
            rows += self._contract_history(i, firm, market)
        for i, s in enumerate(self.specs):
            if s["mode"] == "国资托管":
                self.active_firm[i] = STATE_FIRM
                rows.append(self._contract(i, STATE_FIRM, self.days_ago(60, 700), 3, grade="三级"))
            elif s["mode"] == "自管" and self.chance(0.1):
                # A firm that left (contract not renewed): the owners now manage themselves.
                end = self.days_ago(90, 1500)
                rows.append(self._contract(i, r.choice(market), _add_years(end, -3) + timedelta(days=1), 3))
        rows += self._cleared()
        self.insert(m.Contract, rows, "contracts")

    def _cleared(self) -> list[dict]:
        """无物业小区清零 under way: over the past year the 兜底 firm took on three in ten of the 无人管理
        compounds, one every month or two. The register keeps their 摸排 mode (无人管理); from its
        start the contract makes them covered, so the dashboard's 无物业小区 falls month by month.
        Its own random stream: the rest of the demo stays as it was."""
        r = random.Random(SEED + 1)
        none = [i for i, s in enumerate(self.specs) if s["mode"] == "无人管理"]
        lo, _ = RATE_RANGE["三级"]
        rows = []
        for n, i in enumerate(sorted(r.sample(none, k=len(none) * 3 // 10))):
            start = self.today - timedelta(days=20 + 50 * n + r.randint(0, 10))
            rows.append({"firm_id": self.firm_ids[STATE_FIRM], "compound_id": self.compound_ids[i],
                         "start_date": start, "end_date": _add_years(start, 3) - timedelta(days=1),
                         "service_grade": "三级", "fee_mode": "包干制", "fee_rate": Decimal(lo).scaleb(-2)})
        return rows

    def _contract_history(self, i: int, firm: int, market: list[int]) -> list[dict]:
        current = self._contract(i, firm, self.days_ago(30, 1000), self.rng.choice([3, 3, 5]))
        if not self.chance(0.35):
            return [current]
        # The previous contract ran up to the day before the current one: a renewal or a firm
        # replaced after a poor evaluation (seeds/002 "退出不合格物业企业").
        before = firm if self.chance(0.5) else self.rng.choice(market)
        end = current["start_date"] - timedelta(days=1)
        return [self._contract(i, before, _add_years(end, -3) + timedelta(days=1), 3), current]

    def _contract(self, i: int, firm: int, start: date, years: int, grade: str | None = None) -> dict:
        s, r = self.specs[i], self.rng
        if grade is None:
            new = s["type"] == "商品房" and self.compound_rows[i]["build_year"] >= 2012
            grade = self.pick({"一级": 40, "二级": 50, "三级": 10} if new
                              else {"一级": 5, "二级": 35, "三级": 60})
        # Current contracts start at most 1000 days ago and run ≥ 3 years: still valid today.
        end = _add_years(start, years) - timedelta(days=1)
        lo, hi = RATE_RANGE[grade]
        return {"firm_id": self.firm_ids[firm], "compound_id": self.compound_ids[i],
                "start_date": start, "end_date": end, "service_grade": grade,
                "fee_mode": "酬金制" if self.chance(0.15) else "包干制",
                "fee_rate": Decimal(r.randrange(lo, hi + 1, 5)).scaleb(-2)}

    # --- committees, party organisations, cross-appointments -------------------------------
    def committees(self):
        r = self.rng
        rows, members, self.cross_members = [], [], []  # cross: (compound index, name, role, since)
        for i, s in enumerate(self.specs):
            p = {"专业物业": {"业委会": 78}, "自管": {"物管会": 35, "业委会": 20}}.get(s["mode"], {})
            roll, kind = r.uniform(0, 100), None
            for k, share in p.items():
                if roll < share:
                    kind = k
                    break
                roll -= share
            if i == 0:
                kind = "业委会"  # the demo committee account's compound
            if kind is None:
                continue
            years = 5 if kind == "业委会" else 2
            start = self.days_ago(60, 365 * years - 60)
            if i != 0 and self.chance(0.06):
                start = _add_years(self.today, -years) - timedelta(days=r.randint(20, 300))  # 换届 overdue
            status = "已备案" if i == 0 else self.pick(
                {"已备案": 70, "备案中": 15, "未备案": 15} if kind == "业委会" else {"已备案": 85, "备案中": 15})
            filed = min(self.today, start + timedelta(days=r.randint(7, 45))) if status == "已备案" else None
            full = "业主委员会" if kind == "业委会" else "物业管理委员会"
            rows.append({"compound_id": self.compound_ids[i], "kind": kind,
                         "name": f"{self.compound_rows[i]['name']}{full}", "term_start": start,
                         "term_end": _add_years(start, years), "filing_status": status, "filed_on": filed})
            members.append(self._members(i, kind, start))
        ids = self.insert(m.Committee, rows, "committees")
        self.committee_of = {row["compound_id"]: cid for cid, row in zip(ids, rows)}
        self.chair_of_demo = members[0][0]["name"]
        flat = [dict(mem, committee_id=cid) for cid, group in zip(ids, members) for mem in group]
        self.insert(m.CommitteeMember, flat, "committee_members")

    def _members(self, i: int, kind: str, since: date) -> list[dict]:
        r = self.rng
        size = r.choice([5, 5, 7, 7, 7, 9]) if kind == "业委会" else r.choice([5, 7])
        # Most committees have a party-member majority (党建引领); a few do not yet.
        party = r.randint(size // 2 + 1, size) if self.chance(0.85) or i == 0 else r.randint(1, size // 2)
        # 物管会 always seat community staff; some 业委会 a community party member.
        cross = r.randint(1, 2) if kind == "物管会" else (1 if self.chance(0.3) or i == 0 else 0)
        positions = ["主任", "副主任"] + (["副主任"] if size >= 7 else [])
        positions += ["委员"] * (size - len(positions))
        out = []
        for k, pos in enumerate(positions):
            is_cross = k >= size - cross
            name = self.person()
            out.append({"name": name, "position": pos, "is_party_member": k < party,
                        "is_cross_appointed": is_cross, "phone_masked": self.phone()})
            if is_cross:
                self.cross_members.append((i, name, f"{kind}{pos}", since))
        return out

    def party(self):
        r = self.rng
        comm_rows = [{"kind": "社区党委", "name": f"中共{n}委员会", "community_id": cid,
                      "secretary": self.person(), "member_count": r.randint(60, 320)}
                     for n, cid in zip(self.comm_names, self.community_ids)]
        comm_orgs = dict(zip(self.community_ids, self.insert(m.PartyOrg, comm_rows, "party_orgs")))
        share = {"专业物业": 0.7, "自管": 0.55, "无人管理": 0.3, "国资托管": 0.5}
        branch_rows, branch_of = [], []
        for i, s in enumerate(self.specs):
            if i == 0 or self.chance(share[s["mode"]]):
                c = self.compound_rows[i]
                branch_rows.append({"kind": "小区党支部", "name": f"中共{c['name']}支部委员会",
                                    "parent_id": comm_orgs[c["community_id"]],
                                    "community_id": c["community_id"], "compound_id": self.compound_ids[i],
                                    "secretary": self.person(), "member_count": r.randint(5, 45)})
                branch_of.append(i)
        branch_ids = self.insert(m.PartyOrg, branch_rows, "party_orgs")
        names = {cid: c["name"] for cid, c in zip(self.compound_ids, self.compound_rows)}
        group_rows = []
        for pid, row in zip(branch_ids, branch_rows):
            if self.chance(0.35):
                for bid, bname in r.sample(self.buildings_of[row["compound_id"]], r.randint(1, 3)):
                    group_rows.append({"kind": "楼栋党小组", "name": f"{names[row['compound_id']]}{bname}党小组",
                                       "parent_id": pid, "community_id": row["community_id"],
                                       "compound_id": row["compound_id"], "building_id": bid,
                                       "secretary": self.person(), "member_count": r.randint(3, 9)})
        firm_rows = []
        for k, (name, _, status) in enumerate(FIRMS):
            f = self.firm_rows[k]
            if status == "单独建立党组织":
                # Often the legal representative is the branch secretary (seeds/002).
                firm_rows.append({"kind": "企业党支部", "name": f"中共{name}支部委员会", "firm_id": self.firm_ids[k],
                                  "secretary": f["legal_rep"] if self.chance(0.5) else self.person(),
                                  "member_count": f["party_members"]})
        joint = [f for f in self.firm_rows if f["party_status"] == "联合党支部"]
        if joint:
            # One joint branch for the small firms (the model links an org to one firm at most).
            firm_rows.append({"kind": "联合党支部", "name": "中共潞州区物业服务企业联合支部委员会",
                              "secretary": self.person(),
                              "member_count": sum(f["party_members"] for f in joint) + r.randint(3, 6)})
        self.insert(m.PartyOrg, group_rows + firm_rows, "party_orgs")

    def instructors(self):
        rows = []
        for k, (_, _, status) in enumerate(FIRMS):
            if status != "派驻党建指导员":
                continue
            assigned = self.days_ago(60, 900)
            if self.chance(0.3):  # a predecessor whose posting ended
                rows.append({"firm_id": self.firm_ids[k], "name": self.person(),
                             "unit": self.rng.choice(INSTRUCTOR_UNITS), "phone": self.phone(),
                             "assigned_on": assigned - timedelta(days=self.rng.randint(365, 900)),
                             "ended_on": assigned - timedelta(days=1)})
            rows.append({"firm_id": self.firm_ids[k], "name": self.person(),
                         "unit": self.rng.choice(INSTRUCTOR_UNITS), "phone": self.phone(),
                         "assigned_on": assigned, "ended_on": None})
        self.insert(m.Instructor, rows, "instructors")

    def cross_appointments(self):
        """Every cross-appointed committee member has a record; about half of the communities
        also cross-appoint with a firm serving them (合肥: 社区党组织负责人兼任物业质量总监,
        物业负责人兼任社区居委会委员)."""
        r, rows = self.rng, []
        for i, name, role, since in self.cross_members:
            c = self.compound_rows[i]
            rows.append({"person_name": name, "direction": "社区→业委会", "home_role": "社区党委委员",
                         "appointed_role": role, "community_id": c["community_id"],
                         "compound_id": self.compound_ids[i], "start_date": since, "note": ""})
        by_comm: dict[int, list[int]] = {}
        for i, firm in self.active_firm.items():
            by_comm.setdefault(self.compound_rows[i]["community_id"], []).append(i)
        for cid, comps in sorted(by_comm.items()):
            if cid != self.community_ids[0] and not self.chance(0.5):
                continue
            i = min(comps)
            firm_name = FIRMS[self.active_firm[i]][0]
            common = {"community_id": cid, "compound_id": self.compound_ids[i],
                      "firm_id": self.firm_ids[self.active_firm[i]], "start_date": self.days_ago(30, 900)}
            rows.append({"person_name": self.person(), "direction": "社区→物业企业", "home_role": "社区党委书记",
                         "appointed_role": "物业服务质量总监", "note": "", **common})
            rows.append({"person_name": self.person(), "direction": "物业企业→社区",
                         "home_role": f"{firm_name}项目经理", "appointed_role": "社区居委会兼职委员",
                         "note": "参加社区环境和物业管理委员会", **common})
        self.insert(m.CrossAppointment, rows, "cross_appointments")

    def departments(self):
        ids = self.insert(m.Department, [{"name": n, "kind": k, "contact": self.person(), "phone": self.phone(),
                                          "active": True} for n, k in DEPARTMENTS], "departments")
        self.department_ids = dict(zip((n for n, _ in DEPARTMENTS), ids))

    def build(self):
        self.tree()
        self.departments()
        self.firms()
        self.compounds()
        self.contracts()
        self.committees()
        self.party()
        self.instructors()
        self.cross_appointments()
        self.fee_policies()

    # --- fees: 政府投一点、企业让一点、居民交一点 ------------------------------------------------
    def fee_policies(self):
        """Two active policy families, each assigned from the start of last year:
        专业物业 compounds under a government-guided price (actual contract price within the
        base ± float), and the 国资托管 (former 无人管理) compounds under 潞州's "三个一点":
        six months free (先尝后买), then a government part per m² declining by contract year
        (石家庄 0.30 → 0.20 → 0.10 元/㎡), with firm concessions for 低保 and 特困 households."""
        since = date(self.today.year - 1, 1, 1)
        guided = self._policy(
            "专业物业小区物业服务收费（政府指导价）", since, price_regime="政府指导价",
            grades=[("一级", "1.40", "15"), ("二级", "1.00", "20"), ("三级", "0.65", "25")],
            holdback_percent=Decimal("10"))
        shared = self._policy(
            "无物业小区“三个一点”（先尝后买）", since, gov_mode="declining",
            gov_schedule=["0.30", "0.20", "0.10"], gov_trial_months=6,
            grades=[("一级", "1.20", None), ("二级", "0.80", None), ("三级", "0.50", None)])
        rows = [{"compound_id": cid, "family_id": shared if s["mode"] == "国资托管" else guided,
                 "valid_from": since}
                for cid, s in zip(self.compound_ids, self.specs) if s["mode"] in ("专业物业", "国资托管")]
        self.insert(FeeAssignment, rows, "fee_assignments")

    def _policy(self, name: str, since: date, grades, **terms) -> int:
        policy = FeePolicy(tenant_id=self.tid, name=name, status="active", valid_from=since,
                           note="演示数据", **terms)
        policy.grades = [FeePolicyGrade(tenant_id=self.tid, grade=g, rate=Decimal(rate),
                                        float_percent=Decimal(spread) if spread else None)
                         for g, rate, spread in grades]
        policy.concessions = [FeeConcession(tenant_id=self.tid, household_class_id=self.class_id[c],
                                            percent=Decimal(p)) for c, p in (("低保", "50"), ("特困", "100"))]
        db.session.add(policy)
        db.session.flush()
        policy.family_id = policy.id
        self.counts["fee_policies"] = self.counts.get("fee_policies", 0) + 1
        return policy.id


# --- accounts ----------------------------------------------------------------------------

ACCOUNT_SUFFIXES = ("district", "street", "community", "firm", "committee", "assessor", "grid", "department")


def _account_specs(b: _Builder) -> list[dict]:
    """One user per role, all in the demo community's branch of the tree."""
    demo_firm, street, comm = FIRMS[0], STREETS[0][0], b.comm_names[0]
    compound, grid = b.compound_rows[0]["name"], b.compound_rows[0]["grid_id"]
    return [
        {"suffix": "district", "role": "district_admin", "name": "王晓红（区物管中心）", "scope": {}},
        {"suffix": "street", "role": "street_staff", "name": f"赵文斌（{street}）",
         "scope": {"street_id": b.street_ids[0]}},
        {"suffix": "community", "role": "community_staff", "name": f"郭丽萍（{comm}）",
         "scope": {"community_id": b.community_ids[0]}},
        {"suffix": "firm", "role": "firm_manager",
         "name": f"{b.firm_rows[0]['legal_rep']}（{demo_firm[0].removeprefix('长治市').split('物业')[0]}物业）",
         "scope": {"firm_id": b.firm_ids[0]}},
        {"suffix": "committee", "role": "committee_member", "name": f"{b.chair_of_demo}（{compound}业委会）",
         "scope": {"compound_id": b.compound_ids[0], "is_chair": True}},
        {"suffix": "assessor", "role": "assessor", "name": "陈静（第三方测评机构）", "scope": {}},
        {"suffix": "grid", "role": "grid_worker", "name": f"{b.grid_keepers[grid]}（{comm}网格员）",
         "scope": {"grid_id": grid}},
        {"suffix": "department", "role": "department_staff", "name": f"周建军（{DEMO_DEPARTMENT}）",
         "scope": {"department_id": b.department_ids[DEMO_DEPARTMENT]}},
    ]


def _check_new_user(username: str) -> None:
    problem = username_problem(username)  # the same rule as accounts made in the web UI
    if problem:
        raise SetupProblem(f"用户名“{username}”：{problem}")


def create_platform_admin(username: str, password: str, display_name: str = "平台管理员") -> User:
    """A platform operator (no district membership). Flushes; the caller commits."""
    username = (username or "").strip()
    _check_new_user(username)
    problem = password_problem(password or "")
    if problem:
        raise SetupProblem(problem)
    user = User(username=username, display_name=display_name, is_platform_admin=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def seed_demo(slug: str = "demo", name: str = DEFAULT_NAME, password: str = "demo1234",
              compounds: int = 180, households: int = 36000) -> SeedResult:
    """Create the demo district. Raises DemoExists (nothing written) when the slug is taken and
    SetupProblem for bad input. Flushes only; the caller commits once."""
    slug = normalise_slug(slug)
    if tenant_by_slug(slug) is not None:
        raise DemoExists(slug)
    problem = slug_problem(slug)  # the platform admin's rule for district slugs
    if problem:
        raise SetupProblem(f"区县标识“{slug}”：{problem}")
    problem = password_problem(password or "")
    if problem:
        raise SetupProblem(problem)
    if compounds < 10:
        raise SetupProblem("演示小区数至少为 10。")
    for suffix in ACCOUNT_SUFFIXES:
        _check_new_user(f"{slug}-{suffix}")

    with audit.acting_as(None, "演示数据初始化"):
        tenant = Tenant(slug=slug, name=name, region=REGION)
        db.session.add(tenant)
        db.session.flush()
        result = SeedResult(tenant_id=tenant.id, counts={})
        with tenant_scope(tenant.id):
            b = _Builder(tenant.id, compounds, households)
            b.build()
            # The credit kinds and rule a new district starts with, before evaluations publish lists.
            from ..credit.defaults import seed_defaults
            b.counts["credit_kinds"] = seed_defaults()
                        # Same password for every account: hash it once (the KDF is the slow part).
            pw_hash = hash_password(password)
            for spec in _account_specs(b):
                user = User(username=f"{slug}-{spec['suffix']}", display_name=spec["name"],
                            password_hash=pw_hash)
                db.session.add(user)
                db.session.flush()
                mem = Membership(user_id=user.id, role=spec["role"], **spec["scope"])
                db.session.add(mem)
                db.session.flush()
                result.accounts.append((user.username, ROLE_LABELS[spec["role"]] + (
                    "（主任）" if spec["scope"].get("is_chair") else ""), mem.scope_label))
            b.counts["users"] = len(result.accounts)
            result.demo_compound_id, result.demo_firm_id = b.compound_ids[0], b.firm_ids[0]
            audit.record_event("create", "seed", f"初始化演示数据：{name}", changes=b.counts,
                               entity_id=tenant.id)
        # Platform level (no district): created once, never overwritten.
        if find_user(PLATFORM_ADMIN) is None:
            create_platform_admin(PLATFORM_ADMIN, password)
            result.accounts.append((PLATFORM_ADMIN, "平台管理员", "全平台"))
    result.counts = b.counts
    return result


def summary(result: SeedResult, name: str, password: str) -> list[str]:
    """The lines the CLI prints."""
    c = result.counts
    lines = [f"已创建演示区县“{name}”，用时 {result.seconds:.1f} 秒。",
             "　" + "，".join(f"{label} {c[key]:,}" for key, label in COUNT_LABELS if key in c)]
    lines.append(f"演示账号（密码 {password}）：")
    lines += [f"　{u:<18} {role} · {scope}" for u, role, scope in result.accounts]
    return lines
