"""Progression: how the routine grows with the person, from what the client sent back.

The service stores nothing about a person: the client keeps the ``follow_up`` object a page
returns and sends it back next time (DESIGN section 4b).
"""

from personalizer import hookimpl

READS_FEATURES = ()


@hookimpl
def personalizer_features(profile):
    return {}
