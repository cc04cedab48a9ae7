"""Testing tools for plugin authors, loaded by pytest through the ``pytest11`` entry point.

Fixtures:
- ``personalizer_app_factory(plugins=(), **config)``: an app with the built-ins plus the
  given ``(name, plugin)`` pairs, and no other installed plugin.
- ``personalizer_render(app, profile, html=False)``: the page for a profile.

Functions:
- ``assert_conformance(plugin, name)``: hookimpl signatures match the hookspecs (pluggy's own
  validation), the safety contract holds over ``STANDARD_PROFILES`` with it installed, and
  no page depends on the requests made before it.
- ``assert_changes(plugin, name, path, profile=None)``: a JSON file
  ``{"profile", "added", "removed"}`` records what the plugin changes on that page against the
  built-ins alone. ``PERSONALIZER_UPDATE_GOLDEN=1`` rewrites it, or creates a missing one.
- ``assert_golden(app, path, profile=None)``: the whole page's blocks, in order (breaks
  whenever a built-in changes).
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pluggy
import pytest

from personalizer import hookspecs, safety
from personalizer.plugins import DEFAULT_PLUGINS

BUILTINS = [name.rpartition(".")[2] for name in DEFAULT_PLUGINS]

_BASE = {
    "alignment": {"pelvic_tilt_deg": 24, "lumbar_lordosis_deg": 70, "pelvic_obliquity_deg": 3},
    "symptoms": {
        "legs": "both",
        "worse_with": ["standing", "walking"],
        "eased_by": ["sitting", "leaning_forward"],
        "walking_tolerance_min": 10,
        "numbness": True,
        "pain_score": 5,
    },
}


def _profile(flags=(), channel="web", **symptoms) -> dict:
    profile = json.loads(json.dumps(_BASE))
    profile["symptoms"].update(symptoms)
    profile["red_flags"] = list(flags)
    profile["context"] = {"channel": channel, "minutes_per_day": 20}
    return profile


def _standard_profiles() -> list[dict]:
    flags = sorted(safety.CONTRACT_LEVELS)
    by_level = {}
    for flag in flags:
        by_level.setdefault(safety.CONTRACT_LEVELS[flag], []).append(flag)
    profiles = [_profile(), {}, _profile(channel="clinic"), _profile(worse_with=["lying_down"])]
    profiles += [_profile(weakness=True, pain_score=8)]
    profiles += [_profile([flag]) for flag in flags]
    profiles += [_profile([flag], channel="clinic") for flag in by_level["emergency"]]
    profiles += [_profile(list(pair)) for pair in itertools.combinations(flags, 2)][::7]
    profiles += [_profile([by_level[a][0] for a in ("emergency", "urgent", "assess")])]
    return profiles


STANDARD_PROFILES = _standard_profiles()


def make_app(plugins=(), **config):
    from personalizer import create_app

    plugins = list(plugins)
    settings = {
        "TESTING": True,
        "REDIS_URL": None,
        "LOAD_PLUGINS": BUILTINS + [name for name, _ in plugins],
        "EXTRA_PLUGINS": plugins,
        "PLUGIN_BUDGET_MS": 1000,
        "REQUEST_DEADLINE_MS": 5000,
        "RATE_LIMIT_ENABLED": False,
    }
    settings.update(config)
    return create_app(settings)


def render(app, profile: dict, html: bool = False, explain: bool = False):
    headers = {"Accept": "text/html"} if html else {}
    url = "/v1/pages?explain=1" if explain else "/v1/pages"
    response = app.test_client().post(url, json=profile, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True) if html else response.get_json()


def check_signatures(plugin, name: str = "plugin-under-test") -> None:
    """Raise pluggy's PluginValidationError if a hookimpl does not fit its hookspec."""
    pm = pluggy.PluginManager("personalizer")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name=name)
    pm.check_pending()


def contract_problems(app, profiles=None) -> list[str]:
    """Every safety-contract problem over the profiles, as readable lines."""
    problems = []
    for n, profile in enumerate(STANDARD_PROFILES if profiles is None else profiles):
        page = render(app, profile, explain=True)
        vetoed = {v["id"] for v in page["explain"]["vetoes"]}
        channel = profile.get("context", {}).get("channel", "web")
        for problem in safety.check(page, vetoed, commercial_allowed=channel != "clinic"):
            problems.append(f"profile {n} ({profile.get('red_flags', [])}): {problem}")
    return problems


def memory_problems(app, profiles=None) -> list[str]:
    """Pages that change with what was asked before: each profile is built (uncached) in
    one order, then again in the reverse order, and the two pages must be the same. A
    plugin that keeps state between requests could otherwise carry one person's answers
    into another person's page, and into the cache."""
    profiles = list(STANDARD_PROFILES if profiles is None else profiles)
    first = [render(app, p, explain=True)["blocks"] for p in profiles]
    again = [render(app, p, explain=True)["blocks"] for p in reversed(profiles)][::-1]
    return [
        f"profile {n}: its page changed with the requests made before it"
        for n, (a, b) in enumerate(zip(first, again, strict=True))
        if a != b
    ]


def assert_conformance(plugin, name: str, profiles=None, **config) -> None:
    """Signatures, the safety contract over the standard profiles, and no memory of
    earlier requests (see ``memory_problems``)."""
    check_signatures(plugin, name)
    app = make_app([(name, plugin)], **config)
    listed = {p["name"]: p for p in app.test_client().get("/v1/plugins").get_json()}
    assert listed[name]["enabled"], listed[name]
    problems = contract_problems(app, profiles) + memory_problems(app, profiles)
    assert not problems, "\n".join(problems)


def block_ids(page: dict) -> list[str]:
    return [f"{b['kind']}:{b['id']}" for b in page["blocks"]]


UPDATE = "PERSONALIZER_UPDATE_GOLDEN"


def _golden(path: Path, profile: dict | None, actual: dict) -> dict:
    """The golden file's expectation; with the update flag, ``actual`` is written first (a
    missing file is created from ``profile``)."""
    if path.exists():
        golden = json.loads(path.read_text())
    elif profile is None or not os.environ.get(UPDATE):
        raise AssertionError(f"{path} is missing: run with {UPDATE}=1 and a profile to create it")
    else:
        golden = {"profile": profile}
    if os.environ.get(UPDATE):
        golden.update(actual)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(golden, indent=2) + "\n")
    return golden


def plugin_changes(plugin, name: str, profile: dict, **config) -> dict:
    """What installing the plugin changes on the page for ``profile``: the blocks (as
    ``kind:id``) it adds and removes, against the built-ins alone. Changes to the built-ins
    move both pages alike, so this stays put while the plugin's effect does."""
    with_it = block_ids(render(make_app([(name, plugin)], **config), profile))
    without = block_ids(render(make_app([], **config), profile))
    return {
        "added": [b for b in with_it if b not in without],
        "removed": [b for b in without if b not in with_it],
    }


def assert_changes(plugin, name: str, path, profile: dict | None = None, **config) -> None:
    """A golden file ``{"profile", "added", "removed"}`` says what the plugin changes on that
    profile's page. ``PERSONALIZER_UPDATE_GOLDEN=1`` rewrites it, or creates it from
    ``profile`` when it is missing."""
    path = Path(path)
    if path.exists():
        profile = json.loads(path.read_text())["profile"]
    if profile is None:
        raise AssertionError(f"{path} is missing: run with {UPDATE}=1 and a profile to create it")
    actual = plugin_changes(plugin, name, profile, **config)
    golden = _golden(path, profile, actual)
    expected = {key: golden.get(key) for key in actual}
    assert actual == expected, f"{path.name}: what the plugin changes differs: {actual}"


def assert_golden(app, path, profile: dict | None = None) -> None:
    """A golden file ``{"profile", "blocks"}``: the whole page's blocks, in order. It breaks
    whenever a built-in changes; prefer ``assert_changes`` for a plugin's own tests."""
    path = Path(path)
    if path.exists():
        profile = json.loads(path.read_text())["profile"]
    if profile is None:
        raise AssertionError(f"{path} is missing: run with {UPDATE}=1 and a profile to create it")
    actual = {"blocks": block_ids(render(app, profile))}
    golden = _golden(path, profile, actual)
    assert actual["blocks"] == golden["blocks"], f"{path.name}: blocks changed"


@pytest.fixture
def personalizer_app_factory():
    return make_app


@pytest.fixture
def personalizer_render():
    return render
