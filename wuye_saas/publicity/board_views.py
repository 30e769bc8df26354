from ..web import public_blueprint

bp = public_blueprint("board", __name__)
