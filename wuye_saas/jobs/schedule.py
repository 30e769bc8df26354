"""Periodic jobs, declared as data, started by `flask --app wsgi scheduler`.

Each entry runs for every active district once its interval has passed since its last start;
the last start is kept in the database (ScheduleState), so restarts, several scheduler processes
started by mistake, or a missed tick neither skip nor double a run: a row lock (or SQLite's single
writer) serialises the check-and-claim. Runs go through the job facade — RQ with REDIS_URL,
inline otherwise — so the embedded demo escalates overdue demands too.

The scheduled functions receive the tick time as an ISO string, so tests control "now".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import Tenant, system_scope, tenant_scope
from . import _resolve, create_run, start


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str           # "module:function", a @job taking (run, at_iso)
    every: timedelta
    label: str


SCHEDULE: list[Periodic] = [
    Periodic("demands.escalate", "wuye_saas.demands.jobs:escalate_overdue", timedelta(minutes=10),
             "逾期诉求升级街道"),
    Periodic("followups.term_reminders", "wuye_saas.followups.jobs:remind_expiring_terms", timedelta(days=1),
             "业委会任期届满提醒"),
    Periodic("exits.deadlines", "wuye_saas.exits.jobs:check_exit_deadlines", timedelta(days=1),
             "退出交接期限检查"),
    Periodic("credit.snapshot", "wuye_saas.credit.jobs:snapshot_quarter", timedelta(days=1),
             "季度信用等级"),
    Periodic("credit.sources", "wuye_saas.credit.jobs:sync_sources", timedelta(days=1),
             "公示、诉求自动信用记录"),
    Periodic("notifications.deliver", "wuye_saas.notifications.jobs:sweep", timedelta(minutes=5),
             "发送到期的短信、微信消息和 Webhook"),
    Periodic("notifications.reminders", "wuye_saas.notifications.jobs:remind", timedelta(hours=6),
             "截止日期提醒（自评、审核、公示）"),
    Periodic("indicators.snapshot", "wuye_saas.indicators.jobs:snapshot_month", timedelta(hours=6),
             "统计快照（本月）"),
]


class ScheduleState(db.Model):
    __tablename__ = "schedule_state"
    __audit__ = False  # the scheduler's bookkeeping, like JobRun: what its jobs do is audited
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    name: Mapped[str] = mapped_column(String(60))
    last_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)


def _claim(tenant_id: int, p: Periodic, at: datetime) -> bool:
    """Record this tick as the entry's last start if it is due; True when it was."""
    with system_scope():
        state = db.session.execute(select(ScheduleState).where(
            ScheduleState.tenant_id == tenant_id, ScheduleState.name == p.name).with_for_update()
        ).scalar_one_or_none()
        if state is None:
            db.session.add(ScheduleState(tenant_id=tenant_id, name=p.name, last_at=at))
            return True
        if state.last_at + p.every > at:
            return False
        state.last_at = at
        return True


def run_due(at: datetime) -> list[int]:
    """Start every due entry for every active district; the JobRun ids started."""
    with system_scope():
        tenants = list(db.session.execute(select(Tenant.id).where(Tenant.active.is_(True))).scalars())
    started = []
    for tenant_id in tenants:
        for p in SCHEDULE:
            if not _claim(tenant_id, p, at):
                db.session.rollback()
                continue
            with tenant_scope(tenant_id):
                run = create_run(_resolve(p.func), p.label, at.isoformat(), kind=p.name)
                start(run)      # commits the claim and the run together, then dispatches
                started.append(run.id)
    return started
