"""The landing page's key rates: last month's collection rate and the publicity on-time rate."""
from datetime import date

from wuye_saas.publicity import schedule
from wuye_saas.tenancy import tenant_scope
from wuye_saas.extensions import db

from .helpers import login
from .test_payments import add_household, add_payment, frozen, make_bills  # noqa: F401 (fixture)


def _figure(html: str, label: str) -> str:
    block = html.split(f'<div class="stat-label">{label}</div>')[0]
    return block.rsplit('<div class="stat-value text-danger">', 1)[1].split("</div>")[0]


def test_last_months_collection_rate_on_the_dashboard(app, client, world, frozen):
    a = world["alpha"]
    h1, h2 = add_household(app, a, 1, "201"), add_household(app, a, 1, "202")
    june = date(2026, 6, 1)
    b1, _ = make_bills(app, a, [(h1, 1, june, 0, 0, 1000), (h2, 1, june, 0, 0, 1000)])
    add_payment(app, a, b1, 1000, "SK202606-000001", paid_on=date(2026, 6, 20))
    login(client, "alpha-district")
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert _figure(html, "上月缴费率") == "50.0%" and "2026年06月账单" in html
    # Nothing is required to be published yet: no rate rather than 0% or 100%.
    assert _figure(html, "公示按时率") == "—"
    login(client, "alpha-firm")
    assert _figure(client.get("/d/alpha/").get_data(as_text=True), "上月缴费率") == "50.0%"
    login(client, "alpha-assessor")
    html = client.get("/d/alpha/").get_data(as_text=True)
    assert "上月缴费率" not in html and "公示按时率" not in html


def test_publicity_rate_follows_the_schedule(app, client, world, frozen):
    a = world["alpha"]
    with app.app_context(), tenant_scope(a.tenant_id):
        schedule.add_requirement("standing_notice", None, "standing", 0, None)
        db.session.commit()
    login(client, "alpha-district")
    # Two compounds, a standing notice required of each, none published: 0 of 2 on time.
    assert _figure(client.get("/d/alpha/").get_data(as_text=True), "公示按时率") == "0.0%"
