from ..web import tenant_blueprint

bp = tenant_blueprint("claims", __name__, "/fees")
