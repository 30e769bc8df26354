"""The daily exit check (scheduled by wuye_saas/jobs/schedule.py: exits.deadlines)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import joinedload

from ..extensions import db
from ..jobs import job
from ..timeutil import SHANGHAI, local
from . import logic
from .models import FirmExit


@job(queue="default", timeout=600)
def check_exit_deadlines(run, at_iso: str) -> None:
    """Every open exit: the outgoing firm keeps serving (its contract runs past the tick), and a
    firm past its handover deadline gets the district's record, once (keyed exit:<id>)."""
    at = datetime.fromisoformat(at_iso)
    # The tick is naive UTC (timeutil.now()); the day that counts is Shanghai's.
    day = (local(at) if at.tzinfo is None else at.astimezone(SHANGHAI)).date()
    exits = db.session.execute(logic.open_exits().options(
        joinedload(FirmExit.contract), joinedload(FirmExit.compound), joinedload(FirmExit.firm))).unique().scalars().all()
    recorded = 0
    for i, x in enumerate(exits, start=1):
        recorded += logic.check_exit(x, day)
        if i % 50 == 0:
            run.report(i, len(exits), f"已检查 {i}/{len(exits)} 个退出交接")
    run.result = {"checked": len(exits), "recorded": recorded, "day": day.isoformat()}
    # The facade commits with the run's closing state: a failed run writes nothing.
    run.message = f"检查 {len(exits)} 个进行中的退出交接，新记入信用档案 {recorded} 条。"
