"""The job facade: the same job runs inline (SQLite) or through Redis to an RQ worker."""
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.jobs import JobRun, create_run, execute, start
from wuye_saas.org.models import Street
from wuye_saas.tenancy import tenant_scope

from .helpers import login, wait_for_job
from .jobfuncs import add_streets, add_then_fail


def _streets(app, tid):
    with app.app_context(), tenant_scope(tid):
        return sorted(db.session.execute(select(Street.name)).scalars())


def _start(app, tid, fn, *args):
    with app.test_request_context(), tenant_scope(tid):
        run = create_run(fn, "测试任务", *args)
        start(run)
        return run.id


def test_job_writes_and_reports_done(app, client, world):
    tid = world["alpha"].tenant_id
    before = _streets(app, tid)
    run_id = _start(app, tid, add_streets, ["新建甲街道", "新建乙街道"])
    outcome = wait_for_job(app, run_id)
    assert outcome["status"] == "done"
    assert outcome["progress"] == 100
    assert outcome["result"] == {"summary": "新增街道 2 个"}
    assert _streets(app, tid) == sorted(before + ["新建甲街道", "新建乙街道"])
    # The job's writes are audited in the job's tenant.
    with app.app_context():
        n = db.session.execute(select(func.count(AuditEvent.id)).where(
            AuditEvent.entity == "street", AuditEvent.action == "create",
            AuditEvent.label == "新建甲街道", AuditEvent.tenant_id == tid)).scalar_one()
    assert n == 1


def test_failed_job_writes_nothing_and_keeps_the_reason(app, client, world):
    tid = world["alpha"].tenant_id
    before = _streets(app, tid)
    run_id = _start(app, tid, add_then_fail, "不应写入的街道")
    outcome = wait_for_job(app, run_id)
    assert outcome["status"] == "failed"
    assert "第 3 行数据有误" in outcome["message"]
    assert _streets(app, tid) == before


def test_a_finished_run_is_not_run_again(app, rq_worker, world):
    tid = world["alpha"].tenant_id
    run_id = _start(app, tid, add_streets, ["只写一次街道"])
    wait_for_job(app, run_id)
    with app.app_context():
        execute(run_id, tid)  # a redelivered job
    assert _streets(app, tid).count("只写一次街道") == 1


def test_progress_page_polls_until_done(app, client, world):
    tid = world["alpha"].tenant_id
    run_id = _start(app, tid, add_streets, ["进度街道"])
    wait_for_job(app, run_id)
    login(client, "alpha-district")
    html = client.get(f"/d/alpha/jobs/{run_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in html and 'data-status="done"' in html and "100%" in html
    assert "hx-trigger" not in html  # a finished job stops polling
    with app.app_context(), tenant_scope(tid):
        run = db.session.get(JobRun, run_id)
        run.status, run.progress = "running", 40
        db.session.commit()
    html = client.get(f"/d/alpha/jobs/{run_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in html and "40%" in html
    # Another district's job is not there.
    login(client, "beta-district")
    assert client.get(f"/d/beta/jobs/{run_id}").status_code == 404
