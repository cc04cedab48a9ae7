"""From a validated profile to a finished page (DESIGN section 3).

``features`` is the only step that sees the raw profile; ``decision_key`` names everything
a page depends on; ``build`` runs triage, candidates, exclusions, ranking, the routine,
arrangement and the safety contract using the features alone. The same key always gives the
same page, which is what makes the cache safe.

The engine decides from its own copies (rule 9): its own deep copy of the profile and of the
features, and its own catalog, apart from the copy plugins are handed. Every plugin call gets
a fresh frozen copy of its arguments (hookcalls.py), so nothing a plugin does to what it is
given reaches the engine's decisions, another plugin or a cached page.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass, field, replace
from html import escape

import orjson

from personalizer import dose as dose_words
from personalizer import routine, safety
from personalizer.content import BUILT_IN, Catalog, ContentError
from personalizer.experiments import Assignment, merge_effects
from personalizer.frozen import thaw
from personalizer.hookcalls import CallLog, HookRunner, PerPlugin
from personalizer.vocabulary import ALERT_FOR_LEVEL, ALERT_LABELS, KINDS, WARNING_SIGNS_ALERT

# Features the engine sets itself from its own copy of the profile; no plugin can set them.
CORE_FEATURES = (
    "red_flags",
    "channel",
    "locale",
    "minutes",
    "partner",
    "avoid",
    "cancer_deficit",
    "quarantined",
    "experiments",
)
# A number a phone can dial: digits, spaces, dashes, an optional leading +.
DIALABLE = re.compile(r"\+?[0-9][0-9 -]{0,18}[0-9]|[0-9]")
LEVEL_SUMMARY = {
    "emergency": (
        "Get help now",
        "You told us about signs that need care straight away. This page shows only what "
        "to do now.",
    ),
    "urgent": (
        "See a doctor first",
        "You told us about signs that need a check today or within a day or two. Hold your "
        "exercise routine until you have been checked.",
    ),
}


def tel_href(number: str) -> str | None:
    """A ``tel:`` link for a configured number a phone can dial, else None."""
    number = number.strip()
    if not DIALABLE.fullmatch(number):
        return None
    return "tel:" + re.sub(r"[ -]", "", number)


@dataclass
class Policy:
    """What a deployment or a partner allows on its pages, and how alerts name its services."""

    commercial_ctas: bool = True
    emergency_number: str = "your local emergency number"
    emergency_service: str = "the nearest emergency department"
    urgent_number: str = "your doctor's surgery or urgent-care line"
    urgent_service: str = "an urgent-care service"
    emergency_care_url: str = "https://www.openstreetmap.org/search?query=emergency%20department"
    urgent_care_url: str = "https://www.openstreetmap.org/search?query=urgent%20care"
    booking_title: str | None = None
    booking_href: str | None = None
    # "find a clinician": None keeps ours, False drops it, {title, href} replaces it.
    find_clinician: dict | bool | None = None

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
            emergency_care_url=own.get("emergency_care_url", self.emergency_care_url),
            urgent_care_url=own.get("urgent_care_url", self.urgent_care_url),
            booking_title=cta.get("title"),
            booking_href=cta.get("href"),
            find_clinician=own.get("find_clinician", self.find_clinician),
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
        public_url: str = "http://127.0.0.1:8000",
        site_url: str = "http://127.0.0.1:8000",
    ):
        self.host = host
        self.catalog = catalog  # the engine's own; each plugin gets a copy of its own
        self.plugin_catalog = PerPlugin(catalog.copy)
        self.runner = runner
        self.secret = secret
        self.policy = policy
        self.max_sections = max_sections
        self.max_ctas = max_ctas
        self.deadline_s = deadline_ms / 1000.0
        self.public_url = public_url.rstrip("/")
        self.site_url = site_url.rstrip("/")
        self.signature = f"{catalog.version}|{host.signature()}|{self.public_url}|{self.site_url}"
        self.reads = host.feature_reads()
        self._check_alerts()

    def _check_alerts(self) -> None:
        """The safety contract needs one alert per level; refuse to start without them."""
        problems = [
            f"alert {item_id!r} (level {level}) {problem}"
            for level, item_id, problem in safety.missing_alerts(self.catalog)
        ]
        if problems:
            raise ContentError(problems)

    # -- features and key --------------------------------------------------------------

    def features(
        self,
        profile: dict,
        calls: CallLog,
        partner: str | None = None,
        experiments: list[dict] | None = None,
    ) -> dict:
        """Merge every plugin's features, set the core ones the engine owns, and keep only
        those the decision hooks read (see PluginHost.feature_reads). ``experiments``: the
        variations this visitor is in (``[{key, variation, value}]``), part of the key."""
        own = thaw(profile)
        merged: dict = {}
        answers = self.runner.call("personalizer_features", {"profile": own}, calls)
        # Built-in features come first, so no other plugin can override one (and lift a veto).
        builtin = {name for name, info in self.host.infos.items() if info.source == "built-in"}
        for _plugin, result in sorted(answers, key=lambda r: r[0] not in builtin):
            for key, value in result.items():
                merged.setdefault(key, value)
        for name in CORE_FEATURES:
            merged.pop(name, None)
        context = own.get("context", {})
        if experiments:
            merged["experiments"] = thaw(experiments)
        merged.update(
            red_flags=sorted(safety.reported_flags(own)),
            channel=context.get("channel", "web"),
            locale=context.get("locale", "en"),
            minutes=context.get("minutes_per_day", 15) // 5 * 5,
            partner=partner,
        )
        avoid = safety.engine_avoids(own)
        if avoid:
            merged["avoid"] = avoid
        if safety.cancer_with_deficit(own):
            merged["cancer_deficit"] = True
        # Pages built while a plugin sits out its quarantine are cached apart (their key
        # names it), so they are served only while it lasts.
        quarantined = sorted(self.runner.quarantine.state())
        if quarantined:
            merged["quarantined"] = quarantined
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
        self,
        features: dict,
        key: str,
        calls: CallLog | None = None,
        policy: Policy | None = None,
        explain: bool = False,
    ) -> Built:
        """The page for these features. ``explain``: also trace every decision (what each
        block outranked, what was cut and why), which only ``?explain=1`` shows."""
        calls = calls or CallLog()
        policy = policy or self.policy
        deadline = time.monotonic() + self.deadline_s
        catalog = self.catalog
        own = thaw(features)  # the engine's copy; plugins get fresh frozen ones per call
        effects = self._effects(own)

        level, triage_entries, triage_ran, overridden = self._triage(own, calls, deadline)
        failsafe = not triage_ran
        scores, reasons, candidates_trace = self._candidates(
            own, level, calls, deadline, effects, explain
        )
        vetoed, veto_trace = self._exclusions(own, calls, deadline)
        # Without the features or the vetoes of every plugin, we cannot be sure which
        # exercises suit this person: only those with no contraindication stay.
        cautious = calls.failed("personalizer_features") or calls.failed("personalizer_exclusions")
        if cautious:
            for item in catalog.of_kind("exercise"):
                if item.contraindications and item.id not in vetoed:
                    vetoed[item.id] = [("safety", "a safety check could not run for this page")]
        rules = safety.allowed(
            level,
            failsafe,
            policy.commercial_ctas,
            clinic_unpartnered=own.get("channel") == "clinic" and own.get("partner") is None,
        )

        by_kind: dict[str, list] = {kind: [] for kind in KINDS}
        items = catalog.items
        for item_id, score in scores.items():  # the candidates of each kind, in one pass
            if score > 0 and item_id not in vetoed:
                item = items[item_id]
                by_kind[item.kind].append((item, score))

        lang = own.get("locale", "en")
        level_alert = self._level_alert(level, triage_entries, policy, lang)
        warning_signs = self._warning_signs(policy, failsafe, lang)
        minutes = own.get("minutes", 15)
        # A follow-up's coarse features (plugins/progression.py) set how far the doses grow.
        progress = {
            "stage": own.get("stage", 0),
            "flare_up": bool(own.get("flare_up")),
            "hold_walking": bool(own.get("circulation_clue")),
        }
        chosen = routine.fill(by_kind["exercise"], minutes, **progress)
        exercises = []
        if rules.exercises:
            for entry in chosen:
                block = self._block(entry.item, scores[entry.item.id], reasons, policy, lang)
                exercises.append(self._exercise(block, entry))
        check_in = own.get("channel") == "email" and "stage" in own
        sections = [
            self._block(item, score, reasons, policy, lang)
            for item, score in routine.best(
                by_kind["section"], 1 if check_in else self.max_sections
            )
        ]
        ctas, held_back = [], []
        for item, score in routine.rank(by_kind["cta"]):
            block = self._cta(item, score, reasons, policy, lang)
            if block is None:
                continue
            if block["commercial"] and not rules.commercial:
                held_back.append(f"removed call to action {item.id}: no commercial offer here")
                continue
            ctas.append(block)
        blocks = [level_alert] if level_alert else []
        if check_in:  # the weekly check-in email: the routine, what changed, warning signs
            ctas = []
        # The warning signs once: the level's alert lists them already where it has one.
        signs = [] if level_alert and safety.carries_warning_signs(level_alert) else [warning_signs]
        blocks += exercises + signs + sections + ctas[: self.max_ctas]

        blocks, arrange_trace = self._arrange(blocks, own, level, calls, deadline, effects)
        blocks, changes = safety.enforce(blocks, rules, set(vetoed), warning_signs)
        changes = held_back + changes
        shown = {b["id"] for b in blocks if b["kind"] == "exercise"}
        entries = [entry for entry in chosen if entry.item.id in shown]
        title, text = self._summary(level, entries, own)
        page = {
            "page_id": key[:24],
            "content_version": catalog.version,
            "lang": lang,
            "summary": {"title": title, "text": text},
            "triage": {
                "level": level,
                "label": ALERT_LABELS.get(level, "No warning signs reported"),
                "flags": sorted({e["flag"] for e in triage_entries}),
            },
            "blocks": [{k: v for k, v in b.items() if k != "score"} for b in blocks],
            "experiments": own.get("experiments", []),
            "routine": {
                "minutes": sum(entry.daily_minutes for entry in entries),
                "items": [entry.as_dict() for entry in entries],
                **({"week": routine.week(entries)} if entries else {}),
            },
            # Last, so the service can add what the client keeps for next time to each
            # response without touching the cached page (pages.py).
            "follow_up": {"stage": own.get("stage", 0)},
        }
        trace = dict(
            triage_overridden=overridden,
            candidates=candidates_trace,
            vetoes=veto_trace,
            arrange=arrange_trace,
            safety_changes=changes,
            failsafe=failsafe,
            cautious=cautious,
        )
        if explain:
            trace.update(
                placement=_placement(page["blocks"], scores, vetoed, catalog),
                cut=_cut(page["blocks"], scores, vetoed, catalog, self.max_sections)
                + (routine.left_out(by_kind["exercise"], minutes) if rules.exercises else []),
            )
        return Built(page, calls, degraded=bool(calls.failures), trace=trace)

    def _triage(self, features, calls, deadline):
        """The page's level: the contract's level of every reported flag, from the engine's
        own copy of the features; plugins add reasons, and may raise a level, never lower."""
        answers = self.runner.call("personalizer_triage", {"features": features}, calls, deadline)
        ran = any(c.ok for c in calls.calls if c.hook == "personalizer_triage")
        deficit = bool(features.get("cancer_deficit"))
        entries: dict[str, dict] = {}
        for flag in features.get("red_flags", []):
            level = safety.contract_level(flag, deficit)
            if level is not None:
                entries[flag] = {"flag": flag, "level": level, "why": []}
        overridden = []
        for plugin, result in answers:
            for entry in result:
                flag, level = entry["flag"], entry["level"]
                current = entries.get(flag)
                if current is not None and current["level"] != level:
                    # The contract fixes the level of its own red flags, whatever a plugin
                    # says; a claim it overrides is not given to the reader as a reason.
                    if safety.contract_level(flag, deficit) is not None:
                        overridden.append({"plugin": plugin, **entry})
                        continue
                    if safety.LEVEL_RANK[level] < safety.LEVEL_RANK[current["level"]]:
                        continue
                if current is None or current["level"] != level:
                    entries[flag] = {"flag": flag, "level": level, "why": []}
                entries[flag]["why"].append({"plugin": plugin, "reason": entry["reason"]})
        for entry in entries.values():
            if not entry["why"]:
                reason = f"you told us about {safety.flag_words(entry['flag'])}"
                entry["why"].append({"plugin": "safety", "reason": reason})
        flagged = [e for e in entries.values() if e["level"] != "none"]
        level = safety.highest(e["level"] for e in flagged)
        return level, flagged, ran, overridden

    def _common(self, item, why, policy, lang) -> dict:
        return {
            "kind": item.kind,
            "id": item.id,
            "title": policy.fill(item.title, html=False),
            "html": policy.fill(item.html),
            "why": why,
            "lang": lang,
            "sources": thaw(item.sources),
            "last_reviewed": item.meta["last_reviewed"].isoformat(),
            "next_review": item.meta["next_review"].isoformat(),
        }

    def _level_alert(self, level, entries, policy, lang) -> dict | None:
        """The one alert for the page's level, naming every reported flag (rules 1-3)."""
        if level not in ALERT_FOR_LEVEL:
            return None
        item = self.catalog[ALERT_FOR_LEVEL[level]]
        entries = sorted(entries, key=lambda e: (-safety.LEVEL_RANK[e["level"]], e["flag"]))
        named = "".join(f"<li>{escape(safety.flag_words(e['flag']))}</li>" for e in entries)
        why = [w for e in entries for w in e["why"]]
        block = self._common(item, why, policy, lang)
        block["html"] += f"\n<p>You told us about:</p>\n<ul>{named}</ul>"
        block.update(
            level=level,
            label=ALERT_LABELS[level],
            flags=[e["flag"] for e in entries],
            actions=self._actions(level, policy),
        )
        return block

    def _warning_signs(self, policy, failsafe, lang) -> dict:
        """The warning signs every page but an emergency page carries (rule 4)."""
        item = self.catalog[WARNING_SIGNS_ALERT]
        if failsafe:
            reason = "we could not check your answers fully, so here is when to get help"
        else:
            reason = "everyone with stenosis should know the signs that need care fast"
        block = self._common(item, [{"plugin": "safety", "reason": reason}], policy, lang)
        block.update(
            level="general",
            label=ALERT_LABELS["general"],
            flags=[],
            actions=self._actions("general", policy),
        )
        return block

    def _actions(self, level, policy) -> list[dict]:
        actions = []
        emergency_tel = tel_href(policy.emergency_number)
        urgent_tel = tel_href(policy.urgent_number)
        if level in ("emergency", "general") and emergency_tel:
            actions.append(
                {"kind": "call", "label": f"Call {policy.emergency_number}", "href": emergency_tel}
            )
        if level == "emergency":
            actions.append(
                {
                    "kind": "find_care",
                    "label": "Find emergency care near you",
                    "href": policy.emergency_care_url,
                }
            )
        if level == "urgent":
            if urgent_tel:
                actions.append(
                    {"kind": "call", "label": f"Call {policy.urgent_number}", "href": urgent_tel}
                )
            actions.append(
                {"kind": "find_care", "label": "Find urgent care", "href": policy.urgent_care_url}
            )
        if level == "assess":
            if policy.booking_href:
                title = policy.booking_title or "Book with your clinic"
                actions.append({"kind": "link", "label": title, "href": policy.booking_href})
            elif isinstance(policy.find_clinician, dict):
                own = policy.find_clinician
                actions.append({"kind": "link", "label": own["title"], "href": own["href"]})
            elif policy.find_clinician is not False and "find-a-clinician" in self.catalog:
                item = self.catalog["find-a-clinician"]
                actions.append(
                    {"kind": "link", "label": item.title, "href": self._absolute(item.href)}
                )
        return actions

    def _effects(self, features) -> dict:
        """What the variations this page is part of change (docs/experiments.md): plugins
        left out, plugin weights, offers swapped. Plugins that carry safety (triage, features,
        exclusions) are never left out, and nothing here reaches levels, alerts, vetoes or the
        warning signs: the contract is enforced after it."""
        entries = features.get("experiments") or []
        merged = merge_effects(
            Assignment(e["key"], e["variation"], e["value"] or {}) for e in entries
        )
        protected = {
            name
            for hook in ("personalizer_triage", "personalizer_features", "personalizer_exclusions")
            for name, _impl in self.host.impls(hook)
        }
        merged["skip"] = frozenset(merged["disable_plugins"] - protected)
        return merged

    def _candidates(self, features, level, calls, deadline, effects, explain=False):
        scores: dict[str, float] = {}
        reasons = Reasons()
        trace = []
        offers, catalog = effects["offers"], self.catalog
        for plugin, picks in self.runner.call(
            "personalizer_candidates",
            {"features": features, "catalog": self.plugin_catalog, "level": level},
            calls,
            deadline,
            context={"catalog": self.catalog},
            skip=effects["skip"],
        ):
            weight = effects["weights"].get(plugin, 1.0)
            for pick in picks:
                score, reason = pick["score"] * weight, pick["reason"]
                ids = pick["ids"]
                if offers:
                    ids = [_swapped(item_id, offers, catalog) for item_id in ids]
                reasons.add(plugin, reason, ids)
                for item_id in ids:
                    scores[item_id] = scores.get(item_id, 0.0) + score
                if explain:
                    trace += [
                        {"plugin": plugin, "id": item_id, "score": score, "reason": reason}
                        for item_id in ids
                    ]
        return scores, reasons, trace

    def _exclusions(self, features, calls, deadline):
        catalog = self.catalog
        vetoed: dict[str, list] = {}
        trace = []
        for plugin, vetoes in self.runner.call(
            "personalizer_exclusions",
            {"features": features, "catalog": self.plugin_catalog},
            calls,
            deadline,
            context={"catalog": catalog},
        ):
            for veto in vetoes:
                vetoed.setdefault(veto["id"], []).append((plugin, veto["reason"]))
                trace.append({"plugin": plugin, **veto})
        # The engine's own vetoes (rule 5), from its own catalog and reading of the profile.
        for word in features.get("avoid", []):
            reason = f"left out: {safety.AVOID_REASONS[word]}"
            for item in catalog.involving(word):
                if all(plugin != "safety" for plugin, _ in vetoed.get(item.id, [])):
                    vetoed.setdefault(item.id, []).append(("safety", reason))
                    trace.append({"plugin": "safety", "id": item.id, "reason": reason})
        return vetoed, trace

    def _absolute(self, href: str) -> str:
        return self.site_url + href if href.startswith("/") else href

    def _block(self, item, score, reasons, policy, lang) -> dict:
        block = self._common(item, reasons.get(item.id, []), policy, lang)
        block["score"] = score
        if item.meta.get("summary"):
            block["summary"] = policy.fill(item.meta["summary"], html=False)
        return block

    def _exercise(self, block: dict, entry) -> dict:
        """An exercise with everything a person needs to do it safely (rule 7, DESIGN 4a)."""
        item = entry.item
        block.update(
            steps=list(item.steps),
            dose={**thaw(entry.dose), "text": dose_words.describe(entry.dose)},
            cautions=list(item.cautions),
            ease_off=item.step_down,
            progression=item.progression,
            variant=bool(getattr(entry, "variant", False)),
            media=[item.picture.as_media(self.public_url)] if item.picture else [],
        )
        return block

    def _cta(self, item, score, reasons, policy, lang) -> dict | None:
        """A call to action with an absolute link, its owner, and whether it is our paid
        offer; None when it has no place on this page."""
        block = self._block(item, score, reasons, policy, lang)
        if item.owner == "partner":
            if not policy.booking_href:
                return None
            block["title"] = policy.booking_title or block["title"]
            block.update(href=policy.booking_href, commercial=False, owner="partner")
            return block
        if item.origin != BUILT_IN:
            # A plugin's offer is never ours, and is held back wherever offers are.
            block.update(href=self._absolute(item.href), commercial=True, owner="plugin")
            return block
        if item.id == "find-a-clinician" and policy.find_clinician is not None:
            if policy.find_clinician is False:
                return None
            block["title"] = policy.find_clinician["title"]
            block.update(href=policy.find_clinician["href"], commercial=False, owner="partner")
            return block
        block.update(href=self._absolute(item.href), commercial=item.commercial, owner="ours")
        return block

    def _summary(self, level, entries, features) -> tuple[str, str]:
        if level in LEVEL_SUMMARY:
            return LEVEL_SUMMARY[level]
        title = "Your back and legs: a plan made for you"
        if "stage" in features:
            title = _progress_title(features, entries)
        if not entries:
            return title, (
                "This page is for someone living with lumbar spinal stenosis. It is based on "
                "the answers you gave, and says when to get help."
            )
        minutes = sum(entry.daily_minutes for entry in entries)
        return title, (
            f"This page is for someone living with lumbar spinal stenosis. Based on your "
            f"answers, it gives you {len(entries)} exercises (about {minutes} minutes a day), "
            f"what they are for, and when to get help."
        )

    def _arrange(self, blocks, features, level, calls, deadline, effects):
        """Each arrange implementation reorders the order the previous one left."""
        trace = []

        def arguments(blocks):
            summary = [{"kind": b["kind"], "id": b["id"], "score": b.get("score")} for b in blocks]
            kwargs = {"blocks": summary, "features": features, "level": level}
            return kwargs, {"ids": {b["id"] for b in blocks}}

        def apply(blocks, plugin, order):
            position = {bid: n for n, bid in enumerate(order)}
            blocks = sorted(blocks, key=lambda b: position.get(b["id"], len(position)))
            trace.append({"plugin": plugin, "order": [b["id"] for b in blocks]})
            return blocks

        blocks = self.runner.chain(
            "personalizer_arrange", blocks, arguments, apply, calls, deadline, effects["skip"]
        )
        return blocks, trace


class Reasons:
    """Why each item was picked: every distinct reason, in the order the plugins gave them.
    Worked out only for the items a page shows, not for every candidate of a large catalog."""

    def __init__(self):
        self._picks: list[tuple[dict, frozenset]] = []

    def add(self, plugin: str, reason: str, ids) -> None:
        # One entry for the items of a pick (never changed once made).
        self._picks.append(({"plugin": plugin, "reason": reason}, frozenset(ids)))

    def get(self, item_id: str, default=None) -> list[dict] | None:
        said: list[dict] = []
        for why, ids in self._picks:
            if item_id in ids and all(w["reason"] != why["reason"] for w in said):
                said.append(why)
        return said or default


def _swapped(item_id: str, offers: dict, catalog) -> str:
    """An experiment's offer swap: the other item, when it exists and is of the same kind."""
    other = offers.get(item_id)
    if other in catalog and catalog[other].kind == catalog[item_id].kind:
        return other
    return item_id


def _progress_title(features, entries) -> str:
    """Where the person is, from the coarse follow-up features (never a raw value)."""
    stage = features.get("stage", 0)
    changed = sum(1 for entry in entries if getattr(entry, "changed", False))
    if features.get("flare_up"):
        return f"Step {stage}: a lighter week while your flare-up settles"
    if features.get("legs_worse"):
        return f"Step {stage}: we have kept your routine as it was, as your legs are worse"
    if features.get("step") == "down":
        return f"Step {stage}: we have made your routine a little easier"
    if features.get("step") == "up" and changed:
        exercises = "one exercise" if changed == 1 else f"{changed} exercises"
        return f"Step {stage}: we have made {exercises} a little harder"
    if features.get("step") == "up":
        return (
            f"Step {stage}: your routine already fills your {features.get('minutes', 15)} "
            "minutes; give it a few more minutes a day to keep it growing"
        )
    return f"Step {stage}: your routine stays as it is this week"


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


def _cut(blocks, scores, vetoed, catalog, max_sections) -> list[dict]:
    """Candidates that were allowed but did not make the page, and what pushed them out."""
    shown = {b["id"] for b in blocks}
    limits = {
        "section": f"the page shows at most {max_sections} sections",
        "cta": "the page shows a few calls to action at most, or offers are not shown here",
    }
    return [
        {
            "id": item_id,
            "kind": catalog[item_id].kind,
            "score": score,
            "why": limits.get(catalog[item_id].kind, "not shown"),
        }
        for item_id, score in sorted(scores.items(), key=lambda s: -s[1])
        if item_id not in shown
        and item_id not in vetoed
        and score > 0
        and catalog[item_id].kind != "exercise"
    ]
