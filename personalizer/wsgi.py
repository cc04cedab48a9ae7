"""The WSGI application for gunicorn: ``gunicorn personalizer.wsgi:app`` (JSON logs)."""

from personalizer import create_app
from personalizer.observability import configure_logging

configure_logging()
app = create_app()
