from ..web import tenant_blueprint

bp = tenant_blueprint("funds", __name__, "/funds")
