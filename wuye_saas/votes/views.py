from ..web import tenant_blueprint

bp = tenant_blueprint("votes", __name__, "/votes")
