"""Serving a page: features, decision key, cache lookup, and on a miss build and store.

A hit returns the stored bytes as they are. A page built while a plugin failed is served
but never stored, so a passing fault does not outlive its request.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from personalizer import experiments, follow_up, render, safety
from personalizer.cache import BYPASS, LocalCache
from personalizer.engine import Built, Engine
from personalizer.experiments import Experiments
from personalizer.hookcalls import CallLog
from personalizer.partners import Partner, Registry


@dataclass
class Served:
    body: bytes
    etag: str
    cache: str  # hit | miss | bypass
    built: Built | None = None
    key: str | None = None


def _hit(stored: bytes, cache_key: str) -> Served:
    """A stored value is the ETag, a newline, then the response body."""
    etag, _, body = stored.partition(b"\n")
    return Served(body, etag.decode(), "hit", key=cache_key)


class PageService:
    def __init__(
        self,
        engine: Engine,
        cache,
        partners: Registry | None = None,
        build_wait_ms: int = 1000,
        experiments: Experiments | None = None,
    ):
        self.engine = engine
        self.experiments = experiments or Experiments()
        self.cache = cache
        self.build_wait_ms = build_wait_ms
        # Request bodies seen before -> their cache key: a repeated body skips validation and
        # the features hooks (DESIGN section 5: validation is the cost of the hit path).
        self.seen = LocalCache(max_entries=8192, ttl=600)
        self.partners = partners or Registry([])
        self._pictures = engine.catalog.pictures()

    # -- what the HTTP layer and the CLI ask of the service (so they never reach inside) --

    def pictures(self) -> dict:
        """Exercise pictures by file name (served by media.py)."""
        return self._pictures

    def plugins(self) -> list[dict]:
        """Every plugin we tried to load, with its quarantine state in this worker."""
        quarantined = self.engine.runner.quarantine.state()
        return [
            {**entry, "quarantined_s": quarantined.get(entry["name"])}
            for entry in self.engine.host.listing()
        ]

    def catalog_summary(self) -> dict:
        """The catalog's items, with this deployment's numbers and services in the titles."""
        catalog, policy = self.engine.catalog, self.engine.policy
        return {
            "content_version": catalog.version,
            "items": [
                {**item.summary_row(), "title": policy.fill(item.title, html=False)}
                for item in catalog
            ],
        }

    def readiness(self) -> dict:
        return {"cache": self.cache.state(), "cache_backend": self.cache.name}

    def render(self, page: dict, fmt: str, partner: Partner | None = None) -> bytes:
        if fmt == "html":
            brand = partner.policy.get("brand_colour") if partner else None
            return render.to_html(page, brand=brand)
        return render.to_json(page)

    def serve_body(self, raw: bytes, fmt: str, partner: Partner | None, load) -> Served:
        """Serve the page for a request body; ``load()`` validates it when it must be read.

        Only bodies that were valid and whose page was stored are remembered, so a repeated
        body can only ever lead to the page its own validation led to before.
        """
        digest = hashlib.blake2b(raw, digest_size=16, person=fmt.encode())
        if partner is not None:
            digest.update(partner.key_part.encode())
        seen_key = digest.hexdigest()
        cache_key = self.seen.get(seen_key)
        stored = None
        if cache_key is not None:
            stored = self.cache.get(cache_key)
            if stored is not None and stored is not BYPASS:
                return self.personal(_hit(stored, cache_key), fmt, raw)
        served = self.serve(load(), fmt, partner, cache_down=stored is BYPASS)
        if served.key is not None:
            self.seen.set(seen_key, served.key)
        return self.personal(served, fmt, raw)

    @staticmethod
    def personal(served: Served, fmt: str, raw: bytes) -> Served:
        """Add what the client keeps for next time (follow_up.py), after the cache."""
        if fmt != "json":
            return served
        served.body, served.etag = follow_up.personalize(served.body, served.etag, raw)
        return served

    def serve(
        self,
        profile: dict,
        fmt: str = "json",
        partner: Partner | None = None,
        cache_down: bool = False,
    ) -> Served:
        calls = CallLog()
        features = self._features(profile, calls, partner)
        key = self.engine.decision_key(features)
        cache_key = f"{key}:{fmt}"
        # When the caller has just found the cache unavailable, do not ask it again.
        if cache_down:
            stored = BYPASS
        elif calls.failures:
            stored = None
        else:
            stored = self.cache.get(cache_key)
        claimed = False
        if stored is None and not calls.failures:
            claimed = self.cache.claim(cache_key, self.build_wait_ms)
            if not claimed:
                stored = self._wait_for(cache_key)  # another request is building this page
        if stored is not None and stored is not BYPASS:
            hit = _hit(stored, cache_key)
            if "quarantined" in features:
                hit.key = None  # not remembered: see below
            return hit
        try:
            policy = self.engine.policy.for_partner(partner)
            built = self.engine.build(features, key, calls, policy)
            body = self.render(built.page, fmt, partner)
            etag = hashlib.blake2b(body, digest_size=12).hexdigest()
            stored_now = stored is not BYPASS and not built.degraded
            if stored_now:
                self.cache.set(cache_key, etag.encode() + b"\n" + body)  # read by _hit
        finally:
            if claimed:
                self.cache.release(cache_key)
        # A body is remembered only for pages that outlive the moment: not while a plugin
        # sits out a quarantine (the same body leads to another page once it is over).
        remember = stored_now and "quarantined" not in features
        return Served(
            body,
            etag,
            "bypass" if stored is BYPASS else "miss",
            built,
            key=cache_key if remember else None,
        )

    def _features(self, profile: dict, calls: CallLog, partner: Partner | None) -> dict:
        """The engine's features, with the experiments this visitor is in. The visitor id
        goes to the GrowthBook SDK and nowhere else: not to a plugin, a feature, a key or a
        cached page. A page with any red flag is never part of an experiment."""
        profile, visitor = experiments.without_visitor(profile)
        enrolled = []
        if visitor and not safety.reported_flags(profile) and self.experiments:
            channel = profile.get("context", {}).get("channel", "web")
            enrolled = experiments.page_entries(
                self.experiments.assign(visitor, {"channel": channel})
            )
        return self.engine.features(
            profile, calls, partner and partner.key_part, experiments=enrolled
        )

    def _wait_for(self, cache_key: str):
        """Poll for a page another request is building, for at most ``build_wait_ms``;
        None when it did not come (the caller then builds it itself)."""
        deadline = time.monotonic() + self.build_wait_ms / 1000
        while time.monotonic() < deadline:
            time.sleep(0.005)
            stored = self.cache.get(cache_key)
            if stored is not None:
                return None if stored is BYPASS else stored
        return None

    def explain(self, profile: dict, partner: Partner | None = None) -> dict:
        """Build the page afresh (never cached) with a trace of every decision."""
        calls = CallLog()
        features = self._features(profile, calls, partner)
        key = self.engine.decision_key(features)
        policy = self.engine.policy.for_partner(partner)
        built = self.engine.build(features, key, calls, policy, explain=True)
        contributed = {
            call.plugin: call.result
            for call in calls.calls
            if call.hook == "personalizer_features" and call.ok and call.result
        }
        return {
            **built.page,
            "explain": {
                "features": features,
                "features_by_plugin": contributed,
                **built.trace,
                "failures": [
                    {"plugin": c.plugin, "hook": c.hook, "error": c.error} for c in calls.failures
                ],
                "skipped": [
                    {"plugin": c.plugin, "hook": c.hook, "error": c.error}
                    for c in calls.calls
                    if c.skipped
                ],
                "plugin_ms": calls.timings(),
            },
        }
