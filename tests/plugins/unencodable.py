"""Results that pass each hook's checks but cannot be encoded: an integer beyond 64 bits
(orjson refuses it) and a lone surrogate in a string (not valid UTF-8)."""

from personalizer import hookimpl


class BigFeature:
    @hookimpl
    def personalizer_features(self, profile):
        return {"measured_at": 10**30}


class BigFeatureRead(BigFeature):
    """The same, from a plugin that also decides (and, like most third-party plugins, does
    not declare READS_FEATURES): every feature then goes into the decision key."""

    @hookimpl
    def personalizer_candidates(self, features, catalog):
        return None


class BigScore:
    @hookimpl
    def personalizer_candidates(self, features, catalog):
        return [{"id": "helps-cycling", "score": 10**30, "reason": "a very big score"}]


class SurrogateReason:
    @hookimpl
    def personalizer_candidates(self, features, catalog):
        return [{"id": "helps-cycling", "score": 1, "reason": "half a character \ud800"}]


class SurrogateFeature:
    @hookimpl
    def personalizer_features(self, profile):
        return {"note": "half a character \ud800"}


VARIANTS = {
    "big_feature": BigFeature(),
    "big_feature_read": BigFeatureRead(),
    "big_score": BigScore(),
    "surrogate_reason": SurrogateReason(),
    "surrogate_feature": SurrogateFeature(),
}
