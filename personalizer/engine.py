"""From a validated profile to a finished page (DESIGN section 3).

``features`` is the only step that sees the raw profile; ``decision_key`` names everything
a page depends on; ``build`` runs triage, candidates, exclusions, ranking, the routine,
arrangement and the safety contract using the features alone. The same key always gives the
same page, which is what makes the cache safe.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field, replace
from html import escape

import orjson

from personalizer import results, routine, safety
from personalizer.content import Catalog, ContentError
from personalizer.hookcalls import CallLog, HookRunner, Malformed

CORE_FEATURES = ("red_flags", "channel", "locale", "minutes", "partner")


@dataclass
class Policy:
    """What a deployment or a partner allows on its pages, and how alerts name its services."""

    commercial_ctas: bool = True
    emergency_number: str = "your local emergency number"
    emergency_service: str = "the nearest emergency department"
    urgent_number: str = "your doctor's surgery or urgent-care line"
    urgent_service: str = "an urgent-care service"
    booking_title: str | None = None
    booking_href: str | None = None

    def tokens(self) -> dict[str, str]:
        return {
            "{{emergency_number}}": self.emergency_number,
            "{{emergency_service}}": self.emergency_service,
            "{{urgent_number}}": self.urgent_number,
            "{{urgent_service}}": self.urgent_service,
        }

    def for_partner(self, partner) -> Policy:
        """This deployment's policy with a partner's own settings laid over it."""
        if partner is None:
            return self
        own = partner.policy
        cta = own.get("cta") or {}
        return replace(
            self,
            commercial_ctas=self.commercial_ctas and own["commercial_ctas"],
            emergency_number=own.get("emergency_number", self.emergency_number),
            emergency_service=own.get("emergency_service", self.emergency_service),
            urgent_number=own.get("urgent_number", self.urgent_number),
            urgent_service=own.get("urgent_service", self.urgent_service),
            booking_title=cta.get("title"),
            booking_href=cta.get("href"),
        )

    def fill(self, text: str, html: bool = True) -> str:
        for token, value in self.tokens().items():
            text = text.replace(token, escape(value) if html else value)
        return text


@dataclass
class Built:
    """A page and what it took to build it."""

    page: dict
    calls: CallLog
    degraded: bool
    trace: dict = field(default_factory=dict)


class Engine:
    def __init__(
        self,
        host,
        catalog: Catalog,
        runner: HookRunner,
        secret: bytes,
        policy: Policy,
        max_sections: int = 6,
        max_ctas: int = 2,
        deadline_ms: float = 2000.0,
    ):
        self.host = host
        self.catalog = catalog
        self.runner = runner
        self.secret = secret
        self.policy = policy
        self.max_sections = max_sections
        self.max_ctas = max_ctas
        self.deadline_s = deadline_ms / 1000.0
        self.signature = f"{catalog.version}|{host.signature()}"
        self.reads = host.feature_reads()
        self._check_alerts()

    def _check_alerts(self) -> None:
        """The safety contract needs one alert per level; refuse to start without them."""
        wanted = {**safety.ALERT_FOR_LEVEL, "general": safety.FAILSAFE_ALERT}
        problems = [
            f"alert {item_id!r} (level {level}) is missing from the catalog"
            for level, item_id in wanted.items()
            if item_id not in self.catalog or self.catalog[item_id].meta.get("level") != level
        ]
        if problems:
            raise ContentError(problems)

    # -- features and key --------------------------------------------------------------

    def features(self, profile: dict, calls: CallLog, partner: str | None = None) -> dict:
        """Merge every plugin's features, set the core ones the engine owns, and keep only
        those the decision hooks read (see PluginHost.feature_reads)."""
        merged: dict = {}
        answers = self.runner.call(
            "personalizer_features",
            {"profile": results.freeze(profile)},
            results.valid_features,
            calls,
        )
        # Built-in features come first, so no other plugin can override one (and lift a veto).
        builtin = {name for name, info in self.host.infos.items() if info.source == "built-in"}
        for _plugin, result in sorted(answers, key=lambda r: r[0] not in builtin):
            for key, value in result.items():
                merged.setdefault(key, value)
        context = profile.get("context", {})
        merged.update(
            red_flags=list(profile.get("red_flags", [])),
            channel=context.get("channel", "web"),
            locale=context.get("locale", "en"),
            minutes=context.get("minutes_per_day", 15) // 5 * 5,
            partner=partner,
        )
        if self.reads is None:
            return merged
        return {k: v for k, v in merged.items() if k in self.reads or k in CORE_FEATURES}

    def decision_key(self, features: dict) -> str:
        """A keyed hash of everything the page depends on; reveals nothing about a person."""
        canonical = orjson.dumps(
            {"features": features, "build": self.signature}, option=orjson.OPT_SORT_KEYS
        )
        return hmac.new(self.secret, canonical, hashlib.sha256).hexdigest()

    # -- building ----------------------------------------------------------------------

    def build(
        self, features: dict, key: str, calls: CallLog | None = None, policy: Policy | None = None
    ) -> Built:
        calls = calls or CallLog()
        policy = policy or self.policy
        deadline = time.monotonic() + self.deadline_s
        catalog = self.catalog

        view = results.freeze(features)  # what plugins see; the engine keeps reading its own copy
        level, triage_entries, triage_ran, overridden = self._triage(view, calls, deadline)
        failsafe = not triage_ran
        scores, reasons, candidates_trace = self._candidates(view, calls, deadline)
        vetoed, veto_trace = self._exclusions(view, calls, deadline)
        # Without the features or the vetoes of every plugin, we cannot be sure which
        # exercises suit this person: only those with no contraindication stay.
        cautious = calls.failed("personalizer_features") or calls.failed("personalizer_exclusions")
        if cautious:
            for item in catalog.of_kind("exercise"):
                if item.contraindications and item.id not in vetoed:
                    vetoed[item.id] = [("engine", "a safety check could not run for this page")]

        def ranked(kind):
            picks = [
                (catalog[i], s)
                for i, s in scores.items()
                if catalog[i].kind == kind and i not in vetoed and s > 0
            ]
            return sorted(picks, key=lambda p: (-p[1], p[0].id))

        blocks = self._alerts(level, triage_entries, failsafe, policy)
        blocks += [
            self._block(item, score, reasons, policy)
            for item, score in ranked("section")[: self.max_sections]
        ]
        exercises_allowed = level != "emergency" and not failsafe
        chosen = routine.fill(ranked("exercise"), features.get("minutes", 15))
        if exercises_allowed:
            for entry in chosen:
                block = self._block(entry.item, scores[entry.item.id], reasons, policy)
                block["dose"] = entry.dose
                blocks.append(block)
        # A clinic embed shows our offers only when that partner's policy says so.
        commercial_allowed = (
            policy.commercial_ctas
            and not failsafe
            and level != "emergency"
            and (features.get("channel") != "clinic" or features.get("partner") is not None)
        )
        ctas, held_back = [], []
        for item, s in ranked("cta"):
            if not self._cta_fits(item, policy):
                continue
            if item.commercial and not commercial_allowed:
                held_back.append(f"removed call to action {item.id}: no commercial offer here")
                continue
            ctas.append((item, s))
        blocks += [self._block(item, s, reasons, policy) for item, s in ctas[: self.max_ctas]]

        blocks, arrange_trace = self._arrange(blocks, view, calls, deadline)
        blocks, changes = safety.enforce(
            blocks, level, set(vetoed), commercial_allowed, exercises_allowed
        )
        changes = held_back + changes
        shown = {b["id"] for b in blocks if b["kind"] == "exercise"}
        entries = [entry for entry in chosen if entry.item.id in shown]
        page = {
            "page_id": key[:24],
            "content_version": catalog.version,
            "triage": {"level": level, "flags": sorted({e["flag"] for e in triage_entries})},
            "blocks": [{k: v for k, v in b.items() if k != "score"} for b in blocks],
            "routine": {
                "minutes": sum(entry.daily_minutes for entry in entries),
                "items": [entry.as_dict() for entry in entries],
            },
        }
        trace = dict(
            placement=_placement(page["blocks"], scores, vetoed, catalog),
            triage_overridden=overridden,
            candidates=candidates_trace,
            vetoes=veto_trace,
            arrange=arrange_trace,
            safety_changes=changes,
            failsafe=failsafe,
            cautious=cautious,
        )
        return Built(page, calls, degraded=bool(calls.failures), trace=trace)

    def _triage(self, features, calls, deadline):
        answers = self.runner.call(
            "personalizer_triage", {"features": features}, results.valid_triage, calls, deadline
        )
        ran = any(c.ok for c in calls.calls if c.hook == "personalizer_triage")
        entries: dict[str, dict] = {}
        overridden = []
        for plugin, result in answers:
            for entry in result:
                flag, level = entry["flag"], entry["level"]
                # The contract fixes the level of its own red flags, whatever a plugin says;
                # a claim it overrides is not given to the reader as a reason.
                if safety.CONTRACT_LEVELS.get(flag, level) != level:
                    overridden.append({"plugin": plugin, **entry})
                    continue
                current = entries.get(flag)
                if (
                    current is None
                    or safety.LEVEL_RANK[level] > safety.LEVEL_RANK[current["level"]]
                ):
                    entries[flag] = {"flag": flag, "level": level, "why": []}
                if entries[flag]["level"] == level:
                    entries[flag]["why"].append({"plugin": plugin, "reason": entry["reason"]})
        # Every reported contract flag counts, even if no plugin mentioned it.
        for flag in features.get("red_flags", []):
            if flag in safety.CONTRACT_LEVELS and flag not in entries:
                reason = f"{safety.flag_words(flag)} reported"
                entries[flag] = {
                    "flag": flag,
                    "level": safety.CONTRACT_LEVELS[flag],
                    "why": [{"plugin": "safety", "reason": reason}],
                }
        flagged = [e for e in entries.values() if e["level"] != "none"]
        level = safety.highest(e["level"] for e in flagged)
        return level, flagged, ran, overridden

    def _alerts(self, level, entries, failsafe, policy):
        blocks = []
        for alert_level in ("emergency", "urgent", "assess"):
            mine = [e for e in entries if e["level"] == alert_level]
            if not mine:
                continue
            item = self.catalog[safety.ALERT_FOR_LEVEL[alert_level]]
            flags = sorted(e["flag"] for e in mine)
            named = ", ".join(escape(safety.flag_words(f)) for f in flags)
            html = policy.fill(item.html) + f"\n<p>You told us about: {named}.</p>"
            why = [w for e in sorted(mine, key=lambda e: e["flag"]) for w in e["why"]]
            blocks.append(
                {
                    "kind": "alert",
                    "id": item.id,
                    "title": policy.fill(item.title, html=False),
                    "html": html,
                    "why": why,
                    "level": alert_level,
                    "flags": flags,
                }
            )
        if failsafe:
            item = self.catalog[safety.FAILSAFE_ALERT]
            reason = "the triage check could not run, so this page shows the warning signs"
            blocks.append(
                {
                    "kind": "alert",
                    "id": item.id,
                    "title": policy.fill(item.title, html=False),
                    "html": policy.fill(item.html),
                    "why": [{"plugin": "safety", "reason": reason}],
                    "level": "general",
                    "flags": [],
                }
            )
        return blocks

    def _candidates(self, features, calls, deadline):
        catalog = self.catalog

        def validate(result):
            picks = results.records(
                result, {"id": results.text, "score": results.score, "reason": results.text}
            )
            unknown = [p["id"] for p in picks if p["id"] not in catalog]
            if unknown:
                raise Malformed(f"unknown content ids {unknown[:3]}")
            if any(catalog[p["id"]].kind == "alert" for p in picks):
                raise Malformed("alerts are chosen by triage, not by candidates")
            return picks

        scores: dict[str, float] = {}
        reasons: dict[str, list] = {}
        trace = []
        for plugin, picks in self.runner.call(
            "personalizer_candidates",
            {"features": features, "catalog": catalog},
            validate,
            calls,
            deadline,
        ):
            for pick in picks:
                scores[pick["id"]] = scores.get(pick["id"], 0.0) + pick["score"]
                reasons.setdefault(pick["id"], []).append(
                    {"plugin": plugin, "reason": pick["reason"]}
                )
                trace.append({"plugin": plugin, **pick})
        return scores, reasons, trace

    def _exclusions(self, features, calls, deadline):
        catalog = self.catalog

        def validate(result):
            vetoes = results.records(result, {"id": results.text, "reason": results.text})
            unknown = [v["id"] for v in vetoes if v["id"] not in catalog]
            if unknown:
                raise Malformed(f"unknown content ids {unknown[:3]}")
            return vetoes

        vetoed: dict[str, list] = {}
        trace = []
        for plugin, vetoes in self.runner.call(
            "personalizer_exclusions",
            {"features": features, "catalog": catalog},
            validate,
            calls,
            deadline,
        ):
            for veto in vetoes:
                vetoed.setdefault(veto["id"], []).append((plugin, veto["reason"]))
                trace.append({"plugin": plugin, **veto})
        return vetoed, trace

    def _cta_fits(self, item, policy) -> bool:
        if item.owner == "partner":
            return bool(policy.booking_href)
        return True

    def _block(self, item, score, reasons, policy) -> dict:
        block = {
            "kind": item.kind,
            "id": item.id,
            "title": policy.fill(item.title, html=False),
            "html": policy.fill(item.html),
            "why": reasons.get(item.id, []),
            "score": score,
        }
        if item.kind == "cta":
            block["commercial"] = item.commercial
            block["href"] = item.href
            if item.owner == "partner":
                block["title"] = policy.booking_title or item.title
                block["href"] = policy.booking_href
        return block

    def _arrange(self, blocks, features, calls, deadline):
        trace = []
        for plugin, _impl in self.host.impls("personalizer_arrange"):
            summary = [{"kind": b["kind"], "id": b["id"], "score": b.get("score")} for b in blocks]
            ids = {b["id"] for b in blocks}

            def validate(result, ids=ids):
                if not isinstance(result, list | tuple) or not all(
                    isinstance(i, str) and i in ids for i in result
                ):
                    raise Malformed("expected a list of the page's block ids")
                return list(dict.fromkeys(result))

            for name, order in self.runner.call(
                "personalizer_arrange",
                {"blocks": summary, "features": features},
                validate,
                calls,
                deadline,
                only=plugin,
            ):
                position = {bid: n for n, bid in enumerate(order)}
                blocks = sorted(blocks, key=lambda b: position.get(b["id"], len(position)))
                trace.append({"plugin": name, "order": [b["id"] for b in blocks]})
        return blocks, trace


def _placement(blocks, scores, vetoed, catalog) -> list[dict]:
    """For each block: where it landed, its score, and the same-kind items it outranked."""
    shown = {b["id"] for b in blocks}
    rows = []
    for position, block in enumerate(blocks):
        score = scores.get(block["id"])
        outranked = sorted(
            item_id
            for item_id, other in scores.items()
            if item_id not in shown
            and item_id not in vetoed
            and score is not None
            and other < score
            and catalog[item_id].kind == block["kind"]
        )
        rows.append(
            {
                "position": position,
                "kind": block["kind"],
                "id": block["id"],
                "score": score,
                "outranked": outranked,
            }
        )
    return rows
