from ..web import public_blueprint

bp = public_blueprint("public", __name__)
