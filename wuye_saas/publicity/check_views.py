from ..web import tenant_blueprint

bp = tenant_blueprint("checks", __name__, "/checks")
