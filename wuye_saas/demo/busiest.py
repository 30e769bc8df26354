"""The most-used pages of a district built by `seed-demo`, each with the demo account that opens
it: what scripts/bench_pages.py times and tests/test_queries.py guards (the same statements at
two sizes of district), so the benchmark and the guard cannot drift apart."""
from __future__ import annotations

from sqlalchemy import select

from ..auth.models import Membership, User
from ..evaluation.models import Evaluation
from ..extensions import db
from ..tenancy import Tenant, system_scope, tenant_scope

# (account suffix, page, path under /d/<slug>); {street}, {community}, {evaluation}: ids of the
# demo street's street, the demo community's community and the district's latest evaluation.
PAGES = [
    ("district", "工作台（区级）", "/"),
    ("district", "工作台·街道", "/?level=street&street_id={street}"),
    ("district", "工作台·社区", "/?level=community&community_id={community}"),
    ("street", "工作台（街道）", "/"),
    ("community", "工作台（社区）", "/"),
    ("firm", "工作台（物业企业）", "/"),
    ("committee", "工作台（业委会）", "/"),
    ("assessor", "工作台（测评机构）", "/"),
    ("district", "小区名录", "/compounds/"),
    ("district", "住户名录", "/households/"),
    ("district", "物业企业名录", "/firms/"),
    ("district", "账单", "/fees/bills/"),
    ("district", "缴费与欠费", "/fees/arrears"),
    ("district", "收缴率", "/fees/collection"),
    ("community", "诉求", "/demands/"),
    ("district", "考核周期", "/evaluations/"),
    ("district", "考核周期详情", "/evaluations/{evaluation}"),
]


def resolve(slug: str) -> list[tuple[str, str, str]]:
    """(username, page, URL) of every page for the district `slug` (in an app context)."""
    with system_scope():
        tid = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar_one()
    with tenant_scope(tid):
        def scope_of(suffix, column):
            return db.session.execute(select(column).join(User, User.id == Membership.user_id)
                                      .where(User.username == f"{slug}-{suffix}")).scalar_one()
        ids = {"street": scope_of("street", Membership.street_id),
               "community": scope_of("community", Membership.community_id),
               "evaluation": db.session.execute(select(Evaluation.id).order_by(Evaluation.id.desc())
                                                .limit(1)).scalar_one()}
        db.session.rollback()
    return [(f"{slug}-{who}", page, f"/d/{slug}" + path.format(**ids)) for who, page, path in PAGES]
