"""A bill can never name a missing household, billing run, fee policy, compound, firm or
district, and none of those (nor a bill with payments) can vanish while named — by raw SQL,
without the ORM. On PostgreSQL statement-level triggers keep this (migration c3f8a1d6e2b9,
wuye_saas/partitions.py); on SQLite the foreign keys do, with SQLite's enforcement switched
on for the test's connection (the app does not switch it on)."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from wuye_saas.extensions import db
from wuye_saas.fees import billing
from wuye_saas.fees.models import FeePolicy, FeePolicyGrade
from wuye_saas.org import models as m
from wuye_saas.tenancy import system_scope, tenant_scope

FEB = date(2025, 2, 1)
COLUMNS = ("tenant_id", "household_id", "compound_id", "firm_id", "policy_id", "billing_run_id", "month", "area",
           "rate", "base_fen", "gov_fen", "firm_fen", "resident_fen", "holdback_fen", "classes", "issued_at")
INSERT = f"INSERT INTO bill ({', '.join(COLUMNS)}) VALUES "
MISSING = 987654


@pytest.fixture
def refs(app, world):
    """Alpha: a policy, a billing run, one bill for household1 (with a payment) and ids of
    household2 (not billed)."""
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        policy = FeePolicy(name="引用测试政策", status="active", valid_from=date(2024, 1, 1), gov_mode="percent",
                           grades=[FeePolicyGrade(grade="二级", rate=1)])
        db.session.add(policy)
        db.session.flush()
        run = billing.create_run(billing.Scope("district", None, "全区"), FEB)
        db.session.commit()
        ids = {"tenant_id": a.tenant_id, "household_id": a.household1, "compound_id": a.compound1,
               "firm_id": a.firm1, "policy_id": policy.id, "billing_run_id": run.id, "h2": a.household2,
               "c2": a.compound2}
    with connection(app) as conn:
        conn.execute(text(INSERT + values(0)), row(ids))
        bill_id = conn.execute(text("SELECT id FROM bill")).scalar_one()
        conn.execute(text("INSERT INTO payment (tenant_id, bill_id, amount_fen, method, receipt_no, paid_on, note,"
                          " created_at) VALUES (:t, :b, 100, '现金', 'R1', :d, '', :at)"),
                     {"t": a.tenant_id, "b": bill_id, "d": FEB, "at": datetime(2025, 2, 3)})
        conn.commit()
    return ids | {"bill": bill_id}


class connection:
    """A raw connection outside the ORM, in the system scope (the row-level security policies let
    it see every district: what is tested is the references); on SQLite with foreign keys
    enforced while it lasts."""

    def __init__(self, app):
        self.app = app

    def __enter__(self):
        self.ctx = self.app.app_context()
        self.ctx.push()
        self.scope = system_scope()
        self.scope.__enter__()
        self.conn = db.engine.connect()
        self.sqlite = self.conn.dialect.name == "sqlite"
        if self.sqlite:
            self.conn.exec_driver_sql("PRAGMA foreign_keys = ON")  # outside a transaction: takes effect
        return self.conn

    def __exit__(self, *exc):
        self.conn.rollback()
        if self.sqlite:
            self.conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        self.conn.close()
        self.scope.__exit__(None, None, None)
        self.ctx.pop()


def values(i: int) -> str:
    return "(" + ", ".join(f":{c}{i}" for c in COLUMNS) + ")"


def row(ids: dict, i: int = 0, **change) -> dict:
    r = {"tenant_id": ids["tenant_id"], "household_id": ids["household_id"], "compound_id": ids["compound_id"],
         "firm_id": ids["firm_id"], "policy_id": ids["policy_id"], "billing_run_id": ids["billing_run_id"],
         "month": FEB, "area": 50, "rate": 1, "base_fen": 5000, "gov_fen": 0, "firm_fen": 0, "resident_fen": 5000,
         "holdback_fen": 0, "classes": "", "issued_at": datetime(2025, 2, 1, 8)} | change
    return {f"{k}{i}": v for k, v in r.items()}


def refused(conn, sql: str, params: dict | None = None) -> None:
    with pytest.raises(IntegrityError):
        conn.execute(text(sql), params or {})
    conn.rollback()


def count(conn, sql: str, params: dict | None = None) -> int:
    return conn.execute(text(sql), params or {}).scalar_one()


@pytest.mark.parametrize("column", ["household_id", "billing_run_id", "policy_id", "compound_id", "firm_id",
                                    "tenant_id"])
def test_a_bill_naming_a_missing_parent_is_refused_alone_or_among_good_rows(app, refs, column):
    with connection(app) as conn:
        march = {"month": date(2025, 3, 1)}
        refused(conn, INSERT + values(0), row(refs, **march, **{column: MISSING}))
        # A multi-row insert with one bad row writes none of them.
        good = row(refs, 0, household_id=refs["h2"], compound_id=refs["c2"])
        refused(conn, INSERT + values(0) + ", " + values(1), good | row(refs, 1, **march, **{column: MISSING}))
        assert count(conn, "SELECT count(*) FROM bill") == 1
        # The same two rows, both good, go in: the refusal was the missing parent.
        conn.execute(text(INSERT + values(0) + ", " + values(1)), good | row(refs, 1, **march))
        assert count(conn, "SELECT count(*) FROM bill") == 3


def test_an_update_cannot_point_a_bill_at_a_missing_policy(app, refs):
    with connection(app) as conn:
        refused(conn, "UPDATE bill SET policy_id = :p", {"p": MISSING})
        assert count(conn, "SELECT policy_id FROM bill") == refs["policy_id"]


@pytest.mark.parametrize("table, key", [("household", "household_id"), ("billing_run", "billing_run_id"),
                                        ("fee_policy", "policy_id"), ("firm", "firm_id"), ("tenant", "tenant_id")])
def test_a_parent_with_bills_cannot_be_deleted_nor_change_its_id(app, refs, table, key):
    with connection(app) as conn:
        refused(conn, f"DELETE FROM {table} WHERE id = :id", {"id": refs[key]})
        refused(conn, f"UPDATE {table} SET id = :new WHERE id = :id", {"id": refs[key], "new": MISSING})
        assert count(conn, f"SELECT count(*) FROM {table} WHERE id = :id", {"id": refs[key]}) == 1


def test_a_paid_bill_keeps_its_id_but_other_updates_pass(app, refs):
    """The parent side on UPDATE: an update that keeps every id (an issue date) is not checked
    further; one that changes a paid bill's id is refused, with nothing written."""
    with connection(app) as conn:
        conn.execute(text("UPDATE bill SET issued_at = :at"), {"at": datetime(2025, 2, 2, 9)})
        refused(conn, "UPDATE bill SET id = :new WHERE id = :b", {"b": refs["bill"], "new": MISSING})
        assert count(conn, "SELECT count(*) FROM bill WHERE id = :b", {"b": refs["bill"]}) == 1
        assert count(conn, "SELECT count(*) FROM payment WHERE bill_id = :b", {"b": refs["bill"]}) == 1


def test_payments_name_an_existing_bill_and_keep_it(app, refs):
    with connection(app) as conn:
        refused(conn, "INSERT INTO payment (tenant_id, bill_id, amount_fen, method, receipt_no, paid_on, note,"
                      " created_at) VALUES (:t, :b, 100, '现金', 'R2', :d, '', :at)",
                {"t": refs["tenant_id"], "b": MISSING, "d": FEB, "at": datetime(2025, 2, 3)})
        refused(conn, "DELETE FROM bill WHERE id = :b", {"b": refs["bill"]})
        assert count(conn, "SELECT count(*) FROM payment") == 1
        assert count(conn, "SELECT count(*) FROM bill") == 1
        # Without its payment the bill may go, and an unbilled household too.
        conn.execute(text("DELETE FROM payment"))
        conn.execute(text("DELETE FROM bill WHERE id = :b"), {"b": refs["bill"]})
        conn.execute(text("DELETE FROM household_class_link WHERE household_id = :h"), {"h": refs["h2"]})
        conn.execute(text("DELETE FROM ownership WHERE household_id = :h"), {"h": refs["h2"]})
        conn.execute(text("DELETE FROM household WHERE id = :h"), {"h": refs["h2"]})
        assert count(conn, "SELECT count(*) FROM bill") == 0


def test_postgresql_a_household_being_billed_cannot_be_deleted_meanwhile(app, refs):
    """The parent's trigger waits for a transaction inserting a bill not yet committed (as the
    foreign key's row lock did), then sees that bill and refuses."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time")
    with connection(app) as billing_tx, connection(app) as deleting_tx:
        billing_tx.execute(text(INSERT + values(0)), row(refs, household_id=refs["h2"], compound_id=refs["c2"]))
        deleting_tx.exec_driver_sql("SET lock_timeout = '300ms'")
        deleting_tx.execute(text("DELETE FROM household_class_link WHERE household_id = :h"), {"h": refs["h2"]})
        deleting_tx.execute(text("DELETE FROM ownership WHERE household_id = :h"), {"h": refs["h2"]})
        with pytest.raises(OperationalError, match="lock timeout"):
            deleting_tx.execute(text("DELETE FROM household WHERE id = :h"), {"h": refs["h2"]})
        deleting_tx.rollback()
        billing_tx.commit()
        refused(deleting_tx, "DELETE FROM household WHERE id = :h", {"h": refs["h2"]})
        assert count(deleting_tx, "SELECT count(*) FROM bill WHERE household_id = :h", {"h": refs["h2"]}) == 1


def test_postgresql_db_partitions_moves_waiting_rows_and_archives_unreferenced_months(app, refs):
    """A bill and an audit event of May 2019 (before the first partition) wait in DEFAULT;
    `flask db-partitions` gives that month its partitions and moves them there. Archiving the
    month is refused while the bill has a payment; without it, both partitions leave for the
    `archive` schema and `bill` no longer holds the bill."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no partitions")
    may = date(2019, 5, 1)
    with connection(app) as conn:
        conn.execute(text(INSERT + values(0)), row(refs, month=may))
        old_bill = conn.execute(text("SELECT id FROM bill WHERE month = :m"), {"m": may}).scalar_one()
        conn.execute(text("INSERT INTO payment (tenant_id, bill_id, amount_fen, method, receipt_no, paid_on, note,"
                          " created_at) VALUES (:t, :b, 100, '现金', 'R9', :d, '', :d)"),
                     {"t": refs["tenant_id"], "b": old_bill, "d": may})
        conn.execute(text("INSERT INTO audit_event (tenant_id, at, actor, action, entity, label, changes)"
                          " VALUES (:t, :at, '测试', 'create', 'bill', '旧账单', '{}')"),
                     {"t": refs["tenant_id"], "at": datetime(2019, 5, 10, 3)})
        conn.commit()
        assert count(conn, "SELECT count(*) FROM bill_default") == 1
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db-partitions", "--ahead", "1"])
    assert result.exit_code == 0, result.output
    assert "bill_y2019m05" in result.output and "audit_event_y2019m05" in result.output
    with connection(app) as conn:
        assert count(conn, "SELECT count(*) FROM bill_default") == 0
        assert count(conn, "SELECT count(*) FROM audit_event_default") == 0
        assert count(conn, "SELECT id FROM bill_y2019m05") == old_bill
        assert count(conn, "SELECT count(*) FROM audit_event_y2019m05") == 1
    refused_run = runner.invoke(args=["db-partitions", "--ahead", "1", "--archive-before", "2019-06"])
    assert refused_run.exit_code != 0 and "payment" in refused_run.output
    with connection(app) as conn:
        assert count(conn, "SELECT count(*) FROM bill WHERE id = :b", {"b": old_bill}) == 1
        assert count(conn, "SELECT count(*) FROM audit_event WHERE at < '2019-06-01'") == 1
        conn.execute(text("DELETE FROM payment WHERE bill_id = :b"), {"b": old_bill})
        conn.commit()
    archived = runner.invoke(args=["db-partitions", "--ahead", "1", "--archive-before", "2019-06"])
    assert archived.exit_code == 0, archived.output
    assert "archive.bill_y2019m05" in archived.output and "archive.audit_event_y2019m05" in archived.output
    with connection(app) as conn:
        assert count(conn, "SELECT count(*) FROM bill WHERE id = :b", {"b": old_bill}) == 0
    # The archive schema is the owner's alone (the application's role cannot read it).
    with app.app_context():
        owner_url = app.config.get("DATABASE_OWNER_URL")
        engine = create_engine(owner_url, poolclass=NullPool) if owner_url else db.engine
        with engine.connect() as conn:
            try:
                assert count(conn, "SELECT id FROM archive.bill_y2019m05") == old_bill
            finally:
                conn.rollback()
                conn.execute(text("DROP TABLE archive.bill_y2019m05, archive.audit_event_y2019m05"))
                conn.commit()
