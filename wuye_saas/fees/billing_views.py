from ..web import tenant_blueprint

bp = tenant_blueprint("billing", __name__, "/fees")
