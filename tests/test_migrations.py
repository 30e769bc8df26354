"""The models and the Alembic migrations agree, and the migrations run down and up again."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from wuye_saas import create_app
from wuye_saas.extensions import db
from wuye_saas.partitions import include_object


def _differences() -> list:
    with db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True,
                                                                      "include_object": include_object}), db.metadata)


def test_models_match_the_migrations(app):
    # The session's database was built by `upgrade()` (see conftest), never by create_all.
    with app.app_context():
        assert _differences() == []


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "migrations-test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrations.db'}"})
    tables = {t.name for t in db.metadata.sorted_tables}
    with app.app_context():
        upgrade()
        assert tables <= set(inspect(db.engine).get_table_names())
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert tables <= set(inspect(db.engine).get_table_names())
        assert _differences() == []
        db.engine.dispose()


def test_natural_keys_upgrade_fills_the_key_of_every_existing_household_and_building(tmp_path):
    from sqlalchemy import insert, text

    from wuye_saas.org import models as m
    from wuye_saas.tenancy import tenant_scope

    from .factories import build_district

    app = create_app({"TESTING": True, "SECRET_KEY": "migrations-test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'room_key.db'}"})
    with app.app_context():
        upgrade()
        a = build_district("alpha", "甲区")
        with tenant_scope(a.tenant_id):
            db.session.execute(insert(m.Household), [
                {"tenant_id": a.tenant_id, "compound_id": a.compound1, "building_id": a.building1, "room": room,
                 "floor_area": 80, "household_code": f"MIG{i:05d}"} for i, room in enumerate(("1单元1001", "A-2-301"))])
        db.session.commit()
        db.session.remove()
        downgrade(revision="5b1e7c2d9a40")      # the schema before the key
        upgrade()
        with db.engine.connect() as conn:
            keys = dict(conn.execute(text("SELECT room, room_key FROM household")).all())
            names = dict(conn.execute(text("SELECT name, name_key FROM building")).all())
        db.engine.dispose()
    assert keys == {"101": "000101", "1单元1001": "000001单元001001", "A-2-301": "A-000002-000301"}
    assert names == {"1号楼": "000001号楼", "2号楼": "000002号楼"}


def test_question_upgrade_asks_each_existing_survey_item_a_plain_question(tmp_path):
    from sqlalchemy import text

    from wuye_saas.evaluation.models import Standard, StandardItem
    from wuye_saas.tenancy import tenant_scope

    from .factories import build_district

    app = create_app({"TESTING": True, "SECRET_KEY": "migrations-test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'question.db'}"})
    with app.app_context():
        upgrade()
        a = build_district("alpha", "甲区")
        with tenant_scope(a.tenant_id):
            s = Standard(name="旧标准")
            db.session.add(s)
            db.session.flush()
            for name, scorer, method in (("居民满意度测评", "survey", "computed"), ("保洁服务", "survey", "computed"),
                                         ("项目负责人报到", "community", "yesno")):
                db.session.add(StandardItem(standard_id=s.id, name=name, scorer=scorer, method=method,
                                            criterion="得分 = 20 × 满意率"))
            db.session.commit()
        db.session.remove()
        downgrade(revision="3f6a9c1d2b7e")      # the schema before the question
        upgrade()
        with db.engine.connect() as conn:
            asked = dict(conn.execute(text("SELECT name, question FROM standard_item")).all())
        db.engine.dispose()
    assert asked == {"居民满意度测评": "总体来看，您对本小区的物业服务是否满意？",
                     "保洁服务": "您对本小区的保洁服务是否满意？", "项目负责人报到": ""}


def test_persons_upgrade_gives_each_named_unit_its_own_owner_and_each_vote_its_item(tmp_path):
    from datetime import date

    from sqlalchemy import text

    from wuye_saas.tenancy import tenant_scope
    from wuye_saas.votes.models import Ballot, OwnerVote

    from .factories import build_district

    app = create_app({"TESTING": True, "SECRET_KEY": "migrations-test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'persons.db'}"})
    with app.app_context():
        upgrade()
        a = build_district("alpha", "甲区")
        with tenant_scope(a.tenant_id):
            v = OwnerVote(compound_id=a.compound1, matter="use_fund", title="旧表决", status="closed",
                          opens_on=date(2026, 1, 1), closes_on=date(2026, 1, 2), passed=True)
            db.session.add(v)
            db.session.flush()
            vote_id = v.id
            db.session.add(Ballot(vote_id=v.id, household_id=a.household1, choice="agree", area_centi=8850,
                                  owner_key="张三"))
            db.session.commit()
        db.session.remove()
        downgrade(revision="d1a7c3e9f284")      # the schema before persons and items
        upgrade()
        with db.engine.connect() as conn:
            persons = conn.execute(text("SELECT p.name, p.identity_key, o.household_id FROM person p "
                                        "JOIN ownership o ON o.person_id = p.id ORDER BY o.household_id")).all()
            items = conn.execute(text("SELECT vote_id, position, title, passed FROM vote_item")).all()
            choices = conn.execute(text("SELECT b.household_id, c.choice FROM ballot_choice c "
                                        "JOIN ballot b ON b.id = c.ballot_id")).all()
            developer = conn.execute(text("SELECT count(*) FROM household WHERE developer_held")).scalar_one()
        db.engine.dispose()
    # Both branches' 101 张三: two units, two persons — names never merge owners.
    assert persons == [("张三", f"hh:{a.household1}", a.household1), ("张三", f"hh:{a.household2}", a.household2)]
    assert items == [(vote_id, 1, "旧表决", 1)]
    assert choices == [(a.household1, "agree")]
    assert developer == 0


def test_owed_upgrade_fills_the_unpaid_bills_and_the_households_totals(tmp_path):
    from datetime import date
    from decimal import Decimal

    from sqlalchemy import and_, select

    from wuye_saas.fees import sums
    from wuye_saas.fees.models import (Bill, BillingRun, CompoundOwed, CreditNote, FeePolicy, HouseholdOwed, OwedBill,
                                       Payment)
    from wuye_saas.tenancy import tenant_scope

    from .factories import build_district

    app = create_app({"TESTING": True, "SECRET_KEY": "migrations-test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'owed.db'}"})
    with app.app_context():
        upgrade()
        a = build_district("alpha", "甲区")
        with tenant_scope(a.tenant_id):
            policy = FeePolicy(name="旧政策", valid_from=date(2024, 1, 1), status="active")
            db.session.add(policy)
            db.session.flush()
            bills = []
            for month in (date(2026, 1, 1), date(2026, 2, 1)):
                run = BillingRun(month=month, scope_kind="district", scope_label="全区")
                db.session.add(run)
                db.session.flush()
                for hh, cid, firm in ((a.household1, a.compound1, a.firm1), (a.household2, a.compound2, a.firm2)):
                    bills.append(Bill(household_id=hh, compound_id=cid, firm_id=firm, policy_id=policy.id,
                                      billing_run_id=run.id, month=month, area=Decimal("80.00"), rate=Decimal("1"),
                                      base_fen=8000, gov_fen=0, firm_fen=0, resident_fen=8000))
            db.session.add_all(bills)
            db.session.flush()
            db.session.add_all([Payment(bill_id=bills[0].id, amount_fen=8000, method="现金", receipt_no="M1",
                                        paid_on=date(2026, 1, 5)),
                                Payment(bill_id=bills[1].id, amount_fen=3000, method="现金", receipt_no="M2",
                                        paid_on=date(2026, 1, 5)),
                                CreditNote(bill_id=bills[1].id, resident_fen=1000, reason="面积更正"),
                                CreditNote(bill_id=bills[2].id, resident_fen=8000, reason="面积更正")])
            ids = [b.id for b in bills]
            db.session.commit()
        db.session.remove()
        downgrade(revision="b2e8f4a1c6d3")      # the schema before owed_bill
        upgrade()
        with tenant_scope(a.tenant_id):
            owed = sorted(db.session.execute(select(Bill.id, OwedBill.owed_fen).join(OwedBill, and_(
                OwedBill.household_id == Bill.household_id, OwedBill.month == Bill.month))).all())
            computed = sorted(tuple(r) for r in db.session.execute(sums.owed_computed(Bill.tenant_id == a.tenant_id)))
            kept = sorted(tuple(r) for r in db.session.execute(select(*[getattr(OwedBill, c) for c in sums.OWED_COLUMNS])))
            totals = db.session.execute(select(HouseholdOwed.household_id, HouseholdOwed.compound_id,
                                               HouseholdOwed.owed_fen)).all()
            counts = db.session.execute(select(CompoundOwed.compound_id, CompoundOwed.households)).all()
        db.session.remove()
        db.engine.dispose()
    assert owed == [(ids[1], 4000), (ids[3], 8000)]
    assert kept == computed
    assert totals == [(a.household2, a.compound2, 12000)] and counts == [(a.compound2, 1)]
