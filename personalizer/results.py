"""Checking what plugins return: one contract per hook.

Every hook result passes a validator here before the engine uses it: one that does not fit
raises ``Malformed`` and the plugin is left out of that page. Whatever passes can be encoded
as JSON (no lone surrogates, no integer beyond what JSON readers keep exact).
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from personalizer.frozen import SEQUENCES
from personalizer.vocabulary import LEVELS

__all__ = ["CONTRACTS", "Contract", "Malformed", "records", "reason", "score", "text"]


class Malformed(Exception):
    """A plugin returned something that does not fit the hook's contract."""


MAX_INT = 2**53
# A type tuple, not ``int | float``: a union in isinstance() is built anew on every call
# (frozen.py has the others).
NUMBERS = (int, float)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_feature_value(value) -> bool:
    if isinstance(value, SEQUENCES):
        return all(isinstance(v, str) and _encodable(v) for v in value)
    if isinstance(value, str):
        return _encodable(value)
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return abs(value) <= MAX_INT
    if isinstance(value, float):
        return math.isfinite(value)
    return False


def valid_features(result, context=None) -> dict:
    if not isinstance(result, dict):
        raise Malformed("features must be a dict")
    for key, value in result.items():
        if not isinstance(key, str) or not _encodable(key) or not _is_feature_value(value):
            raise Malformed("a feature is not a string, number, boolean or list of strings")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in result.items()}


def records(result, required: dict) -> list[dict]:
    if not isinstance(result, SEQUENCES):
        raise Malformed("expected a list")
    clean = []
    for entry in result:
        if not isinstance(entry, dict):
            raise Malformed("expected a list of dicts")
        for name, check in required.items():
            if not check(entry.get(name)):
                raise Malformed(f"bad or missing {name!r}")
        clean.append({name: entry[name] for name in required})
    return clean


def text(value) -> bool:
    return isinstance(value, str) and _text(value)


# Plugins repeat the same ids and reasons on every page: each string is checked once.
@functools.lru_cache(maxsize=8192)
def _text(value: str) -> bool:
    return 0 < len(value.strip()) <= 300 and _encodable(value)


def score(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, NUMBERS):
        return False
    return math.isfinite(value) and abs(value) <= MAX_INT


# A reason is shown to the person: short plain text, no markup, no links, no control chars.
MAX_REASON = 200
_NOT_IN_A_REASON = re.compile(r"[<>{}\x00-\x1f\x7f]|https?:|www\.", re.IGNORECASE)


def reason(value) -> bool:
    return isinstance(value, str) and _reason(value)


@functools.lru_cache(maxsize=8192)
def _reason(value: str) -> bool:
    return _text(value) and len(value) <= MAX_REASON and _NOT_IN_A_REASON.search(value) is None


# A flag a plugin names: a contract flag or a word of its own, never free text.
_FLAG = re.compile(r"[a-z][a-z_]{0,39}")


def flag(value) -> bool:
    return isinstance(value, str) and _FLAG.fullmatch(value) is not None


def valid_triage(result, context=None) -> list[dict]:
    return records(result, {"flag": flag, "level": lambda v: v in LEVELS, "reason": reason})


def _known(ids, catalog) -> None:
    items = catalog.items
    unknown = [i for i in ids if i not in items]
    if unknown:
        raise Malformed(f"unknown content ids {unknown[:3]}")


def valid_candidates(result, context) -> list[dict]:
    """Scored picks of catalog items, each ``{"id", "score", "reason"}`` or, for items that
    share a score and a reason, ``{"ids", "score", "reason"}`` (each id once); alerts are the
    engine's to choose. Clean picks all have ``ids``."""
    catalog = context["catalog"]
    if isinstance(result, SEQUENCES):
        result = [_as_group(entry) for entry in result]
    picks = records(result, {"ids": _ids, "score": score, "reason": reason})
    for pick in picks:
        pick["ids"] = tuple(dict.fromkeys(pick["ids"]))
    _known([i for pick in picks for i in pick["ids"]], catalog)
    alerts = {item.id for item in catalog.of_kind("alert")}
    if any(not alerts.isdisjoint(pick["ids"]) for pick in picks):
        raise Malformed("alerts are chosen by triage, not by candidates")
    return picks


def _as_group(entry):
    """A pick of one item (``id``) as a group of one."""
    if isinstance(entry, dict) and "ids" not in entry and "id" in entry:
        return {**entry, "ids": (entry["id"],)}
    return entry


def _ids(value) -> bool:
    """Strings (whether each is a content id is checked after)."""
    return isinstance(value, SEQUENCES) and all(isinstance(i, str) for i in value)


def valid_vetoes(result, context) -> list[dict]:
    vetoes = records(result, {"id": text, "reason": reason})
    _known([v["id"] for v in vetoes], context["catalog"])
    return vetoes


def valid_order(result, context) -> list[str]:
    """Block ids of this page, each once, in the wanted order."""
    if not isinstance(result, SEQUENCES) or not all(
        isinstance(i, str) and i in context["ids"] for i in result
    ):
        raise Malformed("expected a list of the page's block ids")
    return list(dict.fromkeys(result))


def valid_directories(result, context=None) -> list[str]:
    """Existing content directories (never the filesystem root); a string alone is refused."""
    if not isinstance(result, SEQUENCES) or not all(
        isinstance(p, str | os.PathLike) for p in result
    ):
        raise Malformed("expected a list of directory paths")
    directories = [os.path.abspath(p) for p in result]
    for directory in directories:
        if not os.path.isdir(directory) or os.path.dirname(directory) == directory:
            raise Malformed(f"{directory} is not a content directory")
    return directories


@dataclass(frozen=True)
class Contract:
    """How one hook is called and what it must return.

    ``style``: ``each`` (every implementation on its own, all results kept), ``chain`` (each
    implementation gets the state the previous one left) or ``once`` (at start-up).
    ``validate(result, context)`` returns the clean result or raises Malformed.
    """

    style: str
    validate: Callable


# One row per hook of hookspecs.py: adding a hook is its spec, this row, its docs and a test.
CONTRACTS = {
    "personalizer_features": Contract("each", valid_features),
    "personalizer_triage": Contract("each", valid_triage),
    "personalizer_candidates": Contract("each", valid_candidates),
    "personalizer_exclusions": Contract("each", valid_vetoes),
    "personalizer_arrange": Contract("chain", valid_order),
    "personalizer_content": Contract("once", valid_directories),
}
