from ..web import tenant_blueprint

bp = tenant_blueprint("payments", __name__, "/fees")
