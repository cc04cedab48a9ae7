"""Loading plugins: entry points, broken packages, configuration, compatibility."""

import importlib
import inspect
import re
import sys
import textwrap
from pathlib import Path

import pytest

from personalizer import create_app, hookimpl, hookspecs
from personalizer.config import ROOT
from personalizer.results import CONTRACTS
from tests.support import BUILTINS, base_config

SHORT_WALK = {"symptoms": {"walking_tolerance_min": 8, "worse_with": ["walking"]}}


def install_fake_distribution(root: Path, name: str, module_source: str) -> None:
    """A module plus a dist-info with an entry point, as pip would leave them."""
    (root / f"{name}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[personalizer]\n{name} = {name}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    importlib.invalidate_caches()
    for name in [m for m in sys.modules if m.startswith("fake_")]:
        del sys.modules[name]


def test_plugin_that_fails_to_import_is_reported_and_service_starts(site):
    install_fake_distribution(site, "fake_broken", "raise ImportError('missing dependency')")
    app = create_app(base_config(LOAD_PLUGINS=BUILTINS + ["fake_broken"]))
    client = app.test_client()
    listed = {p["name"]: p for p in client.get("/v1/plugins").get_json()}
    assert listed["fake_broken"]["enabled"] is False
    assert listed["fake_broken"]["source"] == "package"
    assert "missing dependency" in listed["fake_broken"]["error"]
    assert client.post("/v1/pages", json=SHORT_WALK).status_code == 200


def test_strict_plugins_reraise(site):
    install_fake_distribution(site, "fake_strict", "raise ImportError('missing dependency')")
    with pytest.raises(ImportError):
        create_app(base_config(LOAD_PLUGINS=BUILTINS + ["fake_strict"], STRICT_PLUGINS=True))


def test_plugin_with_unknown_hook_is_rejected(site):
    install_fake_distribution(
        site,
        "fake_typo",
        """
        from personalizer import hookimpl

        @hookimpl
        def personalizer_candidate(features):
            return []
        """,
    )
    app = create_app(base_config(LOAD_PLUGINS=BUILTINS + ["fake_typo"]))
    listed = {p["name"]: p for p in app.test_client().get("/v1/plugins").get_json()}
    assert listed["fake_typo"]["enabled"] is False
    assert "personalizer_candidate" in listed["fake_typo"]["error"]


class FewerArguments:
    """Written against a hook that had only ``features``: pluggy passes just that."""

    @hookimpl
    def personalizer_candidates(self, features):
        return [{"id": "helps-cycling", "score": 50, "reason": "an older plugin says so"}]


def test_plugin_written_against_fewer_arguments_still_runs():
    app = create_app(
        base_config(EXTRA_PLUGINS=[("old", FewerArguments())], LOAD_PLUGINS=BUILTINS + ["old"])
    )
    page = app.test_client().post("/v1/pages", json={}).get_json()
    first_section = next(b for b in page["blocks"] if b["kind"] == "section")
    assert first_section["id"] == "helps-cycling"
    assert {"plugin": "old", "reason": "an older plugin says so"} in first_section["why"]


@pytest.fixture
def hello():
    try:
        return importlib.import_module("personalizer_hello")
    except ImportError:
        pytest.fail("the example plugin is not installed: pip install -e examples/hello-plugin")


def test_installed_example_package(hello):
    app = create_app(base_config(LOAD_PLUGINS=None))
    client = app.test_client()
    listed = {p["name"]: p for p in client.get("/v1/plugins").get_json()}
    assert listed["hello"]["source"] == "package"
    assert listed["hello"]["package"] == "personalizer-hello"
    assert listed["hello"]["hooks"] == ["personalizer_candidates", "personalizer_content"]
    page = client.post("/v1/pages?explain=1", json=SHORT_WALK).get_json()
    diary = next(b for b in page["blocks"] if b["id"] == "walking-diary")
    assert any(w["plugin"] == "hello" for w in diary["why"])
    picks = [c for c in page["explain"]["candidates"] if c["plugin"] == "hello"]
    assert [p["id"] for p in picks] == ["walking-diary"]
    assert "hello" in page["explain"]["plugin_ms"]


def test_disabling_the_example_by_config_removes_it(hello):
    app = create_app(base_config(LOAD_PLUGINS=None, DISABLE_PLUGINS="hello"))
    client = app.test_client()
    listed = {p["name"]: p for p in client.get("/v1/plugins").get_json()}
    assert listed["hello"]["enabled"] is False
    page = client.post("/v1/pages", json=SHORT_WALK).get_json()
    assert "walking-diary" not in [b["id"] for b in page["blocks"]]
    ids = [i["id"] for i in client.get("/v1/content").get_json()["items"]]
    assert "walking-diary" not in ids


HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("personalizer_"))


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_exact_arguments(hook):
    """As datasette checks its plugin hooks: the heading of each hook's section in
    docs/plugins.md is its name with the spec's argument list, in order."""
    docs = (ROOT / "docs" / "plugins.md").read_text()
    arguments = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### `{hook}({arguments})`" in docs.splitlines(), f"{hook}({arguments})"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_contract_row(hook):
    assert hook in CONTRACTS, f"{hook} has no row in personalizer.results.CONTRACTS"


def test_no_contract_row_without_a_hook():
    assert sorted(CONTRACTS) == HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test_named_for_it(hook):
    """A test function whose name holds the hook's own name (without the prefix) and which
    builds a plugin implementing it: ``test_..._<hook>...``."""
    short = hook.removeprefix("personalizer_")
    tests = [
        path.read_text()
        for path in (ROOT / "tests").rglob("test_*.py")
        if re.search(rf"^def test_\w*{short}\w*\(", path.read_text(), re.MULTILINE)
    ]
    assert tests, f"no test named for {hook}"
    assert any(f"def {hook}(" in text for text in tests), f"no test implements {hook}"


class EveryHook:
    """A well-behaved plugin using every hook; each one visibly changes the page."""

    @hookimpl
    def personalizer_features(self, profile):
        return {"uses_poles": "walking" in profile.get("symptoms", {}).get("eased_by", [])}

    @hookimpl
    def personalizer_triage(self, features):
        if features.get("uses_poles"):
            return [{"flag": "poles_ease_walking", "level": "assess", "reason": "poles help"}]
        return None

    @hookimpl
    def personalizer_exclusions(self, features, catalog):
        return [{"id": "bridge", "reason": "this clinic prefers other glute work"}]

    @hookimpl
    def personalizer_arrange(self, blocks, features):
        return [b["id"] for b in blocks if b["kind"] == "cta"]


def test_every_hook_is_honoured():
    app = create_app(
        base_config(EXTRA_PLUGINS=[("every", EveryHook())], LOAD_PLUGINS=BUILTINS + ["every"])
    )
    client = app.test_client()
    profile = {"symptoms": {"eased_by": ["walking"]}, "alignment": {"lumbar_lordosis_deg": 75}}
    page = client.post("/v1/pages?explain=1", json=profile).get_json()
    assert page["explain"]["features"]["uses_poles"] is True
    assert page["triage"]["level"] == "assess"
    assert page["triage"]["flags"] == ["poles_ease_walking"]
    assert page["blocks"][0]["kind"] == "alert"
    assert page["blocks"][0]["flags"] == ["poles_ease_walking"]
    ids = [b["id"] for b in page["blocks"]]
    assert "bridge" not in ids
    assert {
        "plugin": "every",
        "id": "bridge",
        "reason": "this clinic prefers other glute work",
    } in (page["explain"]["vetoes"])
    kinds = [b["kind"] for b in page["blocks"]]
    assert kinds[1] == "cta", "arrange moved the calls to action up, below the alert"
