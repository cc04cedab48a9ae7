"""Every setting, its type and range, in one table; read from the environment and checked at
start-up, for the service and the ``personalizer`` command alike.

Every key can be set as an environment variable prefixed ``PERSONALIZER_``. Values are read
as JSON where they can be (``PERSONALIZER_CACHE_TTL=600`` is a number, ``["a", "b"]`` a list)
and then checked against the setting's type: a JSON string where a number is wanted
(``PERSONALIZER_MAX_SECTIONS='"6"'``) is refused, a list may also be given as a comma list
(``PERSONALIZER_CONTENT_DIRS=content`` is one directory), text settings keep the text as
written (``PERSONALIZER_EMERGENCY_NUMBER=000`` stays ``"000"``). ``REDIS_URL`` is also read
without the prefix, as most platforms set it that way. A value that cannot work stops
start-up with a message naming the variable.

    values = config.load(os.environ, overrides)   # a dict of every setting, typed
    config.check(app.config)                      # the same checks on a Flask config, in place
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def bundled_content() -> str:
    """The built-in content: installed as the package ``personalizer_content`` (a wheel, or
    an editable install mapping it to content/), else content/ beside the package."""
    spec = importlib.util.find_spec("personalizer_content")
    if spec is not None and spec.submodule_search_locations:
        return str(next(iter(spec.submodule_search_locations)))
    return str(ROOT / "content")


DEV_SECRET = "dev-only-cache-key-secret"
DEV_EVENTS_SECRET = "dev-only-events-key-secret"
PREFIX = "PERSONALIZER_"


class ConfigError(RuntimeError):
    """Settings that cannot work; the message names each variable at fault."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid configuration: " + "; ".join(problems))
        self.problems = problems


# -- value kinds: each takes a value (from JSON, from text, or from Python) and returns the
#    typed value, or raises ValueError with what is wanted -----------------------------------


def _number(value, integer: bool, low, high):
    kind = "an integer" if integer else "a number"
    wanted = f"{kind} from {low} to {high}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be {wanted}")
    if integer and not isinstance(value, int):
        if not float(value).is_integer():
            raise ValueError(f"must be {wanted}")
        value = int(value)
    if value != value or not low <= value <= high:  # NaN, or out of range
        raise ValueError(f"must be {wanted}")
    return value


def integer(low: int, high: int) -> Callable:
    return lambda value: _number(value, True, low, high)


def number(low: float, high: float) -> Callable:
    return lambda value: _number(value, False, low, high)


TRUE, FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError("must be true or false")


def text(low: int = 1, high: int = 200) -> Callable:
    def check(value) -> str:
        if not isinstance(value, str) or not low <= len(value) <= high:
            raise ValueError(f"must be text of {low} to {high} characters")
        if any(ord(c) < 32 for c in value):
            raise ValueError("must not hold control characters")
        return value

    return check


def as_list(value) -> list[str] | None:
    """A comma-separated string or a list, as a list; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def names(value) -> list[str]:
    """A list of non-empty strings: a JSON list, or a comma list (one item without a comma)."""
    if isinstance(value, str | Path):
        value = as_list(str(value))
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str | Path) and str(v).strip() for v in value
    ):
        raise ValueError('must be a list of names: a JSON list (["a", "b"]) or a comma list (a,b)')
    return [str(v).strip() for v in value]


def optional(kind: Callable) -> Callable:
    return lambda value: None if value is None or value == "" else kind(value)


def rate_limit_string(value) -> str:
    """A rate limit as the limits library reads it ("120 per minute", "10/second; 500/hour"),
    each amount at least 1. Refused at start-up, so a typo can never switch limiting off."""
    from limits import parse_many

    if not isinstance(value, str):
        raise ValueError('must be a rate limit such as "120 per minute"')
    try:
        items = parse_many(value)
    except ValueError:
        raise ValueError(
            f'{value!r} is not a rate limit (write it like "120 per minute" or "10/second")'
        ) from None
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(f"{value!r}: every amount must be at least 1")
    return value


URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s?#]*)?")


def base_url(value) -> str:
    """An absolute http(s) URL without a trailing slash, query or fragment."""
    if not isinstance(value, str) or not URL.fullmatch(value) or value.endswith("/"):
        raise ValueError("must be an absolute http(s) URL without a trailing slash")
    return value


REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "redis+sentinel")


def redis_url(value) -> str | None:
    if value is None or value == "":
        return None
    scheme = value.partition("://")[0] if isinstance(value, str) else ""
    if scheme not in REDIS_SCHEMES or not value.partition("://")[2]:
        raise ValueError(f"must be a URL with one of the schemes {', '.join(REDIS_SCHEMES)}")
    return value


# -- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    kind: Callable
    text: bool = False  # read the environment's text as it is, never as JSON
    env: str | None = None  # the variable's name, when not PREFIX + key
    documented: bool = True  # internal settings (set from Python only) are not in the README

    @property
    def variable(self) -> str:
        return self.env or PREFIX + self.key


SETTINGS = (
    Setting("CONTENT_DIRS", [bundled_content()], names),
    Setting("ALLOW_STALE_CONTENT", False, boolean),
    Setting("REDIS_URL", None, redis_url, text=True, env="REDIS_URL"),
    Setting("REDIS_TIMEOUT_S", 0.25, number(0.001, 60)),
    Setting("CACHE_PREFIX", "personalizer:page:", text(1, 100), text=True),
    Setting("CACHE_TTL", 3600, integer(1, 30 * 86400)),
    Setting("LOCAL_CACHE_SIZE", 2048, integer(1, 10**7)),
    Setting("CACHE_KEY_SECRET", DEV_SECRET, text(1, 1000), text=True),
    Setting("BUILD_WAIT_MS", 1000, integer(1, 60_000)),
    Setting("PLUGIN_BUDGET_MS", 50, number(1, 60_000)),
    Setting("REQUEST_DEADLINE_MS", 2000, number(1, 120_000)),
    Setting("QUARANTINE_AFTER", 5, integer(1, 10**9)),
    Setting("QUARANTINE_SECONDS", 60, number(0, 86_400)),
    Setting("LOAD_PLUGINS", None, optional(names)),
    Setting("DISABLE_PLUGINS", [], names),
    Setting("STRICT_PLUGINS", False, boolean),
    Setting("EXTRA_PLUGINS", [], lambda value: list(value), documented=False),
    Setting("MAX_SECTIONS", 6, integer(1, 50)),
    Setting("MAX_CTAS", 2, integer(0, 10)),
    Setting("MAX_CONTENT_LENGTH", 64 * 1024, integer(1, 16 * 1024 * 1024)),
    Setting("EMERGENCY_NUMBER", "your local emergency number", text(1, 80), text=True),
    Setting("EMERGENCY_SERVICE", "the nearest emergency department", text(1, 80), text=True),
    Setting("URGENT_NUMBER", "your doctor's surgery or urgent-care line", text(1, 80), text=True),
    Setting("URGENT_SERVICE", "an urgent-care service", text(1, 80), text=True),
    Setting("COMMERCIAL_CTAS", True, boolean),
    Setting("PARTNERS_FILE", None, optional(text(1, 4096)), text=True),
    Setting("REQUIRE_PARTNER_KEY", False, boolean),
    Setting("RATE_LIMIT", "120 per minute", rate_limit_string, text=True),
    Setting("RATE_LIMIT_ENABLED", True, boolean),
    Setting("BROWSER_RATE_LIMIT", "30 per minute", rate_limit_string, text=True),
    Setting("AUTH_FAILURE_LIMIT", "10 per minute", rate_limit_string, text=True),
    # Absolute links on pages: the service's own public address (pictures) and the address
    # of our site, which the calls to action written as paths ("/find-a-clinician") lead to.
    Setting("PUBLIC_URL", "http://127.0.0.1:8000", base_url, text=True),
    Setting("SITE_URL", "http://127.0.0.1:8000", base_url, text=True),
    # Operations endpoints (/metrics, /v1/plugins, /docs, /openapi.json) need this bearer token
    # when it is set; open when unset (local use). Set it in production.
    Setting("OPS_TOKEN", None, optional(text(16, 500)), text=True),
    # Reverse proxies in front that set X-Forwarded-For/-Proto (nginx of deploy/: 1).
    Setting("PROXY_HOPS", 0, integer(0, 5)),
    # Experiments (personalizer/experiments.py): a GrowthBook SDK payload from a file, or from
    # a GrowthBook API host (with the file as fallback when the host cannot be reached).
    Setting("EXPERIMENTS_FILE", None, optional(text(1, 4096)), text=True),
    Setting("EXPERIMENTS_API_HOST", None, optional(base_url), text=True),
    Setting("EXPERIMENTS_CLIENT_KEY", None, optional(text(1, 200)), text=True),
    Setting("EXPERIMENTS_API_TIMEOUT_S", 2.0, number(0.05, 30)),
    # Outcome events (personalizer/events.py): visitor ids are kept only as an HMAC with this
    # secret; each Redis stream keeps at most EVENTS_MAXLEN entries for EVENTS_RETENTION_DAYS.
    Setting("EVENTS_KEY_SECRET", DEV_EVENTS_SECRET, text(16, 1000), text=True),
    Setting("EVENTS_MAXLEN", 1_000_000, integer(1000, 10**8)),
    Setting("EVENTS_RETENTION_DAYS", 90, integer(1, 3650)),
)
BY_KEY = {s.key: s for s in SETTINGS}
DEFAULTS = {s.key: s.default for s in SETTINGS}

# Read by gunicorn.conf.py, not by the app; in the README's table too.
GUNICORN = (
    Setting("BIND", "127.0.0.1:8000", text(1, 200), text=True, env="BIND"),
    Setting("WEB_CONCURRENCY", 2, integer(1, 64), env="WEB_CONCURRENCY"),
)


def _from_env(setting: Setting, raw: str):
    if setting.text:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _describe(value) -> str:
    if isinstance(value, str):
        return f"{value!r} (text)"
    return repr(value)


def _apply(setting: Setting, value, problems: list[str]):
    try:
        return setting.kind(value)
    except (ValueError, TypeError) as exc:
        problems.append(f"{setting.variable} {exc}, not {_describe(value)}")
        return setting.default


def _relations(values: Mapping, problems: list[str]) -> None:
    if values["REQUEST_DEADLINE_MS"] < values["PLUGIN_BUDGET_MS"]:
        problems.append(
            "PERSONALIZER_REQUEST_DEADLINE_MS must be at least PERSONALIZER_PLUGIN_BUDGET_MS"
        )
    if values.get("EXPERIMENTS_API_HOST") and not values.get("EXPERIMENTS_CLIENT_KEY"):
        problems.append(
            "PERSONALIZER_EXPERIMENTS_API_HOST needs PERSONALIZER_EXPERIMENTS_CLIENT_KEY"
        )


def load(environ: Mapping[str, str] | None = None, overrides: Mapping | None = None) -> dict:
    """Every setting, typed and checked: the defaults, then the environment, then
    ``overrides`` (Python values keyed like ``DEFAULTS``, e.g. a command's options; other keys
    pass through unchecked). Raises ConfigError naming every variable at fault."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    values: dict = {}
    for setting in SETTINGS:
        if setting.variable in environ:
            value = _from_env(setting, environ[setting.variable])
        elif setting.env and PREFIX + setting.key in environ:  # PERSONALIZER_REDIS_URL
            value = _from_env(setting, environ[PREFIX + setting.key])
        else:
            value = setting.default
        if overrides and setting.key in overrides:
            value = overrides[setting.key]
        values[setting.key] = _apply(setting, value, problems)
    for key, value in (overrides or {}).items():
        values.setdefault(key, value)
    _relations(values, problems)
    if problems:
        raise ConfigError(problems)
    return values


def check(config, environ: Mapping[str, str] | None = None) -> None:
    """The same checks on a config already filled (Flask's ``from_prefixed_env`` reads every
    value as JSON): each value is typed in place. Text settings given in the environment are
    taken as written there, so "000" stays "000" rather than becoming the number 0."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    for setting in SETTINGS:
        value = config.get(setting.key, setting.default)
        raw = environ.get(PREFIX + setting.key)
        if setting.text and raw is not None and not isinstance(value, str):
            try:
                if json.loads(raw) == value:
                    value = raw
            except ValueError:
                pass
        config[setting.key] = _apply(setting, value, problems)
    _relations(config, problems)
    if problems:
        raise ConfigError(problems)


def gunicorn_settings(environ: Mapping[str, str] | None = None) -> dict:
    """BIND and WEB_CONCURRENCY for gunicorn.conf.py, checked like the others."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    values = {
        s.key: _apply(
            s, _from_env(s, environ[s.variable]) if s.variable in environ else s.default, problems
        )
        for s in GUNICORN
    }
    if problems:
        raise ConfigError(problems)
    return values
