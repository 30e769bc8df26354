"""The job facade: the same job runs inline (SQLite) or through Redis to an RQ worker."""
from sqlalchemy import func, select

from wuye_saas.audit import AuditEvent
from wuye_saas.extensions import db
from wuye_saas.jobs import JobRun, create_run, execute, start
from wuye_saas.org.models import Street
from wuye_saas.tenancy import system_scope, tenant_scope

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
    with app.app_context(), system_scope():
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


def _running_row(app, tid, *, age: int, status: str = "running") -> int:
    """A job row as a worker left it `age` seconds ago (no outcome written)."""
    from datetime import timedelta

    from wuye_saas.timeutil import now
    with app.app_context(), tenant_scope(tid):
        run = create_run(add_streets, "测试任务", ["不会写入"])
        run.status, run.progress = status, 30
        run.created_at = run.heartbeat_at = now() - timedelta(seconds=age)
        db.session.commit()
        run_id = run.id
    if app.config.get("REDIS_URL"):  # ids restart in every test: an earlier test's RQ job may be kept
        from redis import Redis
        Redis.from_url(app.config["REDIS_URL"]).delete(f"rq:job:jobrun-{run_id}")
    return run_id


def test_a_job_whose_heartbeat_stopped_is_shown_failed(app, client, world):
    from wuye_saas import jobs
    tid = world["alpha"].tenant_id
    dead = _running_row(app, tid, age=jobs.STALE_AFTER + 60)
    live = _running_row(app, tid, age=5)
    login(client, "alpha-district")
    html = client.get(f"/d/alpha/jobs/{dead}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="failed"' in html and "失败" in html and jobs.DEAD_WORKER in html
    assert "hx-trigger" not in html  # the page stops polling
    html = client.get(f"/d/alpha/jobs/{live}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="running"' in html and 'hx-trigger="every 1s"' in html
    with app.app_context(), tenant_scope(tid):
        row = db.session.get(JobRun, dead)
        assert (row.status, row.message, row.finished_at is not None) == ("failed", jobs.DEAD_WORKER, True)
    if not app.config.get("REDIS_URL"):
        # Inline, a run starts right after its commit: one still queued a while later never will.
        stuck = _running_row(app, tid, age=jobs.ENQUEUE_GRACE + 60, status="queued")
        html = client.get(f"/d/alpha/jobs/{stuck}").get_data(as_text=True)
        assert 'data-status="failed"' in html and jobs.NEVER_STARTED in html


def test_rq_s_own_word_on_a_lost_or_failed_job(app, client, world):
    """With Redis: a queued row whose RQ job is gone, and a running one (fresh heartbeat)
    whose RQ job RQ marked failed (its work horse was killed), both fail with their reason."""
    import pytest
    from redis import Redis
    from rq.job import Job, JobStatus

    from wuye_saas import jobs
    if not app.config.get("REDIS_URL"):
        pytest.skip("RQ's registries: run with REDIS_URL")
    tid = world["alpha"].tenant_id
    lost = _running_row(app, tid, age=jobs.ENQUEUE_GRACE + 60, status="queued")
    killed = _running_row(app, tid, age=5)
    conn = Redis.from_url(app.config["REDIS_URL"])
    job = Job.create(jobs.execute, args=(killed, tid), id=f"jobrun-{killed}", connection=conn)
    job.save()
    job.set_status(JobStatus.FAILED)
    try:
        login(client, "alpha-district")
        html = client.get(f"/d/alpha/jobs/{lost}").get_data(as_text=True)
        assert 'data-status="failed"' in html and jobs.LOST_IN_QUEUE in html
        html = client.get(f"/d/alpha/jobs/{killed}").get_data(as_text=True)
        assert 'data-status="failed"' in html and jobs.DEAD_WORKER in html
    finally:
        job.delete()
