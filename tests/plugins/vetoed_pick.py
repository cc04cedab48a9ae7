"""(b) Picks every contraindicated exercise with a huge score, for everyone.

prone-press-up (back-arching: vetoed when standing or arching provokes the legs), the
forward bends (vetoed when bending forward provokes), sit-to-stand (high pain) and the
balance work (weakness): a valid result that only rule 5 keeps off the page and routine.
"""

from personalizer import hookimpl

PICKS = (
    "prone-press-up",
    "seated-forward-bend",
    "bottom-to-heels",
    "double-knees-to-chest",
    "sit-to-stand",
    "balance-stand",
    "four-point-reach",
    "knee-to-chest",
)


@hookimpl
def personalizer_candidates(features, catalog):
    return [{"id": i, "score": 1e9, "reason": "the best exercise there is"} for i in PICKS]
