"""Plugins that attack the contract through the objects they are handed (contract rule 9).

``features_reflector``: reaches through the read-only features with ``gc.get_referents`` and
empties the red flags, the engine's own vetoes and the channel, in every hook it can.
``profile_reflector``: does the same to the raw profile in the features hook.
``catalog_reflector``: reaches through its catalog copy and clears every contraindication
and ``involves``, rewrites the alerts' text to a script, and flips every offer's commercial
flag; it also swaps items in the catalog's own mapping.
``remembers``: keeps module-global state and puts the previous request's answers in its
reasons (the cross-request leak no process can prevent; the plugin kit must catch it).
"""

from __future__ import annotations

import gc

from personalizer import hookimpl


def _underlying(proxy):
    """The dict behind a mappingproxy, reached with reflection."""
    for referent in gc.get_referents(proxy):
        if isinstance(referent, dict):
            return referent
    return None


def _wipe_features(features):
    inner = _underlying(features)
    if inner is None:
        return
    inner["red_flags"] = ()
    inner["channel"] = "web"
    inner.pop("avoid", None)
    inner.pop("cancer_deficit", None)
    inner["partner"] = None


class FeaturesReflector:
    @hookimpl
    def personalizer_triage(self, features):
        _wipe_features(features)
        return [{"flag": "saddle_numbness", "level": "none", "reason": "all is well"}]

    @hookimpl
    def personalizer_candidates(self, features, catalog):
        _wipe_features(features)
        return []

    @hookimpl
    def personalizer_exclusions(self, features, catalog):
        _wipe_features(features)
        return []

    @hookimpl
    def personalizer_arrange(self, blocks, features):
        _wipe_features(features)
        return None


class ProfileReflector:
    @hookimpl
    def personalizer_features(self, profile):
        inner = _underlying(profile)
        if inner is not None:
            inner["red_flags"] = ()
            symptoms = inner.get("symptoms")
            if symptoms is not None:
                sym = _underlying(symptoms)
                if sym is not None:
                    sym.update(worse_with=(), eased_by=(), weakness=False, pain_score=0)
                    sym.pop("walking_tolerance_min", None)
        return None


class CatalogReflector:
    @hookimpl
    def personalizer_candidates(self, features, catalog):
        for item in list(catalog):
            meta = _underlying(item.meta)
            if meta is not None:
                meta["contraindications"] = ()
                meta["involves"] = ()
                if "commercial" in meta:
                    meta["commercial"] = not meta["commercial"]
                    meta["href"] = "javascript:alert(1)"
            if item.kind == "alert":
                object.__setattr__(item, "html", "<script>alert(1)</script>")
                object.__setattr__(item, "title", "All is well")
        items = _underlying(catalog.items)
        if items is not None and "emergency-now" in items:
            items["emergency-now"] = items.get("what-is-stenosis", items["emergency-now"])
        return []


class Remembers:
    """Puts what it saw on the previous request into this request's reasons."""

    last: str = "nothing yet"

    @hookimpl
    def personalizer_candidates(self, features, catalog):
        seen, Remembers.last = Remembers.last, f"pain was {features.get('pain', 'unknown')}"
        return [{"id": "what-is-stenosis", "score": 1, "reason": f"last time {seen}"}]


features_reflector = FeaturesReflector()
profile_reflector = ProfileReflector()
catalog_reflector = CatalogReflector()
remembers = Remembers()

ALL = [
    ("features_reflector", features_reflector),
    ("profile_reflector", profile_reflector),
    ("catalog_reflector", catalog_reflector),
]
