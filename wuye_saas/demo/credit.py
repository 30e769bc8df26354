"""The demo district's credit file: a year of records by district and street staff (honours,
通报批评, missed publications, a court judgment, a firm that refused to leave), next to the records
the published 季测评 wrote and those the publicity schedule and demands wrote; the demo firm's objection to a 通报批评, upheld by the district; and
the grades kept at the last four quarter ends. Firms land in every grade, one on the 黑名单 and
more on the 警示名单."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from .. import audit
from ..auth.models import Membership
from ..credit import grading, records, sources
from ..credit.models import CreditRecord, CreditRecordKind
from ..extensions import db
from ..org.models import Firm
from ..tenancy import tenant_scope
from ..timeutil import today

# Profiles of the first firms after the demo firm (the district's base 80): each lands in a grade.
PROFILES = [
    [("honour_province", 200, "获评山西省物业管理示范项目"), ("party_org", 150, "成立中共企业党支部")],     # 86 AAA
    [("fee_publicity", 120, "小区收费标准未在显著位置公示，社区检查发现")],                                 # 75 A
    [("criticised", 300, "区住建局通报：消防通道长期堵塞未整改"),
     ("court_judgment", 200, "区法院判决：电梯维保不到位致业主受伤，承担赔偿责任"),
     ("revenue_publicity", 60, "第二季度公共收益未按期公示")],                                               # 67 B, 警示
    [("criticised", 330, "区住建局通报：二次供水水箱未按期清洗"), ("criticised", 90, "区住建局通报：垃圾清运不及时"),
     ("fee_publicity", 250, "擅自提高停车费标准且未公示"), ("revenue_publicity", 150, "广告收益未公示"),
     ("court_judgment", 40, "区法院判决：挪用业主共有部分收益，返还并赔偿")],                              # 57 C, 警示
    [("exit_refusal", 75, "合同期满、业主大会已另聘企业，拒不撤出并拒绝移交资料"),],                          # 60 黑名单
]
LIGHT = [("honour_street", "获街道表彰：疫情防控先进集体"), ("honour_district", "获区级“红色物业”示范企业称号"),
         ("criticised", "街道通报：小区绿化养护不到位"), ("fee_publicity", "物业服务事项未按期公示")]
OBJECTION = "该通报所指楼道堆物系业主装修临时堆放，我司当日已清理完毕，街道已于次日撤回通报，附撤回通知。"
DECISION = "经核实，街道已撤回该通报，异议成立，撤销该记录。"
# A second one, filed two days ago and not yet decided: it waits in the district admin's inbox.
PENDING_RECORD = "街道检查通报：5号楼北侧绿化带苗木枯死，未及时补植。"
PENDING_OBJECTION = "所涉绿化带属市政道路绿化，在小区红线之外，不在我司服务范围内，附小区规划红线图。"


def seed_credit(tenant_id: int, demo_firm_id: int | None, seed: int = 365) -> dict:
    rng, day = random.Random(seed), today()
    counts = {"credit_records": 0, "credit_source_records": 0, "credit_objections": 0, "credit_grades": 0}
    with tenant_scope(tenant_id), audit.acting_as(None, "演示数据初始化"):
        district = db.session.execute(select(Membership).where(Membership.role == "district_admin")
                                      .order_by(Membership.id).limit(1)).scalar_one_or_none()
        manager = db.session.execute(select(Membership).where(Membership.role == "firm_manager",
                                                              Membership.firm_id == demo_firm_id)
                                     .order_by(Membership.id).limit(1)).scalar_one_or_none()
        kinds = {k.code: k for k in db.session.execute(select(CreditRecordKind)).scalars()}
        firms = db.session.execute(select(Firm.id).order_by(Firm.id)).scalars().all()
        if district is None or not kinds or not firms:
            return counts
        user = district.user_id
        # The automatic sources first, as the daily job writes them: missed publications of the
        # demo's publicity schedule and firms whose escalated demands reached the threshold.
        auto = sources.sync_all(day)
        counts["credit_source_records"] = auto["publicity"] + auto["demands"]

        def record(firm_id, code, days_ago, text):
            k = kinds[code]
            records._new_record(firm_id, k, day - timedelta(days=days_ago), k.name, "staff", text, user)
            counts["credit_records"] += 1

        # The graded profiles go to firms the automatic records left alone, so each lands in its grade.
        listed = set(db.session.execute(select(CreditRecord.firm_id).where(
            CreditRecord.source != "staff")).scalars())
        others = sorted((f for f in firms if f != demo_firm_id), key=lambda f: (f in listed, f))
        for firm_id, profile in zip(others, PROFILES):
            for code, days_ago, text in profile:
                record(firm_id, code, days_ago, text)
        for firm_id in others[len(PROFILES):]:
            if rng.random() < 0.6:
                code, text = rng.choice(LIGHT)
                record(firm_id, code, rng.randint(20, 340), text)
        if demo_firm_id is not None:
            record(demo_firm_id, "honour_district", 160, "获区级“红色物业”示范企业称号")
            k = kinds["criticised"]
            contested = records._new_record(demo_firm_id, k, day - timedelta(days=6), k.name, "staff",
                                            "街道检查通报：3号楼楼道堆放杂物，存在消防隐患。", user)
            counts["credit_records"] += 1
            db.session.flush()
            if manager is not None:
                obj = records.file_objection(manager, contested, OBJECTION)
                records.decide_objection(district, obj, True, DECISION)
                pending = records._new_record(demo_firm_id, k, day - timedelta(days=2), k.name, "staff",
                                              PENDING_RECORD, user)
                counts["credit_records"] += 1
                records.file_objection(manager, pending, PENDING_OBJECTION)
                counts["credit_objections"] = 2
        db.session.flush()
        # The grades kept at the last four quarter ends, as the daily job would have kept them.
        qe = grading.last_finished_quarter_end(day)
        for _ in range(4):
            counts["credit_grades"] += grading.take_snapshot(qe)
            qe = grading.last_finished_quarter_end(qe)
        db.session.commit()
    return counts
