"""The ``personalizer`` command (personalizer/cli.py), called as main([...])."""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from personalizer.cli import diff_pages, main
from tests.support import BUILTINS, EXAMPLE_PROFILE

REAL_CONTENT = Path(__file__).resolve().parent.parent / "content"
ONLY_BUILTINS = ["--load-plugins", ",".join(BUILTINS)]


@pytest.fixture
def content_copy(tmp_path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(REAL_CONTENT, target)
    return target


@pytest.fixture
def profile_file(tmp_path) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(EXAMPLE_PROFILE))
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


# -- content check -----------------------------------------------------------------------


def test_content_check_on_the_real_content(capsys):
    assert main(["content", "check", "--content-dir", str(REAL_CONTENT)]) == 0
    out = capsys.readouterr().out
    assert "error" not in out.replace("0 error(s)", "")
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("content ok: version ")
    for words in ("4 alerts", "4 ctas", "sections", "exercises", "0 error(s), 0 stale"):
        assert words in summary


def test_content_check_defaults_to_the_configured_content(capsys, monkeypatch):
    monkeypatch.delenv("PERSONALIZER_CONTENT_DIRS", raising=False)
    assert main(["content", "check"]) == 0
    assert capsys.readouterr().out.startswith("content ok: version ")


def test_content_check_on_a_broken_copy_names_file_and_field(capsys, content_copy):
    edit(content_copy / "exercises" / "bridge.md", "goal: glutes", "goal: wings")
    edit(content_copy / "ctas" / "find-a-clinician.md", "commercial: ", "commercial_: ")
    assert main(["content", "check", "--content-dir", str(content_copy)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert any(
        e.startswith("error: content/exercises/bridge.md:goal: Must be one of") for e in errors
    )
    assert any("content/ctas/find-a-clinician.md:commercial" in e for e in errors)
    assert any("content/ctas/find-a-clinician.md:commercial_: Unknown field" in e for e in errors)
    assert lines[-1] == f"content check failed: {len(errors)} error(s); the catalog does not load"


def test_content_check_wants_every_safety_alert(capsys, content_copy):
    (content_copy / "alerts" / "warning-signs.md").unlink()
    edit(content_copy / "alerts" / "urgent-care.md", "level: urgent", "level: assess")
    assert main(["content", "check", "--content-dir", str(content_copy)]) == 1
    out = capsys.readouterr().out
    assert "error: catalog:alerts: 'warning-signs' (level general) is missing" in out
    assert "error: content/alerts/urgent-care.md:level: must be level urgent (is assess)" in out
    assert "content failed: version " in out and "2 error(s)" in out


def test_content_check_reports_a_stale_item(capsys, content_copy):
    path = content_copy / "sections" / "reversal.md"
    text = re.sub(r"last_reviewed: \S+", "last_reviewed: 2024-01-01", path.read_text())
    path.write_text(re.sub(r"next_review: \S+", "next_review: 2025-01-01", text))
    assert main(["content", "check", "--content-dir", str(content_copy)]) == 1
    out = capsys.readouterr().out
    line = "content/sections/reversal.md:next_review: review was due 2025-01-01"
    assert f"error: {line}" in out
    assert out.strip().splitlines()[-1].endswith("1 error(s), 1 stale")

    argv = ["content", "check", "--content-dir", str(content_copy), "--allow-stale"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"warning: {line}" in out
    assert "error: " not in out
    assert out.strip().splitlines()[-1].endswith("0 error(s), 1 stale")


def test_content_check_as_of_a_later_date(capsys):
    argv = ["content", "check", "--content-dir", str(REAL_CONTENT), "--today", "2099-01-01"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "(stale: left out of the catalog)" in out
    # Stale alerts leave the catalog too, and the check says why they are missing.
    assert "'emergency-now' (level emergency) is missing (it is stale" in out


def test_content_check_missing_directory(capsys, tmp_path):
    assert main(["content", "check", "--content-dir", str(tmp_path / "nope")]) == 1
    assert "content directory not found" in capsys.readouterr().out


# -- render ------------------------------------------------------------------------------


def test_render_json_is_the_page_the_api_serves(capsys, profile_file, client):
    assert main(["render", str(profile_file), *ONLY_BUILTINS]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    page = json.loads(captured.out)
    assert page["triage"]["level"] == "assess"
    assert page["triage"]["flags"] == ["unexplained_weight_loss"]
    assert page["blocks"][0]["id"] == "get-assessed"
    assert page["routine"]["items"] and page["routine"]["minutes"] <= 15
    served = client.post("/v1/pages", json=EXAMPLE_PROFILE)
    assert captured.out.strip().encode() == served.data


def test_render_pretty(capsys, profile_file):
    assert main(["render", str(profile_file), "--pretty", *ONLY_BUILTINS]) == 0
    out = capsys.readouterr().out
    assert out.startswith('{\n  "page_id": ')
    assert json.loads(out)["triage"]["level"] == "assess"


def test_render_html(capsys, profile_file):
    assert main(["render", str(profile_file), "--html", *ONLY_BUILTINS]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith('<article class="personalizer-page"') and out.endswith("</article>")
    assert "<html" not in out and "<body" not in out
    assert 'data-triage="assess"' in out and 'data-block-id="get-assessed"' in out


def test_render_explain(capsys, profile_file):
    assert main(["render", str(profile_file), "--explain", *ONLY_BUILTINS]) == 0
    out = capsys.readouterr().out
    assert out.startswith("{\n  ")  # pretty
    explained = json.loads(out)
    trace = explained["explain"]
    assert trace["features"]["minutes"] == 15
    assert trace["features"]["red_flags"] == ["unexplained_weight_loss"]
    assert trace["features"]["flexion_relief"] is True
    assert "symptom_pattern" in trace["features_by_plugin"]
    assert set(trace["features_by_plugin"]) <= {"alignment", "symptom_pattern"}
    assert trace["failures"] == []
    assert [row["id"] for row in trace["placement"]] == [b["id"] for b in explained["blocks"]]


def test_render_reads_stdin(capsys, monkeypatch):
    profile = {"symptoms": {"worse_with": ["standing"]}, "red_flags": ["saddle_numbness"]}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(profile)))
    assert main(["render", "-", *ONLY_BUILTINS]) == 0
    page = json.loads(capsys.readouterr().out)
    assert page["triage"]["level"] == "emergency"
    assert page["routine"] == {"minutes": 0, "items": []}


def test_render_invalid_profile_names_each_path(capsys, tmp_path):
    bad = copy.deepcopy(EXAMPLE_PROFILE)
    bad["alignment"]["pelvic_tilt_deg"] = "17.5"
    bad["symptoms"]["worse_with"] = ["standing", "jogging"]
    bad["context"]["minutes_per_day"] = 90
    bad["extra"] = 1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert main(["render", str(path), *ONLY_BUILTINS]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines[0] == "error: invalid profile: 4 field(s) at fault"
    err = captured.err
    assert "  alignment.pelvic_tilt_deg: Not a valid number." in err
    assert "  symptoms.worse_with.1: Must be one of" in err
    assert "  context.minutes_per_day: Must be greater than or equal to 5" in err
    assert "  extra: Unknown field." in err


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "is not valid JSON"), ("[1, 2]", "_body: the profile must be a JSON object")],
)
def test_render_unusable_input(capsys, tmp_path, text, message):
    path = tmp_path / "p.json"
    path.write_text(text)
    assert main(["render", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_render_missing_file(capsys, tmp_path):
    assert main(["render", str(tmp_path / "none.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_render_with_broken_content_says_which_file(capsys, profile_file, content_copy):
    edit(content_copy / "exercises" / "bridge.md", "phase: strength", "phase: later")
    argv = ["render", str(profile_file), "--content-dir", str(content_copy), *ONLY_BUILTINS]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "error: the content does not load" in err
    assert "content/exercises/bridge.md:phase: " in err


# -- plugins -----------------------------------------------------------------------------


def test_plugins_json_lists_the_builtins(capsys):
    assert main(["plugins", "--json", *ONLY_BUILTINS]) == 0
    listing = json.loads(capsys.readouterr().out)
    enabled = {p["name"]: p for p in listing if p["enabled"]}
    assert sorted(enabled) == sorted(BUILTINS)
    assert len(enabled) == 7
    for entry in enabled.values():
        assert set(entry) >= {"name", "version", "source", "package", "hooks", "enabled", "error"}
        assert entry["source"] == "built-in"
        assert entry["error"] is None
        assert entry["hooks"] and all(h.startswith("personalizer_") for h in entry["hooks"])
    assert enabled["red_flags"]["hooks"] == ["personalizer_triage"]
    assert "personalizer_exclusions" in enabled["symptom_pattern"]["hooks"]
    # Anything else installed is listed, but disabled by --load-plugins.
    assert all(not p["enabled"] for p in listing if p["name"] not in BUILTINS)


def test_plugins_table_and_disable(capsys):
    argv = ["plugins", *ONLY_BUILTINS, "--disable-plugins", "education"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["name", "version", "source", "package", "enabled", "hooks", "error"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(BUILTINS) <= set(rows)
    assert rows["education"][4] == "no"
    assert rows["red_flags"][4:6] == ["yes", "triage"]
    assert {"candidates", "exclusions"} <= set(rows["symptom_pattern"][5].split(","))


# -- diff --------------------------------------------------------------------------------


def test_diff_without_education_shows_removed_sections(capsys, profile_file, client):
    assert main(["diff", str(profile_file), "--without", "education", *ONLY_BUILTINS]) == 0
    out = capsys.readouterr().out
    assert out.startswith("diff: baseline vs without education\ntriage: assess (unchanged)\n")
    removed = [
        line.split()[2] for line in out.splitlines() if line.startswith("- removed section:")
    ]
    assert removed, out
    # Each removed section was there because of education (at least in part).
    baseline = client.post("/v1/pages", json=EXAMPLE_PROFILE).get_json()
    positions = {f"{b['kind']}:{b['id']}": n + 1 for n, b in enumerate(baseline["blocks"])}
    why = {f"{b['kind']}:{b['id']}": b["why"] for b in baseline["blocks"]}
    for block in removed:
        assert any(w["plugin"] == "education" for w in why[block]), block
        assert f"- removed {block} (was at {positions[block]})" in out


def test_diff_json_without_alignment(capsys, profile_file):
    argv = ["diff", str(profile_file), "--without", "alignment", "--json", *ONLY_BUILTINS]
    assert main(argv) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["triage"] == {"before": "assess", "after": "assess", "changed": False}
    removed = {entry["block"] for entry in diff["blocks"]["removed"]}
    # proposed only because posture was measured (alignment_measured comes from alignment)
    assert "section:matched-routine" in removed
    assert diff["routine"]["removed"] or diff["routine"]["added"]
    assert diff["content_version"]["before"] == diff["content_version"]["after"]


def test_diff_without_the_triage_plugin_fails_safe(capsys, profile_file):
    # No triage implementation: the engine keeps the contract's levels, adds the general
    # warning signs and drops every exercise and commercial offer (safety rule 7).
    argv = ["diff", str(profile_file), "--without", "red_flags", "--json", *ONLY_BUILTINS]
    assert main(argv) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["triage"] == {"before": "assess", "after": "assess", "changed": False}
    assert diff["blocks"]["added"] == []  # the warning signs are on every page already
    removed = {entry["block"].partition(":")[0] for entry in diff["blocks"]["removed"]}
    assert "exercise" in removed
    assert diff["routine"]["minutes"]["after"] == 0 and diff["routine"]["added"] == []


def test_diff_with_another_content_dir(capsys, profile_file, content_copy, client):
    page = client.post("/v1/pages", json=EXAMPLE_PROFILE).get_json()
    section = next(b["id"] for b in page["blocks"] if b["kind"] == "section")
    (content_copy / "sections" / f"{section}.md").unlink()
    argv = ["diff", str(profile_file), "--content-dir", str(content_copy), *ONLY_BUILTINS]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"diff: baseline vs content from {content_copy}" in out
    assert f"- removed section:{section} (was at " in out
    assert "content version: " in out


def test_diff_unknown_plugin(capsys, profile_file):
    assert main(["diff", str(profile_file), "--without", "nope", *ONLY_BUILTINS]) == 2
    assert "not a loaded plugin: nope" in capsys.readouterr().err


def test_diff_needs_a_variant(capsys, profile_file):
    assert main(["diff", str(profile_file)]) == 2
    assert "one of the arguments --without --content-dir is required" in capsys.readouterr().err


def _page(keys, level="none", routine=()):
    blocks = [{"kind": k.split(":")[0], "id": k.split(":")[1]} for k in keys]
    items = [{"id": i} for i in routine]
    return {
        "triage": {"level": level, "flags": []},
        "blocks": blocks,
        "routine": {"minutes": len(items), "items": items},
        "content_version": "v",
    }


def test_diff_pages_moves_are_minimal():
    before = _page(
        ["alert:a", "section:b", "section:c", "section:d", "section:x", "exercise:e"], "assess", "e"
    )
    after = _page(
        ["alert:a", "section:d", "section:b", "section:c", "exercise:e", "exercise:f"], "none", "ef"
    )
    diff = diff_pages(before, after)
    assert diff["triage"] == {"before": "assess", "after": "none", "changed": True}
    assert diff["blocks"] == {
        "removed": [{"block": "section:x", "position": 5}],
        "added": [{"block": "exercise:f", "position": 6}],
        # b, c and e only shifted; d jumped ahead of them
        "moved": [{"block": "section:d", "from": 4, "to": 2}],
    }
    assert diff["routine"] == {"minutes": {"before": 1, "after": 2}, "removed": [], "added": ["f"]}
    same = diff_pages(before, before)
    assert same["blocks"] == {"removed": [], "added": [], "moved": []}


# -- usage -------------------------------------------------------------------------------


def test_usage(capsys):
    assert main([]) == 2
    assert "usage: personalizer" in capsys.readouterr().out
    assert main(["content"]) == 2
    assert "check" in capsys.readouterr().out
    assert main(["--help"]) == 0
    assert main(["render"]) == 2
    assert "PROFILE.json" in capsys.readouterr().err


def test_partners_new_key_prints_keys_and_their_hashes(capsys):
    from personalizer.partners import hash_key

    assert main(["partners", "new-key"]) == 0
    out = capsys.readouterr().out
    secret = re.search(r"\b(sk_\S+)", out).group(1)
    public = re.search(r"\b(pk_\S+)", out).group(1)
    assert f"secret_key_sha256: {hash_key(secret)}" in out
    assert f"publishable_key_sha256: {hash_key(public)}" in out
