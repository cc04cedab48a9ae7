"""(d) Raises in every per-page hook."""

from personalizer import hookimpl


class Boom(RuntimeError):
    pass


@hookimpl
def personalizer_features(profile):
    raise Boom("features")


@hookimpl
def personalizer_triage(features):
    raise Boom("triage")


@hookimpl
def personalizer_candidates(features, catalog):
    raise Boom("candidates")


@hookimpl
def personalizer_exclusions(features, catalog):
    raise Boom("exclusions")


@hookimpl
def personalizer_arrange(blocks, features):
    raise Boom("arrange")


HOOKS = (
    "personalizer_features",
    "personalizer_triage",
    "personalizer_candidates",
    "personalizer_exclusions",
    "personalizer_arrange",
)
