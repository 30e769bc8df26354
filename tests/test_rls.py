"""Row-level security: PostgreSQL's own wall between districts, under the ORM's filter.

Raw SQL (no ORM, so no tenant filter) run in one district's scope sees, changes and adds
nothing of another district's; the scope is set per transaction and follows scope changes
inside one; jobs on the RQ worker and the scheduler run as a separate process keep working.
These need the application's role (scripts/pg_roles.sql): superusers and BYPASSRLS roles are
not held by the policies. On SQLite they skip; on PostgreSQL with REQUIRE_SERVICES=1 they must run.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from wuye_saas import rls
from wuye_saas.extensions import db, refresh_statistics
from wuye_saas.jobs import create_run, start
from wuye_saas.jobs.schedule import SCHEDULE
from wuye_saas.partitions import month_add, partition_name
from wuye_saas.tenancy import system_scope, tenant_scope
from wuye_saas.timeutil import today

from .conftest import REQUIRE_SERVICES, ROOT
from .helpers import wait_for_job
from .jobfuncs import raw_reach

# These tests see the wall from every side, no scope included: their reads outside any scope are
# meant (conftest._guard_unscoped_reads refuses a test's own such reads elsewhere).
pytestmark = pytest.mark.unscoped


def _postgresql(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


@pytest.fixture
def walled(app):
    """Skips unless this run connects as a role the policies hold."""
    if not _postgresql(app):
        pytest.skip("row-level security is PostgreSQL's")
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            held = rls.subject_to_policies(raw.dbapi_connection)
        finally:
            raw.close()
    if not held:
        if REQUIRE_SERVICES:
            pytest.fail("REQUIRE_SERVICES=1: DATABASE_URL must be the application's role "
                        "(scripts/pg_roles.sql, README), not a superuser or a BYPASSRLS role")
        pytest.skip("DATABASE_URL's role bypasses row-level security")
    return True


def _count(sql: str, **params) -> int:
    return db.session.execute(text(sql), params).scalar_one()


def test_every_tenant_table_has_the_policy_enabled_and_forced(app):
    """Fails for a table with a tenant_id that a migration left without `rls.wall`."""
    if not _postgresql(app):
        pytest.skip("row-level security is PostgreSQL's")
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.qual, p.with_check"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped"
            " LEFT JOIN pg_policies p ON p.schemaname = n.nspname AND p.tablename = c.relname"
            "  AND p.policyname = 'tenant_wall' AND p.cmd = 'ALL' AND p.permissive = 'PERMISSIVE'"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')")).all()
        others = db.session.execute(text(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema()"
            " AND policyname <> 'tenant_wall'")).all()
    walled = {r.relname for r in rows}
    models = {t.name for t in db.metadata.sorted_tables if "tenant_id" in t.c}
    assert models <= walled and {"household", "bill", "membership", "audit_event", "job_run"} <= walled
    assert [r.relname for r in rows if not (r.relrowsecurity and r.relforcerowsecurity)] == []
    assert [r.relname for r in rows if r.qual is None or "wuye.tenant" not in r.qual
            or "wuye.system" not in r.qual or r.with_check is None] == []
    assert others == []   # no second permissive policy widening the wall


def test_the_application_role_owns_nothing_and_cannot_truncate_or_rewrite_the_audit_trail(app, world, walled):
    with app.app_context():
        assert _count("SELECT count(*) FROM pg_class WHERE relnamespace = CAST(current_schema() AS regnamespace)"
                      " AND relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)") == 0
        for sql in ("TRUNCATE household", "ALTER TABLE household DISABLE ROW LEVEL SECURITY",
                    "UPDATE audit_event SET label = ''", "DELETE FROM audit_event",
                    # a month's partition by its own name: not a way around the parent's grants
                    f"DELETE FROM {partition_name('audit_event', today().replace(day=1))}",
                    f"DELETE FROM {partition_name('audit_event', month_add(today().replace(day=1), 20))}"):
            with system_scope(), pytest.raises(ProgrammingError, match="(permission denied|must be owner)"):
                db.session.execute(text(sql))
            db.session.rollback()


def test_the_statistics_after_a_bulk_load_are_refreshed_by_the_owner(app, world, walled):
    """The application's role owns no table: its ANALYZE is only warned about and skipped, which
    left the planner without statistics after seed-demo or a large billing run."""
    with app.app_context():
        with system_scope():
            households = _count("SELECT count(*) FROM household")
        db.session.commit()
        refresh_statistics("household")
        assert _count("SELECT reltuples::integer FROM pg_class WHERE oid = 'household'::regclass") == households


def test_a_fixed_vote_roll_gets_statistics_in_its_own_transaction(app, world, walled):
    """fix_roll writes thousands of rows and counts them right away: the planner needs their
    statistics before the commit, and the application's role may not ANALYZE (it owns nothing);
    analyze_vote_roll() does it as the owner, seeing the transaction's own new rows."""
    from datetime import date

    from wuye_saas.votes import roll
    from wuye_saas.votes.models import OwnerVote

    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        vote = OwnerVote(compound_id=a.compound1, matter="rules", title="统计信息", status="open")
        db.session.add(vote)
        db.session.flush()
        assert roll.fix_roll(vote, date(2025, 1, 1)) == 1
        assert _count("SELECT reltuples::integer FROM pg_class WHERE oid = 'vote_roll'::regclass") == 1
        db.session.rollback()


def test_raw_sql_in_one_district_sees_and_changes_nothing_of_another(app, world, walled):
    a, b = world["alpha"].tenant_id, world["beta"].tenant_id
    with app.app_context():
        with system_scope():
            before = db.session.execute(text(
                "SELECT tenant_id, count(*), string_agg(code || name, ',' ORDER BY id) FROM street GROUP BY tenant_id"
                " ORDER BY tenant_id")).all()
            households = dict(db.session.execute(text(
                "SELECT tenant_id, count(*) FROM household GROUP BY tenant_id")).all())
        assert [r[0] for r in before] == [a, b] and households[a] == households[b] == 2
        db.session.commit()

        with tenant_scope(a):
            assert _count("SELECT count(*) FROM household") == 2
            assert _count("SELECT count(*) FROM household WHERE tenant_id = :b", b=b) == 0
            assert db.session.execute(text("SELECT DISTINCT tenant_id FROM street")).scalars().all() == [a]
            # A join through another district's ids finds nothing either.
            assert _count("SELECT count(*) FROM household h JOIN compound c ON c.id = h.compound_id"
                          " WHERE c.tenant_id = :b", b=b) == 0
            assert db.session.execute(text("UPDATE street SET code = 'X' WHERE tenant_id = :b"), {"b": b}).rowcount == 0
            assert db.session.execute(text("DELETE FROM grid WHERE tenant_id = :b"), {"b": b}).rowcount == 0
            db.session.commit()
            refused = {
                "insert": ("INSERT INTO street (tenant_id, name, code) VALUES (:b, '冒名街道', 'Z')", {"b": b}),
                "move": ("UPDATE street SET tenant_id = :b WHERE tenant_id = :a", {"a": a, "b": b}),
            }
            for sql, params in refused.values():
                with pytest.raises(ProgrammingError, match="row-level security"):
                    db.session.execute(text(sql), params)
                db.session.rollback()

        with system_scope():
            after = db.session.execute(text(
                "SELECT tenant_id, count(*), string_agg(code || name, ',' ORDER BY id) FROM street GROUP BY tenant_id"
                " ORDER BY tenant_id")).all()
        assert after == before
        assert _count("SELECT count(*) FROM grid WHERE tenant_id = :b", b=b) == 0   # outside any scope: nothing
        with tenant_scope(b):
            assert _count("SELECT count(*) FROM grid") == 2


def test_no_scope_sees_nothing_and_the_scope_follows_changes_inside_one_transaction(app, world, walled):
    a, b = world["alpha"].tenant_id, world["beta"].tenant_id
    with app.app_context():
        assert _count("SELECT count(*) FROM household") == 0
        seen, transactions = [], set()
        for scope in (tenant_scope(a), tenant_scope(b), system_scope(), tenant_scope(a)):
            with scope:
                seen.append(tuple(db.session.execute(text(
                    "SELECT tenant_id FROM household ORDER BY tenant_id")).scalars()))
                transactions.add(_count("SELECT txid_current()"))
        assert len(transactions) == 1   # one transaction throughout
        assert seen == [(a, a), (b, b), (a, a, b, b), (a, a)]
        db.session.commit()

        # Set per transaction, never per connection: after the commit the server connection
        # (through pgbouncer, whichever one serves next) carries no district.
        raw = db.session.connection().connection.dbapi_connection
        with raw.cursor() as cur:
            cur.execute("SELECT current_setting('wuye.tenant', true), current_setting('wuye.system', true)")
            assert cur.fetchone() in ((None, None), ("", ""))
        db.session.rollback()


def test_a_job_on_the_worker_reaches_only_its_district(app, client, world, walled):
    a, b = world["alpha"].tenant_id, world["beta"].tenant_id
    with app.test_request_context(), tenant_scope(a):
        run = create_run(raw_reach, "RLS", b)
        start(run)
        run_id = run.id
    outcome = wait_for_job(app, run_id)
    assert outcome["status"] == "done", outcome["message"]
    assert outcome["result"] == {"own": 2, "other": 0, "renamed": 0}
    with app.app_context(), tenant_scope(b):
        assert _count("SELECT count(*) FROM street WHERE code = 'X'") == 0


def test_the_scheduler_process_starts_every_district_s_jobs(app, client, world, walled):
    """`flask scheduler --once` in a process of its own, as the application's role, and the
    worker runs what it started."""
    env = dict(os.environ, WUYE_KEYS_DIR=app.config["PUBLICATION_KEYS_DIR"])
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "--once"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"已启动 {2 * len(SCHEDULE)} 个定时任务。" in out.stdout
    with app.app_context(), system_scope():
        runs = db.session.execute(text(
            "SELECT id, tenant_id FROM job_run ORDER BY id")).all()
        states = db.session.execute(text(
            "SELECT tenant_id, count(*) FROM schedule_state GROUP BY tenant_id ORDER BY tenant_id")).all()
    assert sorted({r.tenant_id for r in runs}) == [world["alpha"].tenant_id, world["beta"].tenant_id]
    assert states == [(world["alpha"].tenant_id, len(SCHEDULE)), (world["beta"].tenant_id, len(SCHEDULE))]
    assert [wait_for_job(app, r.id)["status"] for r in runs] == ["done"] * len(runs)
