"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""
from wuye_saas import create_app

app = create_app()
