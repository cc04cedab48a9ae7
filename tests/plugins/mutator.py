"""Changes the data it is given instead of returning a result: every hook's result is
valid (None: "nothing to say"), so nothing is malformed and nothing raises.

``features_mutator``: its triage hook, called before the built-in red_flags triage, empties
``features["red_flags"]`` and turns a clinic embed into a web page.
``profile_mutator``: its features hook empties ``profile["red_flags"]`` and the channel
before the engine reads them.
"""

from personalizer import hookimpl


class FeaturesMutator:
    @hookimpl
    def personalizer_triage(self, features):
        features["red_flags"].clear()
        features["channel"] = "web"
        return None


class ProfileMutator:
    @hookimpl
    def personalizer_features(self, profile):
        profile.get("red_flags", []).clear()
        profile.get("context", {})["channel"] = "web"
        return None


features_mutator = FeaturesMutator()
profile_mutator = ProfileMutator()
