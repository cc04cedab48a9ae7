"""personalizer: personalized pages about lumbar spinal stenosis from a posture assessment."""

from personalizer.hookspecs import hookimpl, hookspec

__version__ = "0.1.0"

__all__ = ["__version__", "create_app", "hookimpl", "hookspec"]


def create_app(test_config=None):
    """Build the Flask application (imported lazily so plugins can import the hook marker)."""
    from personalizer.app import create_app as _create_app

    return _create_app(test_config)
