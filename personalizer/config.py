"""Configuration defaults, read from the environment, checked at start-up.

Every key can be set as an environment variable prefixed ``PERSONALIZER_`` (values are
parsed as JSON where they can be, so ``PERSONALIZER_CACHE_TTL=600`` is a number).
``REDIS_URL`` is also read without the prefix, as most platforms set it that way.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-cache-key-secret"

DEFAULTS = {
    "CONTENT_DIRS": [str(ROOT / "content")],
    "ALLOW_STALE_CONTENT": False,
    "REDIS_URL": None,
    "REDIS_TIMEOUT_S": 0.25,
    "CACHE_PREFIX": "personalizer:page:",
    "CACHE_TTL": 3600,
    "LOCAL_CACHE_SIZE": 2048,
    "CACHE_KEY_SECRET": DEV_SECRET,
    "BUILD_WAIT_MS": 1000,
    "PLUGIN_BUDGET_MS": 50,
    "REQUEST_DEADLINE_MS": 2000,
    "QUARANTINE_AFTER": 5,
    "QUARANTINE_SECONDS": 60,
    "LOAD_PLUGINS": None,
    "DISABLE_PLUGINS": [],
    "STRICT_PLUGINS": False,
    "EXTRA_PLUGINS": [],
    "MAX_SECTIONS": 6,
    "MAX_CTAS": 2,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "EMERGENCY_NUMBER": "your local emergency number",
    "EMERGENCY_SERVICE": "the nearest emergency department",
    "URGENT_NUMBER": "your doctor's surgery or urgent-care line",
    "URGENT_SERVICE": "an urgent-care service",
    "COMMERCIAL_CTAS": True,
    "PARTNERS_FILE": None,
    "REQUIRE_PARTNER_KEY": False,
    "RATE_LIMIT": "120 per minute",
    "RATE_LIMIT_ENABLED": True,
    "BENCH_ENDPOINTS": False,
    # Absolute links on pages: the service's own public address (pictures) and the address
    # of our site, which the calls to action written as paths ("/find-a-clinician") lead to.
    "PUBLIC_URL": "http://127.0.0.1:8000",
    "SITE_URL": "http://127.0.0.1:8000",
}


def as_list(value) -> list[str] | None:
    """A comma-separated string or a list, as a list; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def check(config) -> None:
    """Refuse to start with settings that cannot work."""
    problems = []
    for key in ("PLUGIN_BUDGET_MS", "REQUEST_DEADLINE_MS", "CACHE_TTL", "MAX_CONTENT_LENGTH"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            problems.append(f"{key} must be a positive number, not {value!r}")
    if config["REQUEST_DEADLINE_MS"] < config["PLUGIN_BUDGET_MS"]:
        problems.append("REQUEST_DEADLINE_MS must be at least PLUGIN_BUDGET_MS")
    if config["BENCH_ENDPOINTS"] and not config["REDIS_URL"]:
        problems.append("BENCH_ENDPOINTS needs REDIS_URL (the floor endpoint reads Redis)")
    if problems:
        raise RuntimeError("invalid configuration: " + "; ".join(problems))
