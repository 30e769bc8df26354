from ..web import tenant_blueprint

bp = tenant_blueprint("users", __name__, "/users")


@bp.route("/")
def list_users():
    return "账号"
