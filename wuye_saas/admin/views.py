"""Platform admin: districts (tenants) and their first administrator."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
def tenants():
    return "平台管理"
