"""The hooks a personalizer plugin can implement.

The engine calls every implementation of a hook on its own, with a time budget, and leaves out
of that page whatever raises, times out or returns something malformed (see engine.py). Only
``personalizer_features`` sees the raw profile; every later hook sees the features, so a page
is a pure function of the decision key and can be cached.

Compatibility promise: hooks only ever gain optional arguments. pluggy passes an
implementation just the arguments it names, so a plugin written against fewer keeps working.
"""

import pluggy

hookspec = pluggy.HookspecMarker("personalizer")
hookimpl = pluggy.HookimplMarker("personalizer")


@hookspec
def personalizer_features(profile):
    """Turn the validated profile into discrete, named features.

    Called once per request, before the cache is consulted. ``profile`` is the validated
    request body as a dict (missing sections are absent, never zero). Return a dict of
    feature name -> value, where a value is a string, number, boolean, or a list of strings.
    Results of all plugins are merged; on a clash the first plugin to name a feature keeps it.
    The engine sets ``red_flags``, ``channel``, ``partner``, ``locale`` and ``minutes`` itself;
    a plugin cannot override them. Keep features coarse: every distinct value splits the cache.
    """


@hookspec
def personalizer_triage(features):
    """Say how urgent the person's reported red flags are.

    Called on a cache miss. Return a list of ``{"flag": str, "level": str, "reason": str}``
    with level one of ``emergency``, ``urgent``, ``assess``, ``none``. The engine takes the
    highest level over all plugins; for the red flags of the safety contract the contract's
    level always applies, whatever a plugin claims. If no implementation of this hook runs
    successfully the page fails safe (warning signs only, no exercise).
    """


@hookspec
def personalizer_candidates(features, catalog, level):
    """Propose catalog items for the page.

    Called on a cache miss. ``catalog`` is the read-only content catalog (see content.py);
    ``level`` is the page's triage level (``emergency``, ``urgent``, ``assess`` or ``none``;
    optional: name it only if you use it). Return a list of
    ``{"id": str, "score": number, "reason": str}``, or of ``{"ids": [str, ...], "score",
    "reason"}`` for items that share a score and a reason (all the exercises of a goal, say:
    one pick instead of one per item, which keeps a large catalog cheap). Scores of all
    plugins for one item are added up; every distinct reason is kept and shown to the person
    in the block's ``why``, so write it in plain words (at most 200 characters, no markup or
    links). An id that is not in the catalog, or an alert's, makes the whole result of that
    plugin invalid for this page.
    """


@hookspec
def personalizer_exclusions(features, catalog):
    """Veto catalog items for this person (contraindications).

    Called on a cache miss. Return a list of ``{"id": str, "reason": str}``. A vetoed item
    never reaches the page or the routine, whichever plugin proposed it.
    """


@hookspec
def personalizer_arrange(blocks, features, level):
    """Reorder the page's blocks.

    Called on a cache miss after ranking, in turn for each implementation, each one getting
    the previous one's order. ``blocks`` is a list of ``{"kind", "id", "score"}`` dicts.
    Return a list of block ids in the wanted order (ids not returned keep their relative
    order at the end), or ``None`` to leave the order alone. The safety contract is enforced
    after this hook, so an arrangement that moves an alert below an exercise is undone.
    """


@hookspec
def personalizer_content():
    """Return extra content directories (paths) a plugin package ships.

    Called once at start-up. Return a list of directory paths (a string alone is refused).
    Each plugin's files are loaded on their own and validated like the built-in content:
    a broken file, an id that clashes with an existing item or an unsafe link disables that
    plugin alone (listed with its error in ``/v1/plugins``), never the service. A plugin's
    calls to action are never ours: they are treated as commercial offers of the plugin.
    """
