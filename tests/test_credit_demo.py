"""The demo district's credit file: a year of records, firms in every grade, one on the 黑名单 and
on the 警示名单, the demo firm's objection decided (and one waiting), four quarters of kept grades, and the records
the published 季测评 wrote."""
from __future__ import annotations

from sqlalchemy import func, select

from wuye_saas.credit import grading
from wuye_saas.credit import sources as sources_
from wuye_saas.credit.consequences import firms_with_flag
from wuye_saas.credit.models import CreditGrade, CreditObjection, CreditRecord
from wuye_saas.extensions import db
from wuye_saas.tenancy import tenant_by_slug, tenant_scope
from wuye_saas.timeutil import today

from .helpers import login
from .test_seed import SMALL, seed


def test_demo_credit_file(app, client):
    res = seed(app, "seed-demo", "--slug", "cdemo", *SMALL)
    assert res.exit_code == 0, res.output
    assert "信用记录" in res.output
    with app.app_context():
        tid = tenant_by_slug("cdemo").id
        with tenant_scope(tid):
            st = grading.standings(today())
            grades = {s.grade for s in st.values()}
            assert {"AAA", "AA", "A", "B", "C", "黑名单"} <= grades, grades
            assert sum(1 for s in st.values() if s.warned) >= 2
            sources = set(db.session.execute(select(CreditRecord.source)).scalars())
            assert {"staff", "evaluation", "demands"} <= sources    # publicity: the full demo (test_seed)
            # The lists' consequences: 黑榜 firms barred from tenders, 红榜 firms with 优先续约.
            d = today()
            assert firms_with_flag("restrict_tender", d) and firms_with_flag("priority_renewal", d)
            assert not firms_with_flag("restrict_tender", d) & firms_with_flag("priority_renewal", d)
            again = sources_.sync_all(d)
            assert again == {"publicity": 0, "demands": 0}
            black = sorted(firms_with_flag("restrict_tender", d))[0]
            first = db.session.execute(select(func.min(CreditRecord.occurred_on))).scalar()
            assert (today() - first).days >= 300                       # a year of records
            decided, waiting = db.session.execute(select(CreditObjection).order_by(CreditObjection.id)).scalars()
            assert decided.status == "upheld" and decided.record.revoked_at is not None
            # The second waits for the district: its record stands meanwhile.
            assert waiting.status == "open" and waiting.record.revoked_at is None
            quarters = db.session.execute(select(func.count(func.distinct(CreditGrade.quarter_end)))).scalar()
            assert quarters == 4
    login(client, "cdemo-district", "demo1234")
    page = client.get("/d/cdemo/credit/warning").get_data(as_text=True)
    assert "黑名单" in page
    page = client.get("/d/cdemo/credit/").get_data(as_text=True)
    assert "长治市" in page and "AAA" in page
    page = client.get(f"/d/cdemo/credit/firms/{black}").get_data(as_text=True)
    assert "限制参加招投标" in page and 'data-testid="consequence-flags"' in page
