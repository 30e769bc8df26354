from ..web import tenant_blueprint

bp = tenant_blueprint("ledgers", __name__, "/ledgers")
