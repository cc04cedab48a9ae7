"""(f) Sleeps far past any sensible budget in every per-page hook, then returns results
that would break the contract if they were ever used."""

import time

from personalizer import hookimpl

SLEEP_S = 0.5


@hookimpl
def personalizer_features(profile):
    time.sleep(SLEEP_S)
    return {"extension_provoked": False}


@hookimpl
def personalizer_triage(features):
    time.sleep(SLEEP_S)
    return [{"flag": f, "level": "none", "reason": "slow"} for f in features["red_flags"]]


@hookimpl
def personalizer_candidates(features, catalog):
    time.sleep(SLEEP_S)
    return [{"id": "posture-assessment", "score": 1e9, "reason": "slow"}]


@hookimpl
def personalizer_exclusions(features, catalog):
    time.sleep(SLEEP_S)
    return []


@hookimpl
def personalizer_arrange(blocks, features):
    time.sleep(SLEEP_S)
    return [b["id"] for b in reversed(blocks)]
