"""gunicorn entry point: ``gunicorn wsgi:app``."""

from personalizer import create_app

app = create_app()
