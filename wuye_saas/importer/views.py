"""Import of the organisation register: choose a kind, download its template, upload a file,
follow the job, see the outcome; the district's past imports."""
from __future__ import annotations

from io import BytesIO
from pathlib import PurePosixPath

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import db
from ..jobs import JobRun
from ..web import get_or_404, page_arg, render, require, tenant_blueprint
from . import logic
from .forms import MAX_BYTES, ImportForm
from .jobs import JOB_KIND, submit

bp = tenant_blueprint("importer", __name__, "/import")

MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}


def _history():
    stmt = select(JobRun).where(JobRun.kind == JOB_KIND).order_by(JobRun.id.desc())
    return db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)


def _page(form, kind, status=200):
    ctx = dict(form=form, kind=kind, kinds=logic.KINDS, order_hint=logic.ORDER_HINT,
               classes=logic.class_names(), history=_history(), args=request.args,
               max_mb=MAX_BYTES // (1024 * 1024))
    if request.method == "GET":
        return render("importer/index.html", "importer/_history.html", **ctx)
    return render_template("importer/index.html", **ctx), status


@bp.route("/", methods=["GET", "POST"])
def index():
    require("import", "import")
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        # Browsers may send a full client path; only the base name is shown, never used as a path.
        filename = PurePosixPath(upload.filename.replace("\\", "/")).name[:100]
        run = submit(form.kind.data, upload.stream, filename, current_user)
        return redirect(url_for(".result", job_run_id=run.id))
    kind = (logic.KINDS.get(form.kind.data or request.args.get("kind", ""))
            or next(iter(logic.KINDS.values())))
    if not form.is_submitted():
        form.kind.data = kind.key
    return _page(form, kind, 422 if form.errors else 200)


# A fixed set of kinds in the rule: anything else is a 404 before the view runs.
@bp.route(f"/template/<any({', '.join(logic.KINDS)}):kind>.<any(xlsx, csv):fmt>")
def template(kind: str, fmt: str):
    require("import", "import")
    spec = logic.KINDS[kind]
    data = logic.template_xlsx(spec, logic.class_names()) if fmt == "xlsx" else logic.template_csv(spec)
    return send_file(BytesIO(data), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"{spec.label}导入模板.{fmt}")


@bp.route("/<int:job_run_id>")
def result(job_run_id: int):
    run = get_or_404(JobRun, job_run_id)
    if run.kind != JOB_KIND:
        abort(404)
    require("import", "import")
    return render("importer/result.html", "importer/_outcome.html", run=run)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    # Raised while the body is parsed, before the view (and its form) can answer.
    return render_template("errors/error.html", code=413, title="文件过大",
                           text=f"上传的文件超过了 {MAX_BYTES // (1024 * 1024)} MB 的上限，请拆分后分别导入。"), 413
