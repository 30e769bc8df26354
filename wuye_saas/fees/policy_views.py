from ..web import tenant_blueprint

bp = tenant_blueprint("fee_policies", __name__, "/fees")
