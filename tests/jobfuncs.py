"""Job functions for tests/test_jobs.py, importable by an RQ worker process."""
from wuye_saas.extensions import db
from wuye_saas.jobs import job
from wuye_saas.org.models import Street


@job(queue="default", timeout=60)
def add_streets(run, names):
    for i, name in enumerate(names, start=1):
        db.session.add(Street(name=name))
        run.report(i, len(names), f"已处理 {i} 条")
    run.result = {"summary": f"新增街道 {len(names)} 个"}


@job(queue="default", timeout=60)
def add_then_fail(run, name):
    db.session.add(Street(name=name))
    db.session.flush()
    raise ValueError("第 3 行数据有误")


@job(queue="default", timeout=60)
def raw_reach(run, other_tenant_id):
    """Raw SQL from inside a job: what the job's district wall lets it see and change."""
    from sqlalchemy import text

    own = db.session.execute(text("SELECT count(*) FROM street")).scalar_one()
    other = db.session.execute(text("SELECT count(*) FROM street WHERE tenant_id = :t"),
                               {"t": other_tenant_id}).scalar_one()
    renamed = db.session.execute(text("UPDATE street SET code = 'X' WHERE tenant_id = :t"),
                                 {"t": other_tenant_id}).rowcount
    run.result = {"own": own, "other": other, "renamed": renamed}
