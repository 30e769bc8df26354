"""Import of the organisation register from .xlsx / .csv (/d/<slug>/import/)."""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.jobs import JobRun, execute
from wuye_saas.org import models as m
from wuye_saas.org.validators import credit_code_check_char
from wuye_saas.tenancy import system_scope, tenant_scope

from .helpers import login, post, wait_for_job

ADMIN = "alpha-district"


def xlsx_bytes(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def encode(fmt: str, rows: list[list]) -> bytes:
    return xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows)


def upload(client, kind: str, filename: str, data: bytes, slug: str = "alpha"):
    return post(client, f"/d/{slug}/import/?kind={kind}",
                {"kind": kind, "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def run_import(app, client, kind: str, filename: str, data: bytes) -> tuple[int, dict]:
    """Upload, follow the redirect's run id, wait for the job; (run id, JobRun fields)."""
    resp = upload(client, kind, filename, data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    match = re.search(r"/d/alpha/import/(\d+)$", resp.headers["Location"])
    assert match, resp.headers["Location"]
    run_id = int(match.group(1))
    return run_id, wait_for_job(app, run_id)


def count(app, tenant_id: int, model) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(select(func.count()).select_from(model))


def credit(n: int) -> str:
    body = f"91140400{n:09d}"
    return body + credit_code_check_char(body)


# --- every kind, from CSV and from XLSX ---------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_kind_imports_exact_rows(app, client, world, fmt):
    a = world["alpha"]
    login(client, ADMIN)
    steps = [
        ("streets", [["街道名称*", "街道编码"], ["新华街道", "S9"], ["太行街道", ""]]),
        ("communities", [["街道名称*", "社区名称*", "社区编码"],
                         ["新华街道", "英雄南路社区", "C1"], ["太行街道", "东街社区", ""]]),
        ("compounds", [["街道名称", "社区名称", "小区名称", "小区类型", "管理模式", "“五管”模式", "建成年份",
                        "建筑面积（㎡）", "地址"],
                       ["新华街道", "英雄南路社区", "英雄南路3号院", "老旧小区", "自管", "统管", 1998, 35600.5, "英雄南路3号"],
                       ["太行街道", "东街社区", "东街花园", "商品房", "专业物业", "", "", "", ""]]),
        ("buildings", [["街道名称", "社区名称", "小区名称", "楼栋号", "层数", "单元数", "有电梯"],
                       ["新华街道", "英雄南路社区", "英雄南路3号院", "1号楼", 6, 2, "否"],
                       ["新华街道", "英雄南路社区", "英雄南路3号院", "2号楼", "", "", "是"]]),
        ("households", [["街道名称", "社区名称", "小区名称", "楼栋号", "房号", "所在楼层", "产权面积（㎡）", "业主姓名",
                         "联系电话", "户码", "困难类别"],
                        ["新华街道", "英雄南路社区", "英雄南路3号院", "1号楼", "101", 1, "89.56", "王建国",
                         "13812345678", "hh000001", "低保"],
                        ["新华街道", "英雄南路社区", "英雄南路3号院", "1号楼", "102", "", 120, "李芳", "", "", ""]]),
        ("firms", [["企业名称", "统一社会信用代码", "党组织状况", "资质等级", "党员人数", "从业人员数", "法定代表人",
                    "联系电话", "地址"],
                   ["宏远物业服务有限公司", credit(900001), "联合党支部", "二级", 3, 40, "李明", "0355-2021234", "英雄中路88号"],
                   ["安居物业有限公司", credit(900002).lower(), "无", "", "", "", "", "", ""]]),
    ]
    for kind, rows in steps:
        _, run = run_import(app, client, kind, f"{kind}.{fmt}", encode(fmt, rows))
        assert run["status"] == "done", run
        assert run["result"]["ok"] is True, run["result"]
        assert run["result"]["imported"] == 2
        assert run["result"]["summary"].startswith("已导入 2 条")

    with app.app_context(), tenant_scope(a.tenant_id):
        s = {x.name: x for x in db.session.scalars(select(m.Street).where(m.Street.name.in_(["新华街道", "太行街道"])))}
        assert s["新华街道"].code == "S9" and s["太行街道"].code == ""
        c = {x.name: x for x in db.session.scalars(select(m.Community).where(m.Community.name.in_(["英雄南路社区", "东街社区"])))}
        assert c["英雄南路社区"].street_id == s["新华街道"].id and c["东街社区"].street_id == s["太行街道"].id
        p = {x.name: x for x in db.session.scalars(select(m.Compound).where(m.Compound.name.in_(["英雄南路3号院", "东街花园"])))}
        old = p["英雄南路3号院"]
        assert (old.community_id, old.compound_type, old.management_mode, old.wuguan_mode, old.build_year,
                old.area_m2, old.address) == (c["英雄南路社区"].id, "老旧小区", "自管", "统管", 1998,
                                              Decimal("35600.50"), "英雄南路3号")
        new = p["东街花园"]
        assert (new.community_id, new.wuguan_mode, new.build_year, new.area_m2) == (c["东街社区"].id, None, None, None)
        b = {x.name: x for x in db.session.scalars(select(m.Building).where(m.Building.compound_id == old.id))}
        assert (b["1号楼"].floors, b["1号楼"].units, b["1号楼"].has_lift) == (6, 2, False)
        assert (b["2号楼"].floors, b["2号楼"].has_lift) == (None, True)
        h = {x.room: x for x in db.session.scalars(select(m.Household).where(m.Household.building_id == b["1号楼"].id))}
        assert h["101"].floor_area == Decimal("89.56") and h["102"].floor_area == Decimal("120.00")
        assert (h["101"].compound_id, h["101"].floor, h["101"].owner_name) == (old.id, 1, "王建国")
        assert h["101"].phone_masked == "138****5678"
        assert h["101"].household_code == "HH000001"
        assert re.fullmatch(r"[A-Z2-9]{8}", h["102"].household_code)
        assert [link.household_class_id for link in h["101"].class_links] == [a.household_class]
        assert h["102"].class_links == []
        f = {x.name: x for x in db.session.scalars(select(m.Firm).where(m.Firm.name.in_(["宏远物业服务有限公司", "安居物业有限公司"])))}
        assert (f["宏远物业服务有限公司"].credit_code, f["宏远物业服务有限公司"].qualification,
                f["宏远物业服务有限公司"].party_status, f["宏远物业服务有限公司"].party_members,
                f["宏远物业服务有限公司"].staff_count) == (credit(900001), "二级", "联合党支部", 3, 40)
        assert (f["安居物业有限公司"].credit_code, f["安居物业有限公司"].qualification,
                f["安居物业有限公司"].party_members) == (credit(900002), "无资质等级", 0)
        every = [x for group in (s, c, p, b, h, f) for x in group.values()]
        assert {x.tenant_id for x in every} == {a.tenant_id}
    # Nothing landed in the other district.
    with app.app_context(), tenant_scope(world["beta"].tenant_id):
        assert db.session.scalar(select(func.count()).select_from(m.Street).where(m.Street.name == "新华街道")) == 0


# --- all or nothing ---------------------------------------------------------------------------

HH_HEADER = ["街道名称", "社区名称", "小区名称", "楼栋号", "房号", "产权面积（㎡）", "业主姓名", "联系电话", "户码", "困难类别"]
HH_PARENT = ["甲区第1街道", "甲区第1社区", "甲区1号小区", "1号楼"]


def test_one_bad_row_writes_nothing_and_names_line_and_reasons(app, client, world):
    a = world["alpha"]
    login(client, ADMIN)
    before = count(app, a.tenant_id, m.Household), count(app, a.tenant_id, m.HouseholdClassLink)
    rows = [HH_HEADER,
            HH_PARENT + ["201", "88.00", "甲", "", "", ""],
            HH_PARENT + ["202", "-5", "乙", "12a", "", "特困"],
            HH_PARENT + ["203", "90.5", "丙", "", "", "低保"]]
    run_id, run = run_import(app, client, "households", "bad.xlsx", xlsx_bytes(rows))
    res = run["result"]
    assert run["status"] == "done" and res["ok"] is False
    assert (res["rows"], res["imported"], res["error_total"]) == (3, 0, 1)
    assert res["errors"] == [{"line": 3, "reasons": [
        "【产权面积（㎡）】面积必须大于 0",
        "【联系电话】只能包含数字、*、-、+",
        "【困难类别】本区没有“特困”，可选：低保",
    ]}]
    assert (count(app, a.tenant_id, m.Household), count(app, a.tenant_id, m.HouseholdClassLink)) == before
    html = client.get(f"/d/alpha/import/{run_id}").get_data(as_text=True)
    assert "第 3 行" in html and "【产权面积（㎡）】面积必须大于 0" in html
    assert "未导入任何数据" in html
    # No audit summary for an import that wrote nothing.
    with app.app_context(), system_scope():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.entity == "import")) == 0


def test_reference_to_another_districts_parents_fails(app, client, world):
    a = world["alpha"]
    login(client, ADMIN)
    before = count(app, a.tenant_id, m.Compound)
    rows = [["街道名称", "社区名称", "小区名称", "小区类型", "管理模式"],
            ["甲区第1街道", "甲区第1社区", "新小区", "商品房", "专业物业"],
            ["乙区第1街道", "乙区第1社区", "越界小区", "商品房", "自管"],
            ["甲区第1街道", "乙区第1社区", "错配小区", "商品房", "自管"]]
    _, run = run_import(app, client, "compounds", "c.csv", csv_bytes(rows))
    assert run["result"]["errors"] == [
        {"line": 3, "reasons": ["【街道名称】本区没有街道“乙区第1街道”"]},
        {"line": 4, "reasons": ["【社区名称】街道“甲区第1街道”下没有社区“乙区第1社区”"]},
    ]
    assert count(app, a.tenant_id, m.Compound) == before


def test_duplicates_in_file_and_against_district_fail(app, client, world):
    a = world["alpha"]
    login(client, ADMIN)
    before = count(app, a.tenant_id, m.Building)
    parent = ["甲区第1街道", "甲区第1社区", "甲区1号小区"]
    rows = [["街道名称", "社区名称", "小区名称", "楼栋号"],
            parent + ["5号楼"], parent + ["6号楼"], parent + ["5号楼"], parent + ["1号楼"]]
    _, run = run_import(app, client, "buildings", "b.xlsx", xlsx_bytes(rows))
    assert run["result"]["errors"] == [
        {"line": 4, "reasons": ["【小区名称、楼栋号】与第 2 行重复"]},
        {"line": 5, "reasons": ["【小区名称、楼栋号】本区已有相同小区名称、楼栋号的楼栋"]},
    ]
    assert count(app, a.tenant_id, m.Building) == before

    # Household codes: unique in the file and in the district (a world household has AL1CODE1).
    rows = [HH_HEADER, HH_PARENT + ["301", "80", "", "", "AL1CODE1", ""],
            HH_PARENT + ["302", "80", "", "", "NEWCODE9", ""], HH_PARENT + ["303", "80", "", "", "newcode9", ""]]
    _, run = run_import(app, client, "households", "h.csv", csv_bytes(rows))
    assert run["result"]["errors"] == [
        {"line": 2, "reasons": ["【户码】本区已有相同户码的住户"]},
        {"line": 4, "reasons": ["【户码】与第 3 行重复"]},
    ]


def test_bad_values_are_reported_per_column(app, client, world):
    login(client, ADMIN)
    rows = [["企业名称", "统一社会信用代码", "党组织状况", "党员人数"],
            ["", "911404000000000000", "有党组织", "3.5"],
            ["甲物业", credit(900010), "无", "-1"]]
    _, run = run_import(app, client, "firms", "f.csv", csv_bytes(rows))
    assert run["result"]["errors"] == [
        {"line": 2, "reasons": ["【企业名称】不能为空", "【统一社会信用代码】统一社会信用代码校验位不正确",
                                "【党组织状况】应为以下之一：单独建立党组织、联合党支部、派驻党建指导员、无（填写的是“有党组织”）",
                                "【党员人数】应为整数"]},
        {"line": 3, "reasons": ["【党员人数】应在 0–100000 之间"]},
    ]


def test_missing_required_column_is_a_file_problem(app, client, world):
    login(client, ADMIN)
    _, run = run_import(app, client, "communities", "wrong.csv", csv_bytes([["街道名称", "编码"], ["甲区第1街道", "x"]]))
    res = run["result"]
    assert res["ok"] is False and res["error_total"] == 1
    assert res["errors"][0]["line"] is None
    assert res["errors"][0]["reasons"][0].startswith("缺少必填列：社区名称")


def test_gbk_csv_imports(app, client, world):
    a = world["alpha"]
    login(client, ADMIN)
    data = csv_bytes([["街道名称", "街道编码"], ["紫金街道", "Z1"], ["延安南路街道", ""]], encoding="gbk")
    data.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the file really is GBK
    _, run = run_import(app, client, "streets", "gbk.csv", data)
    assert run["result"]["ok"] is True
    with app.app_context(), tenant_scope(a.tenant_id):
        names = set(db.session.scalars(select(m.Street.name)))
    assert {"紫金街道", "延安南路街道"} <= names


# --- the upload form --------------------------------------------------------------------------

def test_wrong_extension_and_fake_xlsx_refused(app, client, world):
    login(client, ADMIN)
    for name, data, message in [
        ("streets.xls", b"\xd0\xcf\x11\xe0", "只能上传 .xlsx 或 .csv 文件"),
        ("streets.txt", "街道名称\n新街道\n".encode(), "只能上传 .xlsx 或 .csv 文件"),
        ("streets.xlsx", "街道名称\n新街道\n".encode(), "文件不是有效的 .xlsx 格式"),
        ("empty.csv", b"", "文件是空的"),
    ]:
        resp = upload(client, "streets", name, data)
        assert resp.status_code == 422
        assert message in resp.get_data(as_text=True)
    resp = post(client, "/d/alpha/import/?kind=streets", {"kind": "streets"}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "请选择要上传的文件" in resp.get_data(as_text=True)
    resp = upload(client, "nothing", "s.csv", csv_bytes([["街道名称"], ["新街道"]]))
    assert resp.status_code == 422 and "请选择要导入的数据类型" in resp.get_data(as_text=True)
    with app.app_context(), system_scope():
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 0
    imports = Path(app.config["UPLOAD_FOLDER"]) / "imports"
    assert not imports.exists() or list(imports.iterdir()) == []


def test_oversized_file_refused(app, client, world):
    login(client, ADMIN)
    data = b"\xe8\xa1\x97\xe9\x81\x93\xe5\x90\x8d\xe7\xa7\xb0\n" + b"x" * (10 * 1024 * 1024)
    resp = upload(client, "streets", "big.csv", data)
    assert resp.status_code == 422 and "文件超过 10 MB" in resp.get_data(as_text=True)


def test_non_admin_gets_403(app, client, world):
    for username in ("alpha-street", "alpha-community", "alpha-firm", "alpha-committee", "alpha-assessor"):
        login(client, username)
        assert client.get("/d/alpha/import/").status_code == 403
        assert client.get("/d/alpha/import/template/streets.xlsx").status_code == 403
        resp = upload(client, "streets", "s.csv", csv_bytes([["街道名称"], ["越权街道"]]))
        assert resp.status_code == 403
        post(client, "/logout")
    assert count(app, world["alpha"].tenant_id, m.Street) == 2


def test_result_of_another_district_is_404(app, client, world):
    login(client, "beta-district")
    run_id, _ = run_import_for(app, client, "beta")
    post(client, "/logout")
    login(client, ADMIN)
    assert client.get(f"/d/alpha/import/{run_id}").status_code == 404
    assert client.get(f"/d/beta/import/{run_id}").status_code == 404


def run_import_for(app, client, slug):
    resp = upload(client, "streets", "s.csv", csv_bytes([["街道名称"], ["北街街道"]]), slug=slug)
    assert resp.status_code == 302
    run_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    return run_id, wait_for_job(app, run_id)


# --- large files, progress, audit, history, templates ---------------------------------------

def test_large_households_file(app, client, world):
    a = world["alpha"]
    login(client, ADMIN)
    before = count(app, a.tenant_id, m.Household)
    with app.app_context(), tenant_scope(a.tenant_id):
        audited_before = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                           .where(AuditEvent.entity == "household"))
    rows = [HH_HEADER] + [["甲区第2街道", "甲区第2社区", "甲区2号小区", "2号楼", f"{i // 100 + 1}-{i % 100 + 1:03d}",
                           f"{60 + i % 90}.{i % 100:02d}", f"业主{i}", "", "", "低保" if i % 10 == 0 else ""]
                          for i in range(3000)]
    run_id, run = run_import(app, client, "households", "big.xlsx", xlsx_bytes(rows))
    assert (run["status"], run["progress"]) == ("done", 100)
    assert run["result"]["imported"] == 3000 and run["result"]["ok"] is True
    assert count(app, a.tenant_id, m.Household) == before + 3000
    with app.app_context(), tenant_scope(a.tenant_id):
        codes = db.session.scalars(select(m.Household.household_code)
                                   .where(m.Household.building_id == a.building2)).all()
        assert len(codes) == 3001 and len(set(codes)) == 3001
        links = db.session.scalar(select(func.count()).select_from(m.HouseholdClassLink))
        assert links == 300
        h = db.session.scalars(select(m.Household).where(m.Household.room == "30-100")).one()
        assert (h.floor_area, h.owner_name, h.compound_id) == (Decimal("89.99"), "业主2999", a.compound2)
        ev = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "import")).one()
        assert ev.label == "导入住户 3000 条（big.xlsx）"
        assert (ev.tenant_id, ev.action, ev.actor) == (a.tenant_id, "create", "甲区district")
        assert ev.changes == {"kind": "households", "table": "household", "file": "big.xlsx", "rows": 3000,
                              "class_links": 300, "ownerships": 3000, "persons": 3000}
        # Bulk path: one summary event, not one per household.
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.entity == "household")) == audited_before
    # The upload is gone once the job has ended.
    assert list((Path(app.config["UPLOAD_FOLDER"]) / "imports").glob("*")) == []
    # Running the same run again writes nothing twice.
    with app.app_context():
        execute(run_id, a.tenant_id)
    assert count(app, a.tenant_id, m.Household) == before + 3000
    html = client.get(f"/d/alpha/import/{run_id}").get_data(as_text=True)
    assert "已导入 3000 条住户" in html and 'data-status="done"' in html


def test_history_lists_past_imports_newest_first(app, client, world):
    login(client, ADMIN)
    run_import(app, client, "streets", "first.csv", csv_bytes([["街道名称"], ["一街道"]]))
    run_import(app, client, "streets", "second.csv", csv_bytes([["街道名称"], ["二街道"], ["二街道"]]))
    html = client.get("/d/alpha/import/").get_data(as_text=True)
    assert html.index("second.csv") < html.index("first.csv")
    assert "已导入 1 条" in html and "1 行有错误，未导入" in html
    post(client, "/logout")
    login(client, "beta-district")
    html = client.get("/d/beta/import/").get_data(as_text=True)
    assert "first.csv" not in html and "还没有导入记录" in html


def test_templates_download(app, client, world):
    login(client, ADMIN)
    resp = client.get("/d/alpha/import/template/households.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["住户", "填写说明"]
    rows = list(wb["住户"].iter_rows(values_only=True))
    assert rows[0][:5] == ("街道名称*", "社区名称*", "小区名称*", "楼栋号*", "房号*")
    assert rows[1][:5] == ("太行街道", "英雄南路社区", "英雄南路3号院", "1号楼", "1单元101")
    info = [r for r in wb["填写说明"].iter_rows(values_only=True)]
    assert ("困难类别", "选填", "可选，须为本区已设置的困难类别，多个用“、”分隔", "低保") in info
    assert ("产权面积（㎡）", "必填", "不动产登记的专有部分面积，最多两位小数", "") in [
        tuple(v or "" for v in r) for r in info]

    resp = client.get("/d/alpha/import/template/firms.csv")
    assert resp.status_code == 200 and resp.data.startswith(b"\xef\xbb\xbf")
    header, example = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert header[:3] == ["企业名称*", "统一社会信用代码*", "党组织状况*"]
    assert client.get("/d/alpha/import/template/nothing.csv").status_code == 404

    # The example firm row of the template imports as it is.
    _, run = run_import(app, client, "firms", "firms.csv", resp.data)
    assert run["result"]["ok"] is True and run["result"]["imported"] == 1


def test_index_shows_columns_of_the_chosen_kind(app, client, world):
    login(client, ADMIN)
    html = client.get("/d/alpha/import/?kind=compounds").get_data(as_text=True)
    assert "小区导入：列说明" in html and "商品房、老旧小区、安置房、保障房、单位房改房" in html
    assert 'name="kind" type="hidden" value="compounds"' in html
    assert 'name="csrf_token"' in html
