from ..web import tenant_blueprint

bp = tenant_blueprint("publications", __name__, "/publications")
