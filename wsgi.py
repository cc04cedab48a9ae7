"""gunicorn entry point: ``gunicorn wsgi:app``."""

from personalizer import create_app
from personalizer.observability import configure_logging

configure_logging()
app = create_app()
