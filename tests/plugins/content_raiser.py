"""Raises in ``personalizer_content``, the start-up hook, and in nothing else."""

from personalizer import hookimpl


@hookimpl
def personalizer_content():
    raise RuntimeError("content directory lookup failed")
