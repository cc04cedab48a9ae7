"""Experiments: a GrowthBook SDK payload, checked at start-up, and assignment through the
GrowthBook SDK itself, so a site that runs GrowthBook with the same payload and visitor id
puts a visitor in the same variation as this service does.

    experiments = Experiments.from_settings(cfg, known_plugins=..., catalog=...)
    experiments.assign(visitor_id, {"channel": "web"})  # -> [Assignment(key, variation, value)]

The payload is GrowthBook's SDK payload (``{"features": {...}}``): each feature carries
experiment rules (``variations``, ``weights``, ``coverage``, ``seed``, ``hashVersion: 2``,
optionally ``condition``, ``namespace``, ``filters``, ``ranges``). A variation's value says
what it changes on a page, and nothing else:

    {"disable_plugins": ["education"], "enable_plugins": ["hello"],
     "weights": {"calls_to_action": 1.5},
     "offer": {"replace": "posture-assessment", "with": "posture-assessment-short"}}

Every value is checked when the payload loads; a payload that cannot work stops start-up
with a message naming the file and the field. Force rules (a value for everyone, without a
measurement), hashing on anything but ``id``, hash version 1, and any value that touches the
red-flags plugin are refused.

Privacy: the visitor id is only ever the GrowthBook attribute ``id`` of one evaluation. It is
not kept, logged, or returned: an ``Assignment`` holds the experiment key, the variation index
and the value, which are the same for everyone in that variation.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from growthbook.common_types import (
    EvaluationContext,
    Feature,
    GlobalContext,
    Options,
    StackContext,
    UserContext,
)
from growthbook.core import chooseVariation, eval_feature, gbhash, getBucketRanges

log = logging.getLogger(__name__)

VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
PLUGIN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CONTENT_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

# Plugins no experiment may switch off or re-weight: triage is never an experiment.
PROTECTED_PLUGINS = frozenset({"red_flags"})
VALUE_KEYS = frozenset({"disable_plugins", "enable_plugins", "weights", "offer"})
MAX_WEIGHT = 10.0
MAX_FEATURES = 50
MAX_VARIATIONS = 10

# Rule fields understood here; anything else in an experiment rule is refused, so a payload
# feature this service would silently ignore never looks like it runs.
RULE_KEYS = frozenset(
    {
        "id",
        "key",
        "variations",
        "weights",
        "coverage",
        "condition",
        "namespace",
        "hashAttribute",
        "hashVersion",
        "seed",
        "ranges",
        "meta",
        "filters",
        "name",
        "phase",
        "bucketVersion",
        "minBucketVersion",
        "disableStickyBucketing",
        "parentConditions",
    }
)


class ExperimentsError(RuntimeError):
    """A payload that cannot work; the message names its source and every field at fault."""

    def __init__(self, source: str, problems: list[str]):
        super().__init__(f"experiments payload {source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class Assignment:
    """One experiment a visitor is in: its key, the variation (0 = control) and the value."""

    key: str
    variation: int
    value: dict = field(hash=False)


@dataclass(frozen=True)
class Definition:
    """What the report needs to know about one experiment."""

    key: str
    feature: str
    variations: int
    weights: tuple[float, ...]
    name: str | None = None


# -- checking a payload --------------------------------------------------------------------


def _is_number(value) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _check_names(path, value, problems, known) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{path}: must be a list of plugin names")
        return []
    if len(set(value)) != len(value):
        problems.append(f"{path}: a plugin is listed twice")
    for name in value:
        if not PLUGIN.fullmatch(name):
            problems.append(f"{path}: {name[:64]!r} is not a plugin name")
        elif name in PROTECTED_PLUGINS:
            problems.append(f"{path}: {name} is never part of an experiment (safety)")
        elif known is not None and name not in known:
            problems.append(f"{path}: no plugin named {name!r}")
    return value


def check_value(path: str, value, problems: list[str], known_plugins=None, catalog=None) -> None:
    """A variation's value (or a feature's default value): what it changes on a page."""
    if not isinstance(value, dict):
        problems.append(f"{path}: must be an object (what the variation changes)")
        return
    for key in value:
        if key not in VALUE_KEYS:
            problems.append(
                f"{path}.{str(key)[:64]}: unknown (one of {', '.join(sorted(VALUE_KEYS))})"
            )
    off = _check_names(
        f"{path}.disable_plugins", value.get("disable_plugins", []), problems, known_plugins
    )
    on = _check_names(
        f"{path}.enable_plugins", value.get("enable_plugins", []), problems, known_plugins
    )
    both = set(off) & set(on)
    if both:
        problems.append(f"{path}: {', '.join(sorted(both))} both enabled and disabled")
    weights = value.get("weights", {})
    if not isinstance(weights, dict):
        problems.append(f"{path}.weights: must be an object of plugin: number")
    else:
        for name, weight in weights.items():
            _check_names(f"{path}.weights", [name], problems, known_plugins)
            if not _is_number(weight) or not 0 <= weight <= MAX_WEIGHT:
                problems.append(
                    f"{path}.weights.{name[:64]}: must be a number from 0 to {MAX_WEIGHT:g}"
                )
    if "offer" in value:
        _check_offer(f"{path}.offer", value["offer"], problems, catalog)


def _check_offer(path, offer, problems, catalog) -> None:
    if not isinstance(offer, dict) or set(offer) != {"replace", "with"}:
        problems.append(f'{path}: must be {{"replace": content_id, "with": content_id}}')
        return
    ids = []
    for side in ("replace", "with"):
        item = offer[side]
        if not isinstance(item, str) or not CONTENT_ID.fullmatch(item):
            problems.append(f"{path}.{side}: must be a content id")
        elif catalog is not None and item not in catalog:
            problems.append(f"{path}.{side}: no content item {item!r}")
        else:
            ids.append(item)
    if len(ids) == 2:
        if ids[0] == ids[1]:
            problems.append(f"{path}: replaces an item with itself")
        elif catalog is not None and catalog[ids[0]] != catalog[ids[1]]:
            problems.append(
                f"{path}: {ids[0]} ({catalog[ids[0]]}) and {ids[1]} ({catalog[ids[1]]}) "
                "are not the same kind of block"
            )


def _check_rule(path, rule, problems, known_plugins, catalog) -> None:
    if not isinstance(rule, dict):
        problems.append(f"{path}: must be an object")
        return
    if "force" in rule:
        problems.append(
            f"{path}.force: only experiment rules are run here (a force rule changes "
            "every page without measuring anything)"
        )
    for key in rule:
        if key not in RULE_KEYS and key != "force":
            problems.append(f"{path}.{str(key)[:64]}: not understood by this service")
    variations = rule.get("variations")
    if not isinstance(variations, list) or not 2 <= len(variations) <= MAX_VARIATIONS:
        problems.append(f"{path}.variations: must be a list of 2 to {MAX_VARIATIONS} values")
        variations = []
    for i, value in enumerate(variations):
        check_value(f"{path}.variations[{i}]", value, problems, known_plugins, catalog)
    if rule.get("hashVersion") != 2:
        problems.append(f"{path}.hashVersion: must be 2")
    if rule.get("hashAttribute", "id") != "id":
        problems.append(f"{path}.hashAttribute: must be id (the visitor id)")
    key = rule.get("key")
    if key is not None and (not isinstance(key, str) or not KEY.fullmatch(key)):
        problems.append(f"{path}.key: must be 1-64 letters, digits, '.', '_' or '-'")
    if "seed" in rule and not isinstance(rule["seed"], str):
        problems.append(f"{path}.seed: must be text")
    weights = rule.get("weights")
    if weights is not None and (
        not isinstance(weights, list)
        or len(weights) != len(variations)
        or not all(_is_number(w) and w >= 0 for w in weights)
        or not 0.99 <= sum(weights) <= 1.01
    ):
        problems.append(f"{path}.weights: one number per variation, each at least 0, summing to 1")
    coverage = rule.get("coverage")
    if coverage is not None and (not _is_number(coverage) or not 0 <= coverage <= 1):
        problems.append(f"{path}.coverage: must be a number from 0 to 1")
    namespace = rule.get("namespace")
    if namespace is not None and not (
        isinstance(namespace, list)
        and len(namespace) == 3
        and isinstance(namespace[0], str)
        and _is_number(namespace[1])
        and _is_number(namespace[2])
        and 0 <= namespace[1] < namespace[2] <= 1
    ):
        problems.append(f"{path}.namespace: must be [name, start, end] with 0 <= start < end <= 1")
    ranges = rule.get("ranges")
    if ranges is not None and not (
        isinstance(ranges, list)
        and len(ranges) == len(variations)
        and all(
            isinstance(r, list)
            and len(r) == 2
            and all(_is_number(x) for x in r)
            and 0 <= r[0] <= r[1] <= 1
            for r in ranges
        )
    ):
        problems.append(f"{path}.ranges: one [start, end] per variation, within 0..1")
    for name in ("condition",):
        if name in rule and not isinstance(rule[name], dict):
            problems.append(f"{path}.{name}: must be an object")
    for name in ("filters", "meta", "parentConditions"):
        if name in rule and not isinstance(rule[name], list):
            problems.append(f"{path}.{name}: must be a list")


def check_payload(
    payload, known_plugins: Iterable[str] | None = None, catalog: Mapping[str, str] | None = None
) -> list[str]:
    """Every problem of a payload, each naming its field; [] when it can run.

    ``known_plugins`` (plugin names) and ``catalog`` (content id -> kind), when given, are
    checked against what the values name."""
    problems: list[str] = []
    known = None if known_plugins is None else set(known_plugins)
    if not isinstance(payload, dict):
        return ["the payload must be a JSON object with a features object"]
    if "encryptedFeatures" in payload or "encryptedSavedGroups" in payload:
        problems.append(
            "encryptedFeatures: an encrypted payload is not supported; "
            "turn encryption off for this SDK connection"
        )
    if payload.get("experiments"):
        problems.append("experiments: auto (visual editor) experiments are not run here")
    features = payload.get("features")
    if not isinstance(features, dict):
        return [*problems, "features: must be an object of feature key: feature"]
    if len(features) > MAX_FEATURES:
        problems.append(f"features: at most {MAX_FEATURES} features")
    if "savedGroups" in payload and not isinstance(payload["savedGroups"], dict):
        problems.append("savedGroups: must be an object")
    seen: dict[str, str] = {}
    for fkey, feature in features.items():
        path = f"features.{str(fkey)[:64]}"
        if not isinstance(fkey, str) or not KEY.fullmatch(fkey):
            problems.append(f"{path}: a feature key is 1-64 letters, digits, '.', '_' or '-'")
            continue
        if not isinstance(feature, dict):
            problems.append(f"{path}: must be an object")
            continue
        for key in feature:
            if key not in ("defaultValue", "rules"):
                problems.append(f"{path}.{str(key)[:64]}: not understood by this service")
        if feature.get("defaultValue") is not None:
            check_value(f"{path}.defaultValue", feature["defaultValue"], problems, known, catalog)
        rules = feature.get("rules", [])
        if not isinstance(rules, list):
            problems.append(f"{path}.rules: must be a list")
            continue
        for i, rule in enumerate(rules):
            _check_rule(f"{path}.rules[{i}]", rule, problems, known, catalog)
            key = (rule.get("key") if isinstance(rule, dict) else None) or fkey
            if isinstance(key, str):
                if key in seen:
                    problems.append(
                        f"{path}.rules[{i}].key: experiment {key!r} is also run by {seen[key]}"
                    )
                seen[key] = f"{path}.rules[{i}]"
    return problems


PLAIN_KEYS = frozenset(
    {
        "id",
        "key",
        "variations",
        "weights",
        "coverage",
        "hashAttribute",
        "hashVersion",
        "seed",
        "ranges",
        "meta",
        "name",
        "phase",
        "bucketVersion",
        "minBucketVersion",
        "disableStickyBucketing",
    }
)


def _plain(rule) -> bool:
    """A rule whose outcome is the hash and the buckets alone."""
    return (
        isinstance(rule, dict)
        and set(rule) <= PLAIN_KEYS
        and isinstance(rule.get("variations"), list)
        and len(rule["variations"]) >= 2
        and rule.get("hashAttribute", "id") in ("id", None)
        and not any(isinstance(m, dict) and m.get("passthrough") for m in rule.get("meta") or [])
    )


# -- the experiments ------------------------------------------------------------------------


class Experiments:
    """The loaded payload: assignment through the GrowthBook SDK, and each experiment's
    definition for the report. Immutable after construction; safe to share between threads."""

    def __init__(self, payload: dict | None = None, source: str = "(none)", fast: bool = True):
        payload = payload or {"features": {}}
        self.source = source
        self.payload = payload
        features = payload.get("features", {})
        self._features = tuple(sorted(features))
        self._values: dict[tuple[str, int], bytes] = {}
        self.definitions: dict[str, Definition] = {}
        for fkey in self._features:
            for rule in features[fkey].get("rules", []):
                key = rule.get("key") or fkey
                n = len(rule["variations"])
                weights = rule.get("weights") or [1 / n] * n
                self.definitions[key] = Definition(
                    key, fkey, n, tuple(float(w) for w in weights), rule.get("name")
                )
                for i, value in enumerate(rule["variations"]):
                    self._values[(key, i)] = orjson.dumps(value)
        self._global = GlobalContext(
            options=Options(api_host=None),
            features={
                k: Feature(
                    rules=features[k].get("rules", []), defaultValue=features[k].get("defaultValue")
                )
                for k in self._features
            },
            saved_groups=payload.get("savedGroups") or {},
        )
        # Features whose only rule is a plain split (no condition, filter, namespace,
        # prerequisite or passthrough) are bucketed with the SDK's own hash and bucket functions
        # directly: the steps of its evaluation that could change the outcome are all absent
        # (no URL, forced variation, QA mode or sticky bucketing here), so the result is the
        # same (tests/test_experiments.py compares both ways) at a sixth of the cost.
        self._plain: dict[str, tuple] = {}
        for fkey in self._features if fast else ():
            rules = features[fkey].get("rules", [])
            if len(rules) == 1 and _plain(rules[0]):
                rule = rules[0]
                key = rule.get("key") or fkey
                c = rule.get("coverage")
                ranges = [tuple(r) for r in rule["ranges"]] if rule.get("ranges") else None
                ranges = ranges or getBucketRanges(
                    len(rule["variations"]), c if c is not None else 1, rule.get("weights")
                )
                self._plain[fkey] = (
                    key,
                    rule.get("seed") or key,
                    rule.get("hashVersion") or 1,
                    ranges,
                )

    # -- loading

    @classmethod
    def load(cls, payload, source: str, known_plugins=None, catalog=None) -> Experiments:
        """The payload checked; ExperimentsError naming the source and every problem."""
        problems = check_payload(payload, known_plugins, catalog)
        if problems:
            raise ExperimentsError(source, problems)
        return cls(payload, source)

    @classmethod
    def from_file(cls, path, known_plugins=None, catalog=None) -> Experiments:
        source = str(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise ExperimentsError(source, [f"cannot be read ({exc.strerror})"]) from None
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ExperimentsError(source, [f"is not valid JSON ({exc})"]) from None
        return cls.load(payload, source, known_plugins, catalog)

    @classmethod
    def from_settings(cls, cfg: Mapping, known_plugins=None, catalog=None) -> Experiments:
        """From ``EXPERIMENTS_API_HOST`` when set and reachable, else ``EXPERIMENTS_FILE``,
        else no experiments. A broken file stops start-up; an API host that cannot be reached
        or sends a payload that cannot work is logged and the file is used instead."""
        host, path = cfg.get("EXPERIMENTS_API_HOST"), cfg.get("EXPERIMENTS_FILE")
        if host:
            try:
                payload = fetch_payload(
                    host, cfg["EXPERIMENTS_CLIENT_KEY"], cfg.get("EXPERIMENTS_API_TIMEOUT_S", 2.0)
                )
                return cls.load(payload, f"from {host}", known_plugins, catalog)
            except (OSError, ValueError, ExperimentsError) as exc:
                fallback = f"using {path}" if path else "running no experiments"
                log.warning("experiments: %s unusable (%s); %s", host, _short(exc), fallback)
        if path:
            return cls.from_file(path, known_plugins, catalog)
        return cls()

    # -- assignment

    def __bool__(self) -> bool:
        return bool(self.definitions)

    def assign(self, visitor_id: str | None, attributes: Mapping | None = None) -> list[Assignment]:
        """The experiments this visitor is in, ordered by key. GrowthBook's attribute ``id``
        is the visitor id; ``attributes`` are the other attributes conditions may read (such as
        ``channel``), never a profile value. No (valid) visitor id: no experiments."""
        if not self._features or not isinstance(visitor_id, str):
            return []
        if not VISITOR_ID.fullmatch(visitor_id):
            return []
        user = UserContext(attributes={**(attributes or {}), "id": visitor_id})
        context = EvaluationContext(user=user, global_ctx=self._global, stack=StackContext())
        found = []
        for fkey in self._features:
            plain = self._plain.get(fkey)
            if plain is not None:
                key, seed, version, ranges = plain
                n = gbhash(seed, visitor_id, version)
                variation = -1 if n is None else chooseVariation(n, ranges)
                if variation >= 0:
                    found.append(Assignment(key, variation, self.value(key, variation)))
                continue
            context.stack = StackContext(evaluated_features=set())
            result = eval_feature(fkey, context)
            run = result.experimentResult
            if result.source != "experiment" or run is None or not run.inExperiment:
                continue
            key = result.experiment.key
            found.append(Assignment(key, run.variationId, self.value(key, run.variationId)))
        found.sort(key=lambda a: a.key)
        return found

    def value(self, key: str, variation: int) -> dict | None:
        raw = self._values.get((key, variation))
        return None if raw is None else orjson.loads(raw)


# -- helpers for the engine -------------------------------------------------------------------


def without_visitor(profile: dict) -> tuple[dict, str | None]:
    """The profile without ``context.visitor_id`` (a shallow copy: the original is not
    touched), and the visitor id. Plugins, features, the decision key and every cached value
    get the first; only ``Experiments.assign`` ever gets the second."""
    context = profile.get("context")
    if not isinstance(context, dict) or "visitor_id" not in context:
        return profile, None
    context = dict(context)
    visitor = context.pop("visitor_id")
    return {**profile, "context": context}, visitor


def decision_part(assignments: Iterable[Assignment]) -> list[list]:
    """What the decision key holds of the experiments: ``[[key, variation], ...]`` in key
    order (the same for everyone in those variations; never the visitor id)."""
    return sorted([a.key, a.variation] for a in assignments)


def page_entries(assignments: Iterable[Assignment]) -> list[dict]:
    """The page's ``experiments`` list: ``[{key, variation, value}]`` in key order."""
    return [
        {"key": a.key, "variation": a.variation, "value": a.value}
        for a in sorted(assignments, key=lambda a: a.key)
    ]


def merge_effects(assignments: Iterable[Assignment]) -> dict:
    """The effects of every variation a visitor is in, as one value, resolved the cautious
    way when experiments overlap: a plugin any of them disables stays disabled (an
    ``enable_plugins`` of another does not bring it back), weights of one plugin multiply,
    and when two experiments replace the same item the first by key decides.

    ``{"disable_plugins": set, "enable_plugins": set, "weights": {plugin: factor},
    "offers": {content_id: content_id}}``"""
    disable, enable, weights, offers = set(), set(), {}, {}
    for assignment in sorted(assignments, key=lambda a: a.key):
        value = assignment.value
        disable.update(value.get("disable_plugins", ()))
        enable.update(value.get("enable_plugins", ()))
        for plugin, factor in value.get("weights", {}).items():
            weights[plugin] = weights.get(plugin, 1.0) * factor
        offer = value.get("offer")
        if offer:
            offers.setdefault(offer["replace"], offer["with"])
    return {
        "disable_plugins": disable,
        "enable_plugins": enable - disable,
        "weights": weights,
        "offers": offers,
    }


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."


def fetch_payload(host: str, client_key: str, timeout: float) -> dict:
    """The SDK payload from a GrowthBook API host (``GET /api/features/<client key>``), in one
    try within ``timeout`` seconds. Raises OSError or ValueError."""
    import urllib3

    url = f"{host}/api/features/{client_key}"
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False
    )
    try:
        response = http.request("GET", url, headers={"Accept": "application/json"})
    except urllib3.exceptions.HTTPError as exc:
        raise OSError(f"cannot reach the API host ({type(exc).__name__})") from None
    finally:
        http.clear()
    if response.status != 200:
        raise OSError(f"the API host answered {response.status}")
    try:
        return orjson.loads(response.data)
    except orjson.JSONDecodeError:
        raise ValueError("the API host did not send JSON") from None


# -- analysis (gbstats) ----------------------------------------------------------------------

SRM_THRESHOLD = 0.001  # GrowthBook's default: below this p-value the split is suspect


def analyse(definition: Definition, counts: list[dict]) -> dict:
    """The report of one experiment from per-variation counts
    (``[{"visitors": n, "conversions": {event: count}}]``, index = variation), with GrowthBook's
    stats engine: relative uplift against variation 0 with its 95 % credible interval, chance
    to beat control (Bayesian, GrowthBook's default engine), and the sample-ratio-mismatch
    p-value (chi-squared against the configured weights)."""
    # gbstats pulls in scipy and pandas (about a second): only when a report is asked for.
    from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
    from gbstats.models.statistics import ProportionStatistic
    from gbstats.utils import check_srm

    visitors = [c["visitors"] for c in counts]
    srm_p = float(check_srm(visitors, list(definition.weights)))
    events = sorted({e for c in counts for e in c["conversions"]})
    control = counts[0]
    out = []
    for index, c in enumerate(counts):
        n = c["visitors"]
        row = {
            "variation": index,
            "visitors": n,
            "conversions": {e: c["conversions"].get(e, 0) for e in events},
            "rate": {e: (c["conversions"].get(e, 0) / n if n else 0.0) for e in events},
            "uplift": {},
            "chance_to_win": {},
        }
        if index:
            for e in events:
                a = ProportionStatistic(n=control["visitors"], sum=control["conversions"].get(e, 0))
                b = ProportionStatistic(n=n, sum=c["conversions"].get(e, 0))
                result = EffectBayesianABTest(
                    a, b, EffectBayesianConfig(difference_type="relative")
                ).compute_result()
                if result.error_message:
                    row["uplift"][e] = {
                        "value": None,
                        "ci": [None, None],
                        "note": result.error_message,
                    }
                    row["chance_to_win"][e] = None
                    continue
                row["uplift"][e] = {
                    "value": float(result.expected),
                    "ci": [float(result.ci[0]), float(result.ci[1])],
                }
                row["chance_to_win"][e] = float(result.chance_to_win)
        out.append(row)
    return {
        "key": definition.key,
        "srm_p": srm_p,
        "srm_warning": srm_p < SRM_THRESHOLD,
        "weights": list(definition.weights),
        "variations": out,
    }
