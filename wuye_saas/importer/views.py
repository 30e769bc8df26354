from ..web import tenant_blueprint

bp = tenant_blueprint("importer", __name__, "/import")


@bp.route("/")
def index():
    return "导入"
