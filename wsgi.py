"""gunicorn entry point from a checkout: ``gunicorn wsgi:app`` (installed: personalizer.wsgi)."""

from personalizer.wsgi import app

__all__ = ["app"]
