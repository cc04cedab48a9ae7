"""Settings: one typed table (personalizer/config.py) read the same way by the service and the
command, every value checked at start-up with a message naming the variable, and every
setting documented in the README's configuration table (and nothing documented that does not
exist)."""

from __future__ import annotations

import re

import pytest

from personalizer import config, create_app
from personalizer.config import ROOT, ConfigError
from tests.support import base_config

CONTENT = str(ROOT / "content")


def load(**environ):
    return config.load(environ)


def test_defaults_load_from_an_empty_environment():
    values = load()
    assert values == {**config.DEFAULTS}
    assert values["MAX_SECTIONS"] == 6 and values["RATE_LIMIT"] == "120 per minute"


def test_numbers_lists_and_text_are_read_by_type():
    values = load(
        PERSONALIZER_MAX_SECTIONS="4",
        PERSONALIZER_REDIS_TIMEOUT_S="0.5",
        PERSONALIZER_CONTENT_DIRS="content",
        PERSONALIZER_DISABLE_PLUGINS="hello, education",
        PERSONALIZER_LOAD_PLUGINS='["a", "b"]',
        PERSONALIZER_EMERGENCY_NUMBER="000",
        PERSONALIZER_ALLOW_STALE_CONTENT="true",
        PERSONALIZER_OPS_TOKEN="1234567890123456",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert values["MAX_SECTIONS"] == 4
    assert values["REDIS_TIMEOUT_S"] == 0.5
    assert values["CONTENT_DIRS"] == ["content"]  # one directory, not seven letters
    assert values["DISABLE_PLUGINS"] == ["hello", "education"]
    assert values["LOAD_PLUGINS"] == ["a", "b"]
    assert values["EMERGENCY_NUMBER"] == "000"  # text stays as written
    assert values["ALLOW_STALE_CONTENT"] is True
    assert values["OPS_TOKEN"] == "1234567890123456"  # not the number 1234567890123456
    assert values["REDIS_URL"] == "redis://127.0.0.1:6379/0"


BAD = [
    ("PERSONALIZER_EXPERIMENTS_API_HOST", "ftp://x"),
    ("PERSONALIZER_EXPERIMENTS_CLIENT_KEY", "x" * 201),
    ("PERSONALIZER_EXPERIMENTS_API_TIMEOUT_S", "0"),
    ("PERSONALIZER_EVENTS_KEY_SECRET", "short"),
    ("PERSONALIZER_EVENTS_MAXLEN", "10"),
    ("PERSONALIZER_EVENTS_RETENTION_DAYS", "0"),
    ("PERSONALIZER_MAX_SECTIONS", '"6"'),
    ("PERSONALIZER_MAX_SECTIONS", "0"),
    ("PERSONALIZER_MAX_SECTIONS", "6.5"),
    ("PERSONALIZER_MAX_SECTIONS", "true"),
    ("PERSONALIZER_MAX_CTAS", "-1"),
    ("PERSONALIZER_CACHE_TTL", "0"),
    ("PERSONALIZER_CACHE_TTL", "1e12"),
    ("PERSONALIZER_REDIS_TIMEOUT_S", "NaN"),
    ("PERSONALIZER_REDIS_TIMEOUT_S", '"0.25"'),
    ("PERSONALIZER_LOCAL_CACHE_SIZE", "[]"),
    ("PERSONALIZER_BUILD_WAIT_MS", "0"),
    ("PERSONALIZER_PLUGIN_BUDGET_MS", "-5"),
    ("PERSONALIZER_REQUEST_DEADLINE_MS", "{}"),
    ("PERSONALIZER_QUARANTINE_AFTER", "0"),
    ("PERSONALIZER_QUARANTINE_SECONDS", "-1"),
    ("PERSONALIZER_MAX_CONTENT_LENGTH", "0"),
    ("PERSONALIZER_ALLOW_STALE_CONTENT", "maybe"),
    ("PERSONALIZER_STRICT_PLUGINS", "2"),
    ("PERSONALIZER_COMMERCIAL_CTAS", '"yes please"'),
    ("PERSONALIZER_REQUIRE_PARTNER_KEY", "[true]"),
    ("PERSONALIZER_RATE_LIMIT_ENABLED", "null"),
    ("PERSONALIZER_CONTENT_DIRS", "[1, 2]"),
    ("PERSONALIZER_CONTENT_DIRS", "{}"),
    ("PERSONALIZER_DISABLE_PLUGINS", "[null]"),
    ("PERSONALIZER_LOAD_PLUGINS", "42"),
    ("PERSONALIZER_RATE_LIMIT", "120 a minute"),
    ("PERSONALIZER_RATE_LIMIT", "0 per minute"),
    ("PERSONALIZER_BROWSER_RATE_LIMIT", "sixty a minute"),
    ("PERSONALIZER_AUTH_FAILURE_LIMIT", "many"),
    ("PERSONALIZER_CACHE_PREFIX", ""),
    ("PERSONALIZER_CACHE_KEY_SECRET", ""),
    ("PERSONALIZER_EMERGENCY_NUMBER", ""),
    ("PERSONALIZER_URGENT_SERVICE", "x" * 81),
    ("PERSONALIZER_URGENT_NUMBER", "\t"),
    ("PERSONALIZER_EMERGENCY_SERVICE", "line\nbreak"),
    ("PERSONALIZER_PUBLIC_URL", "https://example.org/"),
    ("PERSONALIZER_PUBLIC_URL", "example.org"),
    ("PERSONALIZER_SITE_URL", "ftp://example.org"),
    ("PERSONALIZER_SITE_URL", "https://example.org/?x=1"),
    ("PERSONALIZER_OPS_TOKEN", "short"),
    ("PERSONALIZER_PROXY_HOPS", "-1"),
    ("PERSONALIZER_PROXY_HOPS", "9"),
    ("REDIS_URL", "http://127.0.0.1:6379"),
    ("REDIS_URL", "127.0.0.1:6379"),
]


@pytest.mark.parametrize("variable, value", BAD)
def test_a_bad_value_is_refused_naming_the_variable(variable, value):
    with pytest.raises(ConfigError) as caught:
        config.load({variable: value})
    assert str(caught.value).startswith("invalid configuration: " + variable)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConfigError) as caught:
        load(PERSONALIZER_MAX_SECTIONS='"6"', PERSONALIZER_RATE_LIMIT="120 a minute")
    assert len(caught.value.problems) == 2


def test_every_setting_is_checked_by_the_table():
    bad_keys = {variable.removeprefix("PERSONALIZER_") for variable, _ in BAD}
    files = {"PARTNERS_FILE", "EXPERIMENTS_FILE"}  # any path; a bad file is refused on loading
    checked = {s.key for s in config.SETTINGS if s.documented} - files
    assert checked <= bad_keys, checked - bad_keys


def test_relations_between_settings():
    with pytest.raises(ConfigError, match="REQUEST_DEADLINE_MS must be at least"):
        load(PERSONALIZER_PLUGIN_BUDGET_MS="100", PERSONALIZER_REQUEST_DEADLINE_MS="50")


def test_overrides_are_checked_too():
    assert config.load({}, {"MAX_SECTIONS": 3, "TESTING": True})["MAX_SECTIONS"] == 3
    with pytest.raises(ConfigError, match="PERSONALIZER_MAX_SECTIONS"):
        config.load({}, {"MAX_SECTIONS": "6"})
    # the command line's options win over the environment
    values = config.load({"PERSONALIZER_CONTENT_DIRS": "a,b"}, {"CONTENT_DIRS": [CONTENT]})
    assert values["CONTENT_DIRS"] == [CONTENT]


# -- the service reads the same table (app.py: from_prefixed_env, then config.check) ---------


def test_service_refuses_a_json_string_for_a_number(monkeypatch):
    """Today's main started with it, and then every page was a 500."""
    monkeypatch.setenv("PERSONALIZER_MAX_SECTIONS", '"6"')
    with pytest.raises(RuntimeError, match="PERSONALIZER_MAX_SECTIONS"):
        create_app(base_config())


def test_service_reads_one_content_directory_without_a_list(monkeypatch):
    monkeypatch.setenv("PERSONALIZER_CONTENT_DIRS", CONTENT)
    app = create_app(base_config())
    assert app.config["CONTENT_DIRS"] == [CONTENT]
    assert app.test_client().post("/v1/pages", json={}).status_code == 200


def test_service_keeps_text_settings_as_written(monkeypatch):
    monkeypatch.setenv("PERSONALIZER_EMERGENCY_NUMBER", "000")
    app = create_app(base_config())
    assert app.config["EMERGENCY_NUMBER"] == "000"
    page = app.test_client().post("/v1/pages", json={"red_flags": ["saddle_numbness"]})
    assert "000" in page.get_json()["blocks"][0]["title"] + page.get_json()["blocks"][0]["html"]


def test_service_refuses_an_invalid_rate_limit(monkeypatch):
    monkeypatch.setenv("PERSONALIZER_RATE_LIMIT", "120 a minute")
    with pytest.raises(RuntimeError, match="PERSONALIZER_RATE_LIMIT"):
        create_app(base_config(RATE_LIMIT_ENABLED=True))


def test_check_types_a_flask_config_in_place():
    values = {**config.DEFAULTS, "CONTENT_DIRS": "content", "MAX_SECTIONS": 4.0}
    config.check(values, environ={})
    assert values["CONTENT_DIRS"] == ["content"] and values["MAX_SECTIONS"] == 4
    with pytest.raises(ConfigError, match="PERSONALIZER_OPS_TOKEN"):
        config.check({**config.DEFAULTS, "OPS_TOKEN": 123}, environ={})
    number_text = {**config.DEFAULTS, "URGENT_NUMBER": 111}  # JSON read "111" as a number
    config.check(number_text, environ={"PERSONALIZER_URGENT_NUMBER": "111"})
    assert number_text["URGENT_NUMBER"] == "111"


def test_gunicorn_settings():
    assert config.gunicorn_settings({}) == {"BIND": "127.0.0.1:8000", "WEB_CONCURRENCY": 2}
    assert config.gunicorn_settings({"WEB_CONCURRENCY": "4"})["WEB_CONCURRENCY"] == 4
    for bad in ("0", "two", '"2"'):
        with pytest.raises(ConfigError, match="WEB_CONCURRENCY"):
            config.gunicorn_settings({"WEB_CONCURRENCY": bad})


# -- documentation ---------------------------------------------------------------------------


def documented() -> set[str]:
    """Every variable in the first column of the README's configuration table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_setting_is_documented_and_every_documented_setting_exists():
    settings = {s.variable for s in (*config.SETTINGS, *config.GUNICORN) if s.documented}
    assert settings - documented() == set(), "settings missing from README.md"
    assert documented() - settings == set(), "README.md documents settings that do not exist"


def test_every_key_the_code_reads_is_a_setting():
    """No module reads a configuration key the table does not define."""
    flask_keys = {"TESTING", "DEBUG", "SECRET_KEY"}
    pattern = re.compile(r"""(?:cfg|config|app\.config)(?:\[|\.get\()["']([A-Z][A-Z0-9_]+)["']""")
    read = set()
    for path in (ROOT / "personalizer").rglob("*.py"):
        read |= set(pattern.findall(path.read_text()))
    read = {key for key in read if not key.startswith(("API_", "OPENAPI_"))}  # flask-smorest's
    assert read - set(config.DEFAULTS) - flask_keys == set()
