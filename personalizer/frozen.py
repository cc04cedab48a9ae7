"""Deeply read-only copies of plain data, and plain copies back.

Plugins are given frozen copies (mappings become read-only proxies, lists become tuples), so
a hook cannot change, by ordinary means, what the engine or another plugin sees. A plugin
that reaches through a proxy with reflection changes only its own copy: the engine keeps its
own, and every call gets a fresh one (docs/safety.md, rule 9).
"""

from __future__ import annotations

from types import MappingProxyType

# Type tuples, not ``A | B``: a union in isinstance() is built anew on every call, and these
# run for every value of every plugin call's arguments.
MAPPINGS = (dict, MappingProxyType)
SEQUENCES = (list, tuple)
SETS = (set, frozenset)


def freeze(value):
    if isinstance(value, MAPPINGS):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, SEQUENCES):
        return tuple(freeze(v) for v in value)
    if isinstance(value, SETS):
        return frozenset(value)
    return value


def thaw(value):
    """A plain, independent copy (dicts and lists) of frozen or plain data."""
    if isinstance(value, MAPPINGS):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, SEQUENCES):
        return [thaw(v) for v in value]
    if isinstance(value, SETS):
        return set(value)
    return value
