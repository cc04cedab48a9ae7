"""The ``personalizer`` command: check content, list plugins, render and diff pages offline.

    personalizer content check [--content-dir DIR ...] [--allow-stale] [--today YYYY-MM-DD]
    personalizer plugins [--json] [--load-plugins A,B] [--disable-plugins C]
    personalizer render PROFILE.json [--explain | --html] [--pretty]
    personalizer diff PROFILE.json (--without PLUGIN | --content-dir DIR) [--json]
    personalizer experiments report KEY

Every command that builds the application does so offline: no Redis (``REDIS_URL`` is
forced to None, so the in-process cache is used) and a generous plugin time budget, since a
dry run is about what a page holds, not how fast it comes. Everything else comes from the
environment as for the service (``PERSONALIZER_*``), overridden by the options given here.

Exit codes: 0 done and clean; 1 content or plugin problems (or the app cannot start);
2 bad usage or an invalid profile.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections import Counter
from pathlib import Path

import marshmallow as ma
import orjson

from personalizer import config, safety
from personalizer.content import ContentError, load_catalog
from personalizer.schemas import ProfileSchema, flatten_errors
from personalizer.vocabulary import KINDS

OK, PROBLEMS, USAGE = 0, 1, 2

# A dry run is not a latency test: a cold process must not time plugins out on first call.
OFFLINE = {"REDIS_URL": None, "PLUGIN_BUDGET_MS": 1000, "REQUEST_DEADLINE_MS": 5000}

PLURAL = {"section": "sections", "exercise": "exercises", "cta": "ctas", "alert": "alerts"}


class CliError(Exception):
    """Stops a command with a message on stderr and an exit code."""

    def __init__(self, message: str, code: int = PROBLEMS, details: list[str] | None = None):
        super().__init__(message)
        self.code = code
        self.details = details or []


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


# -- content check -----------------------------------------------------------------------


def default_content_dirs() -> list[str]:
    """``PERSONALIZER_CONTENT_DIRS`` read as the service reads it (config.load), or the
    built-in content."""
    try:
        return list(config.load(os.environ)["CONTENT_DIRS"])
    except config.ConfigError as exc:
        raise CliError(str(exc), PROBLEMS) from None


def missing_alerts(catalog, stale: list[str]) -> list[str]:
    """The alerts the engine refuses to start without (Engine._check_alerts), as problems."""
    stale_ids = {line.split(":", 1)[0].rsplit("/", 1)[-1].removesuffix(".md") for line in stale}
    problems = []
    for level, item_id, problem in safety.missing_alerts(catalog):
        if item_id not in catalog:
            hint = " (it is stale: review it or pass --allow-stale)" if item_id in stale_ids else ""
            problems.append(f"catalog:alerts: {item_id!r} (level {level}) is missing{hint}")
        else:
            problems.append(f"{catalog[item_id].path}:level: {problem}")
    return problems


def cmd_content_check(args) -> int:
    directories = args.content_dir or default_content_dirs()
    try:
        catalog = load_catalog(directories, today=args.today, allow_stale=args.allow_stale)
    except ContentError as exc:
        for problem in exc.problems:
            _out(f"error: {problem}")
        _out(f"content check failed: {len(exc.problems)} error(s); the catalog does not load")
        return PROBLEMS
    errors = missing_alerts(catalog, catalog.stale)
    for problem in errors:
        _out(f"error: {problem}")
    for line in catalog.stale:
        if args.allow_stale:
            _out(f"warning: {line} (stale, kept because of --allow-stale)")
        else:
            _out(f"error: {line} (stale: left out of the catalog)")
    counts = Counter(item.kind for item in catalog.items.values())
    kinds = ", ".join(f"{counts.get(kind, 0)} {PLURAL[kind]}" for kind in KINDS)
    n_errors = len(errors) + (0 if args.allow_stale else len(catalog.stale))
    verdict = "ok" if n_errors == 0 else "failed"
    _out(
        f"content {verdict}: version {catalog.version}: {kinds}; "
        f"{n_errors} error(s), {len(catalog.stale)} stale"
    )
    return OK if n_errors == 0 else PROBLEMS


# -- building apps -----------------------------------------------------------------------


def app_config(args, **overrides) -> dict:
    cfg = dict(OFFLINE)
    if getattr(args, "load_plugins", None) is not None:
        cfg["LOAD_PLUGINS"] = config.as_list(args.load_plugins)
    if getattr(args, "disable_plugins", None) is not None:
        cfg["DISABLE_PLUGINS"] = config.as_list(args.disable_plugins)
    if getattr(args, "content_dirs", None):
        cfg["CONTENT_DIRS"] = list(args.content_dirs)
    cfg.update(overrides)
    return cfg


def build_app(cfg: dict):
    from personalizer import create_app

    try:
        return create_app(cfg)
    except ContentError as exc:
        raise CliError("the content does not load", PROBLEMS, exc.problems) from None
    except RuntimeError as exc:  # config.check
        raise CliError(str(exc), PROBLEMS) from None


def read_profile(path: str) -> dict:
    """The profile file (or stdin for '-') as a validated profile; CliError(2) otherwise."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}", USAGE) from None
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}", USAGE) from None
    if not isinstance(body, dict):
        raise CliError("invalid profile", USAGE, ["_body: the profile must be a JSON object"])
    try:
        return ProfileSchema().load(body)
    except ma.ValidationError as exc:
        errors = [f"{field}: {'; '.join(msgs)}" for field, msgs in flatten_errors(exc.messages)]
        raise CliError(f"invalid profile: {len(errors)} field(s) at fault", USAGE, errors) from None


def report_failures(built) -> None:
    """Plugins that failed while building (the page is then degraded): say so on stderr."""
    if built is None:
        return
    for call in built.calls.failures:
        _err(f"warning: plugin {call.plugin} left out of {call.hook}: {call.error}")


# -- plugins -----------------------------------------------------------------------------


def cmd_plugins(args) -> int:
    app = build_app(app_config(args))
    listing = app.extensions["personalizer"].plugins()
    if args.json:
        _out(json.dumps(listing, indent=2))
    else:
        header = ("name", "version", "source", "package", "enabled", "hooks", "error")
        rows = [
            (
                p["name"],
                p["version"] or "-",
                p["source"],
                p["package"] or "-",
                "yes" if p["enabled"] else "no",
                ",".join(h.removeprefix("personalizer_") for h in p["hooks"]) or "-",
                p["error"] or "",
            )
            for p in listing
        ]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            _out("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    # A plugin that failed to load is a problem worth a non-zero exit (CI for plugin authors).
    return PROBLEMS if any(p["error"] for p in listing) else OK


# -- render ------------------------------------------------------------------------------


def cmd_render(args) -> int:
    profile = read_profile(args.profile)
    app = build_app(app_config(args))
    service = app.extensions["personalizer"]
    if args.explain:
        explained = service.explain(profile)
        _out(orjson.dumps(explained, option=orjson.OPT_INDENT_2).decode())
        return OK
    fmt = "html" if args.html else "json"
    served = service.personal(service.serve(profile, fmt), fmt, orjson.dumps(profile))
    report_failures(served.built)
    if args.pretty and not args.html:
        _out(orjson.dumps(orjson.loads(served.body), option=orjson.OPT_INDENT_2).decode())
    else:
        _out(served.body.decode())
    return OK


# -- diff --------------------------------------------------------------------------------


def page_of(app, profile: dict) -> dict:
    served = app.extensions["personalizer"].serve(profile, "json")
    report_failures(served.built)
    return orjson.loads(served.body)


def longest_common_subsequence(a: list[str], b: list[str]) -> set[str]:
    """The elements of one longest common subsequence of two lists of distinct keys."""
    lengths = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            if a[i] == b[j]:
                lengths[i][j] = lengths[i + 1][j + 1] + 1
            else:
                lengths[i][j] = max(lengths[i + 1][j], lengths[i][j + 1])
    kept, i, j = set(), 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            kept.add(a[i])
            i, j = i + 1, j + 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return kept


def diff_pages(before: dict, after: dict) -> dict:
    """What changed between two pages: triage, blocks (added, removed, moved), routine."""

    def keys(page):
        return [f"{b['kind']}:{b['id']}" for b in page["blocks"]]

    old, new = keys(before), keys(after)
    old_pos = {k: n + 1 for n, k in enumerate(old)}
    new_pos = {k: n + 1 for n, k in enumerate(new)}
    removed = [{"block": k, "position": old_pos[k]} for k in old if k not in new_pos]
    added = [{"block": k, "position": new_pos[k]} for k in new if k not in old_pos]
    # Moved: blocks on both pages that are not part of the longest run of shared blocks kept
    # in the same order (a block only shifted by an insertion or removal has not moved).
    old_common = [k for k in old if k in new_pos]
    new_common = [k for k in new if k in old_pos]
    in_place = longest_common_subsequence(old_common, new_common)
    moved = [
        {"block": k, "from": old_pos[k], "to": new_pos[k]} for k in new_common if k not in in_place
    ]
    old_items = [i["id"] for i in before["routine"]["items"]]
    new_items = [i["id"] for i in after["routine"]["items"]]
    return {
        "triage": {
            "before": before["triage"]["level"],
            "after": after["triage"]["level"],
            "changed": before["triage"] != after["triage"],
        },
        "blocks": {"removed": removed, "added": added, "moved": moved},
        "routine": {
            "minutes": {
                "before": before["routine"]["minutes"],
                "after": after["routine"]["minutes"],
            },
            "removed": [i for i in old_items if i not in new_items],
            "added": [i for i in new_items if i not in old_items],
        },
        "content_version": {
            "before": before["content_version"],
            "after": after["content_version"],
        },
    }


def print_diff(diff: dict, label: str) -> None:
    _out(f"diff: baseline vs {label}")
    triage = diff["triage"]
    if triage["changed"]:
        _out(f"triage: {triage['before']} -> {triage['after']}")
    else:
        _out(f"triage: {triage['before']} (unchanged)")
    blocks = diff["blocks"]
    for entry in blocks["removed"]:
        _out(f"- removed {entry['block']} (was at {entry['position']})")
    for entry in blocks["added"]:
        _out(f"+ added {entry['block']} (at {entry['position']})")
    for entry in blocks["moved"]:
        _out(f"~ moved {entry['block']} ({entry['from']} -> {entry['to']})")
    if not any(blocks.values()):
        _out("blocks: unchanged")
    routine = diff["routine"]
    minutes = routine["minutes"]
    if minutes["before"] != minutes["after"]:
        _out(f"routine: {minutes['before']} -> {minutes['after']} minutes")
    else:
        _out(f"routine: {minutes['before']} minutes (unchanged)")
    for item_id in routine["removed"]:
        _out(f"- routine item removed: {item_id}")
    for item_id in routine["added"]:
        _out(f"+ routine item added: {item_id}")
    versions = diff["content_version"]
    if versions["before"] != versions["after"]:
        _out(f"content version: {versions['before']} -> {versions['after']}")


def cmd_diff(args) -> int:
    profile = read_profile(args.profile)
    base_cfg = app_config(args)
    baseline = build_app(base_cfg)
    if args.without:
        enabled = {p["name"] for p in baseline.extensions["personalizer"].plugins() if p["enabled"]}
        unknown = [name for name in args.without if name not in enabled]
        if unknown:
            raise CliError(
                f"not a loaded plugin: {', '.join(unknown)} (loaded: {', '.join(sorted(enabled))})",
                USAGE,
            )
        deny = list(base_cfg.get("DISABLE_PLUGINS") or []) + list(args.without)
        variant = build_app({**base_cfg, "DISABLE_PLUGINS": deny})
        label = "without " + ", ".join(args.without)
    else:
        variant = build_app({**base_cfg, "CONTENT_DIRS": list(args.variant_content)})
        label = "content from " + ", ".join(args.variant_content)
    diff = diff_pages(page_of(baseline, profile), page_of(variant, profile))
    if args.json:
        _out(json.dumps(diff, indent=2))
    else:
        print_diff(diff, label)
    return OK


# -- the parser --------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _plugin_options(parser) -> None:
    parser.add_argument(
        "--load-plugins", metavar="A,B", help="load only these plugins (comma list)"
    )
    parser.add_argument(
        "--disable-plugins", metavar="A,B", help="never load these plugins (comma list)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personalizer",
        description="Check content, list plugins, and render or compare pages offline.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    content = commands.add_parser("content", help="work on the content catalog")
    content.set_defaults(usage_parser=content)
    content_commands = content.add_subparsers(dest="content_command", metavar="COMMAND")
    check = content_commands.add_parser(
        "check", help="validate every content file; exit 1 on any error"
    )
    check.add_argument(
        "--content-dir",
        action="append",
        metavar="DIR",
        help="a content directory (repeat for several; default: the configured ones)",
    )
    check.add_argument(
        "--allow-stale",
        action="store_true",
        help="report items past their next_review date as warnings, not errors",
    )
    check.add_argument(
        "--today", type=_date, default=None, help="check review dates as of this date"
    )
    check.set_defaults(handler=cmd_content_check)

    plugins = commands.add_parser("plugins", help="list every plugin and what it implements")
    plugins.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _plugin_options(plugins)
    plugins.set_defaults(handler=cmd_plugins)

    render = commands.add_parser("render", help="build the page for a profile, offline")
    render.add_argument("profile", metavar="PROFILE.json", help="the profile file, or - for stdin")
    shape = render.add_mutually_exclusive_group()
    shape.add_argument("--html", action="store_true", help="the embeddable HTML fragment")
    shape.add_argument(
        "--explain", action="store_true", help="the page with a trace of every decision"
    )
    render.add_argument("--pretty", action="store_true", help="indent the page JSON")
    render.add_argument(
        "--content-dir",
        dest="content_dirs",
        action="append",
        metavar="DIR",
        help="use these content directories instead of the configured ones",
    )
    _plugin_options(render)
    render.set_defaults(handler=cmd_render)

    diff = commands.add_parser(
        "diff", help="what a plugin or a content directory changes on a profile's page"
    )
    diff.add_argument("profile", metavar="PROFILE.json", help="the profile file, or - for stdin")
    variant = diff.add_mutually_exclusive_group(required=True)
    variant.add_argument(
        "--without",
        action="append",
        metavar="PLUGIN",
        help="compare with this plugin disabled (repeatable)",
    )
    variant.add_argument(
        "--content-dir",
        dest="variant_content",
        action="append",
        metavar="DIR",
        help="compare with the catalog loaded from this directory (repeatable)",
    )
    diff.add_argument("--json", action="store_true", help="print the differences as JSON")
    _plugin_options(diff)
    diff.set_defaults(handler=cmd_diff)

    partners = commands.add_parser("partners", help="work on the partner registry")
    partners.set_defaults(usage_parser=partners)
    partner_commands = partners.add_subparsers(dest="partners_command", metavar="COMMAND")
    new = partner_commands.add_parser(
        "new-key", help="make a secret and a publishable key, and the hashes to store"
    )
    new.set_defaults(handler=cmd_partners_new_key)

    experiments = commands.add_parser("experiments", help="read the experiments' results")
    experiments.set_defaults(usage_parser=experiments)
    experiment_commands = experiments.add_subparsers(dest="experiments_command", metavar="COMMAND")
    report = experiment_commands.add_parser(
        "report", help="what GET /v1/experiments/KEY answers, read from the event store"
    )
    report.add_argument("key", metavar="KEY", help="the experiment's key in the payload")
    report.set_defaults(handler=cmd_experiments_report)
    return parser


def cmd_experiments_report(args) -> int:
    """The report of one experiment, as the operations endpoint gives it (JSON), from the
    experiments payload and the event store configured in the environment (REDIS_URL)."""
    from personalizer.events import EventsUnavailable, report, store_from_settings
    from personalizer.experiments import Experiments
    from personalizer.experiments_api import ReportSchema

    try:
        cfg = config.load()
        experiments = Experiments.from_settings(cfg)
    except RuntimeError as exc:  # a setting or the payload cannot work
        raise CliError(str(exc), PROBLEMS) from None
    if args.key not in experiments.definitions:
        raise CliError(f"no experiment with the key {args.key!r} in the payload", PROBLEMS)
    if not cfg["REDIS_URL"]:
        _err("note: REDIS_URL is not set, so there are no stored events to read")
    try:
        result = report(experiments, store_from_settings(cfg), args.key)
    except EventsUnavailable:
        raise CliError("the event store (Redis) cannot be read", PROBLEMS) from None
    _out(json.dumps(ReportSchema().dump(result), indent=2, sort_keys=True))
    return OK


def cmd_partners_new_key(args) -> int:
    """Print fresh keys once; only their hashes belong in the partner file."""
    from personalizer.partners import new_key

    secret, secret_hash = new_key("sk")
    public, public_hash = new_key("pk")
    print(f"secret key (give to the partner, server side only): {secret}")
    print(f"publishable key (for their web pages):               {public}")
    print("for the partner file:")
    print(f"    secret_key_sha256: {secret_hash}")
    print(f"    publishable_key_sha256: {public_hash}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else USAGE
    handler = getattr(args, "handler", None)
    if handler is None:
        getattr(args, "usage_parser", parser).print_help()
        return USAGE
    try:
        return handler(args)
    except CliError as exc:
        _err(f"error: {exc}")
        for detail in exc.details:
            _err(f"  {detail}")
        return exc.code


if __name__ == "__main__":
    sys.exit(main())
