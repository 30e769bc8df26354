"""Job progress: a card that polls itself (HTMX) until the run has finished."""
from flask import request

from ..web import get_or_404, render, safe_local_path, tenant_blueprint
from . import JobRun, check

bp = tenant_blueprint("jobs", __name__, "/jobs")


@bp.route("/<int:job_run_id>")
def status(job_run_id: int):
    run = get_or_404(JobRun, job_run_id)
    if not run.finished:
        check(run)  # a killed worker's run says so instead of polling forever
    return render("jobs/status.html", "jobs/_status.html", run=run, back=safe_local_path(request.args.get("back")))
