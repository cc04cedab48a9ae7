"""The content catalog: Markdown files with YAML front matter, validated at start-up.

Each file holds one item (section, exercise, call to action or alert). The body is rendered
to HTML once, here, and sanitized with an allowlist, so raw HTML or scripts in a content file
never reach a page. The catalog's version is a hash of every file's bytes: editing content
changes it, and with it every cache key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

import marshmallow as ma
import nh3
import yaml
from markdown_it import MarkdownIt

from personalizer.frozen import freeze
from personalizer.media import MediaError, Picture, load_picture
from personalizer.schemas import flatten_errors
from personalizer.vocabulary import (
    ADDRESSES,
    ALERT_LEVELS,
    CONTRAINDICATIONS,
    GOALS,
    INVOLVES,
    KINDS,
    OWNERS,
    PHASES,
    WARNING_SIGNS,
)

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "br", "code", "blockquote"}

# How a dose becomes minutes (docs/content.md repeats this): each repetition takes its hold
# plus SECONDS_PER_REP to move in and out of position, both sides when each_side, and
# REST_BETWEEN_SETS_S between sets; the total is rounded up to whole minutes.
SECONDS_PER_REP = 4
REST_BETWEEN_SETS_S = 30

_markdown = MarkdownIt("commonmark", {"html": False})
BUILT_IN = "built-in"
PARTNER_HREF = "partner:booking"
PICTURES_REQUIRED = False
BIBLIOGRAPHY = "sources.yaml"
# The one wording of the warning signs (contract rule 4), wherever a content file lists them.
WARNING_SIGNS_TOKEN = "{{warning_signs}}"
_WARNING_SIGNS_MARKDOWN = "\n".join(f"- {sign}." for sign in WARNING_SIGNS)
# A call to action leads to an https address or to a path on our own site; anything else
# (javascript:, data:, http:, "//host", "/\\host") is refused when the content loads.
SAFE_HREF = re.compile(r"https://[^\s\\]+|/(?![/\\])[^\s\\]*")


class ContentError(Exception):
    """The catalog cannot be loaded; ``problems`` lists each one as ``file:field: message``."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid content:\n  " + "\n  ".join(problems))
        self.problems = problems


def render_markdown(text: str) -> str:
    """Markdown to HTML, with nothing outside the allowlist surviving."""
    return nh3.clean(_markdown.render(text), tags=ALLOWED_TAGS, attributes={}).strip()


def expand_tokens(body: str) -> str:
    """Content-level tokens, expanded before rendering (policy tokens come later, per page)."""
    return "\n".join(
        _WARNING_SIGNS_MARKDOWN if line.strip() == WARNING_SIGNS_TOKEN else line
        for line in body.splitlines()
    )


def steps_of(body: str) -> tuple[str, ...]:
    """The items of the body's first ordered list, as plain text: an exercise's steps."""
    tokens = _markdown.parse(body)
    steps, depth, inside = [], 0, False
    for token in tokens:
        if token.type == "ordered_list_open":
            depth += 1
            inside = inside or depth == 1
        elif token.type == "ordered_list_close":
            depth -= 1
            if depth == 0 and inside:
                break
        elif inside and depth == 1 and token.type == "inline":
            text = "".join(
                child.content if child.type != "softbreak" else " "
                for child in token.children or ()
            )
            steps.append(" ".join(text.split()))
    return tuple(steps)


ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def _full_match(pattern: re.Pattern, value: str, error: str) -> None:
    if pattern.fullmatch(value) is None:
        raise ma.ValidationError(error)


class DoseSchema(ma.Schema):
    sets = ma.fields.Integer(validate=ma.validate.Range(1, 10))
    reps = ma.fields.Integer(validate=ma.validate.Range(1, 30))
    hold_s = ma.fields.Integer(validate=ma.validate.Range(0, 120), load_default=0)
    minutes = ma.fields.Integer(validate=ma.validate.Range(1, 60))
    per_day = ma.fields.Integer(validate=ma.validate.Range(1, 5), load_default=1)
    # Strength work is dosed on some days of the week (fact sheet section 3: 2-3 times).
    days_per_week = ma.fields.Integer(validate=ma.validate.Range(1, 7), load_default=7)
    each_side = ma.fields.Boolean(load_default=False)

    @ma.validates_schema
    def _reps_or_minutes(self, data, **kwargs):
        timed = "minutes" in data
        counted = "sets" in data and "reps" in data
        if timed == counted:
            raise ma.ValidationError("give either sets and reps, or minutes")


class StrictDate(ma.fields.Date):
    """A calendar date; YAML's timestamps (a date with a time) are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dt.datetime):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _words(name):
    return ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(name)), load_default=list)


class ItemSchema(ma.Schema):
    id = ma.fields.String(
        required=True,
        validate=lambda v: _full_match(ID, v, "lowercase words joined by hyphens"),
    )
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    title = ma.fields.String(required=True, validate=ma.validate.Length(1, 90))
    summary = ma.fields.String(load_default="", validate=ma.validate.Length(0, 200))
    tags = ma.fields.List(ma.fields.String(), load_default=list)
    sources = ma.fields.List(ma.fields.Integer(), required=True, validate=ma.validate.Length(1))
    last_reviewed = StrictDate(required=True)
    next_review = StrictDate(required=True)

    @ma.validates_schema
    def _review_order(self, data, **kwargs):
        last, due = data.get("last_reviewed"), data.get("next_review")
        if last and due and due <= last:
            raise ma.ValidationError("must come after last_reviewed", "next_review")


class SectionSchema(ItemSchema):
    topic = ma.fields.String(required=True)
    addresses = _words(ADDRESSES)
    priority = ma.fields.Integer(load_default=50, validate=ma.validate.Range(0, 100))


class ExerciseSchema(ItemSchema):
    goal = ma.fields.String(required=True, validate=ma.validate.OneOf(GOALS))
    phase = ma.fields.String(required=True, validate=ma.validate.OneOf(PHASES))
    dose = ma.fields.Nested(DoseSchema, required=True)
    progression = ma.fields.String(required=True)
    step_down = ma.fields.String(required=True)
    cautions = ma.fields.List(ma.fields.String(), load_default=list)
    contraindications = _words(CONTRAINDICATIONS)
    addresses = _words(ADDRESSES)
    involves = _words(INVOLVES)
    # Breaks ties between equally scored exercises: the higher clinical preference wins.
    preference = ma.fields.Integer(load_default=50, validate=ma.validate.Range(0, 100))


class CtaSchema(ItemSchema):
    href = ma.fields.String(required=True)
    commercial = ma.fields.Boolean(required=True)
    owner = ma.fields.String(required=True, validate=ma.validate.OneOf(OWNERS))

    @ma.validates_schema
    def _safe_href(self, data, **kwargs):
        """Our links are https or a path on our site; a partner's slot is filled from the
        partner's own (checked) settings."""
        href = data.get("href", "")
        if data.get("owner") == "partner":
            if href != PARTNER_HREF:
                raise ma.ValidationError(f"a partner's slot has href {PARTNER_HREF!r}", "href")
        elif SAFE_HREF.fullmatch(href) is None:
            raise ma.ValidationError(
                "must be an https:// address or a path on our site (/...)", "href"
            )

    addresses = _words(ADDRESSES)


class AlertSchema(ItemSchema):
    level = ma.fields.String(required=True, validate=ma.validate.OneOf(ALERT_LEVELS))


class SourceSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(1, 300))
    publisher = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    url = ma.fields.String(
        required=True,
        validate=lambda v: _full_match(SAFE_HREF, v, "must be an https:// address"),
    )
    year = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1900, 2100))

    @ma.validates("url")
    def _absolute(self, value, **kwargs):
        if not value.startswith("https://"):
            raise ma.ValidationError("must be an https:// address")


BIBLIOGRAPHY_ENTRY = SourceSchema()

SCHEMAS = {
    "section": SectionSchema(),
    "exercise": ExerciseSchema(),
    "cta": CtaSchema(),
    "alert": AlertSchema(),
}


@dataclass(frozen=True)
class Item:
    """One validated content item, its body already rendered to safe HTML.

    ``meta`` is deeply read-only; ``origin`` says whose content it is (``built-in`` or the
    plugin that shipped it); ``sources`` are resolved from the bibliography.
    """

    id: str
    kind: str
    title: str
    html: str
    path: str
    meta: MappingProxyType = field(repr=False)
    origin: str = BUILT_IN
    steps: tuple = ()
    sources: tuple = ()
    picture: Picture | None = field(default=None, repr=False)

    def __post_init__(self):
        # The front-matter fields as attributes (``item.goal``, ``item.addresses``), set once:
        # plugins and the engine read them for every candidate of a page. From this item's own
        # meta, so a plugin's copy has its own read-only values.
        for name, value in self.meta.items():
            if name not in self.__dataclass_fields__ and not hasattr(type(self), name):
                object.__setattr__(self, name, value)

    @property
    def minutes(self) -> int:
        """Minutes one session of this exercise takes (see SECONDS_PER_REP)."""
        dose = self.meta["dose"]
        if "minutes" in dose:
            return dose["minutes"]
        sides = 2 if dose["each_side"] else 1
        seconds = dose["sets"] * dose["reps"] * (dose["hold_s"] + SECONDS_PER_REP) * sides
        seconds += (dose["sets"] - 1) * REST_BETWEEN_SETS_S
        return max(1, math.ceil(seconds / 60))

    def summary_row(self) -> dict:
        return {"id": self.id, "kind": self.kind, "title": self.title, "tags": list(self.tags)}

    def copy(self) -> Item:
        """An independent copy: what plugins are handed, apart from the engine's own."""
        picture = replace(self.picture) if self.picture is not None else None
        return replace(self, meta=freeze(self.meta), sources=freeze(self.sources), picture=picture)


def _index(items, field_name: str, many: bool) -> MappingProxyType:
    """Value of ``meta[field_name]`` -> the items with that value, in catalog order. A list
    field (``many``) files an item under each of its words, once."""
    found: dict[str, list[Item]] = {}
    for item in items:
        value = item.meta.get(field_name)
        if value is None:
            continue
        for word in dict.fromkeys(value) if many else (value,):
            found.setdefault(word, []).append(item)
    return MappingProxyType({word: tuple(group) for word, group in found.items()})


class Catalog:
    """Every content item by id and by kind, and the version of the whole.

    Indexes built once, when the catalog is made, so plugins find what concerns a person
    without scanning every item: by kind, tag, goal, topic, the deviations an item
    addresses, its contraindications and what it involves. Each lookup answers a tuple in
    catalog order (the order ``of_kind`` gives), empty for a word no item has.
    """

    def __init__(self, items: list[Item], version: str, stale: list[str] | None = None):
        self.items = MappingProxyType({item.id: item for item in items})
        self.version = version
        self.stale = tuple(stale or ())
        items = list(self.items.values())
        self.by_kind = MappingProxyType(
            {kind: tuple(i for i in items if i.kind == kind) for kind in KINDS}
        )
        self.by_tag = _index(items, "tags", many=True)
        self.by_goal = _index(items, "goal", many=False)
        self.by_topic = _index(items, "topic", many=False)
        self.by_address = _index(items, "addresses", many=True)
        self.by_contraindication = _index(items, "contraindications", many=True)
        self.by_involves = _index(items, "involves", many=True)
        self._positions = MappingProxyType({item.id: n for n, item in enumerate(items)})

    def __contains__(self, item_id):
        return item_id in self.items

    def __getitem__(self, item_id) -> Item:
        return self.items[item_id]

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items.values())

    def of_kind(self, kind: str) -> tuple[Item, ...]:
        return self.by_kind.get(kind, ())

    def tagged(self, tag: str) -> tuple[Item, ...]:
        return self.by_tag.get(tag, ())

    def with_goal(self, goal: str) -> tuple[Item, ...]:
        """Exercises with this goal."""
        return self.by_goal.get(goal, ())

    def on_topic(self, topic: str) -> tuple[Item, ...]:
        """Sections on this topic."""
        return self.by_topic.get(topic, ())

    def addressing(self, word: str) -> tuple[Item, ...]:
        """Items (of any kind) that list ``word`` in their ``addresses``."""
        return self.by_address.get(word, ())

    def contraindicated_by(self, word: str) -> tuple[Item, ...]:
        """Exercises that list ``word`` in their ``contraindications``."""
        return self.by_contraindication.get(word, ())

    def involving(self, word: str) -> tuple[Item, ...]:
        """Exercises that list ``word`` in what they ``involve``."""
        return self.by_involves.get(word, ())

    def position(self, item_id: str) -> int:
        """The item's place in catalog order (to merge index lookups back into that order)."""
        return self._positions[item_id]

    def copy(self) -> Catalog:
        """A separate catalog of copied items, for plugins (see Item.copy)."""
        return Catalog([item.copy() for item in self], self.version, list(self.stale))

    def pictures(self) -> dict[str, Picture]:
        return {i.picture.filename: i.picture for i in self if i.picture is not None}

    def with_items(self, items: list[Item], version: str) -> Catalog:
        return Catalog([*self, *items], version, list(self.stale))


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*$\n?(.*)\Z", re.DOTALL | re.MULTILINE)


def split_front_matter(text: str) -> tuple[dict, str]:
    """The YAML between the two ``---`` fence lines, and the Markdown body after them."""
    if not text.startswith("---"):
        raise ValueError("no YAML front matter (the file must start with ---)")
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ValueError("front matter is not closed with a --- line")
    meta = yaml.safe_load(match.group(1))
    if not isinstance(meta, dict):
        raise ValueError("front matter is not a mapping")
    return meta, match.group(2).strip()


def load_bibliography(directory: Path) -> dict[int, dict]:
    """The directory's ``sources.yaml``: source number -> {title, publisher, url, year}."""
    path = directory / BIBLIOGRAPHY
    name = f"{directory.name}/{BIBLIOGRAPHY}"
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = {int(n): entry for n, entry in data.items()}
    except (yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
        raise ContentError([f"{name}: {exc}"]) from None
    bibliography, problems = {}, []
    for number, entry in entries.items():
        try:
            bibliography[number] = BIBLIOGRAPHY_ENTRY.load(entry)
        except ma.ValidationError as exc:
            problems += [
                f"{name}:{number}.{field}: {'; '.join(m)}"
                for field, m in flatten_errors(exc.messages)
            ]
    if problems:
        raise ContentError(problems)
    return bibliography


def load_item(
    path: Path, root: Path, bibliography: dict | None = None, origin: str = BUILT_IN
) -> Item:
    """Load one file; raise ContentError naming the file and each bad field."""
    name = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
    try:
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError([f"{name}: {exc}"]) from None
    kind = meta.get("kind")
    schema = SCHEMAS[kind] if isinstance(kind, str) and kind in SCHEMAS else ItemSchema()
    try:
        data = schema.load(meta)
    except ma.ValidationError as exc:
        problems = [f"{name}:{path}: {'; '.join(m)}" for path, m in flatten_errors(exc.messages)]
        raise ContentError(problems) from None
    problems = []
    if data["id"] != path.stem:
        problems.append(f"{name}:id: must equal the file name ({path.stem})")
    if not body:
        problems.append(f"{name}:body: is empty")
    bibliography = bibliography if bibliography is not None else {}
    missing = [n for n in data["sources"] if n not in bibliography]
    if missing:
        problems.append(f"{name}:sources: {missing} not in {BIBLIOGRAPHY}")
    steps, picture = (), None
    if data["kind"] == "exercise":
        steps = steps_of(body)
        if not steps:
            problems.append(f"{name}:body: an exercise needs its steps as a numbered list")
        media = root / "media" / f"{data['id']}.svg"
        try:
            picture = load_picture(media, data["id"])
        except FileNotFoundError:
            problems.append(f"{name}:media: no picture (media/{data['id']}.svg)")
        except MediaError as exc:
            problems.append(f"{name}:media: media/{data['id']}.svg: {exc}")
    if problems:
        raise ContentError(problems)
    body = expand_tokens(body)
    data["body"] = body
    return Item(
        data["id"],
        data["kind"],
        data["title"],
        render_markdown(body),
        name,
        freeze(data),
        origin=origin,
        steps=steps,
        sources=freeze([bibliography[n] for n in data["sources"]]),
        picture=picture,
    )


def load_catalog(
    directories,
    today: dt.date | None = None,
    allow_stale: bool = False,
    origin: str = BUILT_IN,
    known: Catalog | None = None,
) -> Catalog:
    """Load every ``*.md`` below the directories; all problems are reported together.

    An item past its ``next_review`` date is left out (and listed in ``Catalog.stale``)
    unless ``allow_stale`` is set. With ``known`` (the catalog so far), an id it already
    holds is a clash, and the result holds both.
    """
    today = today or dt.date.today()
    items, problems, stale = [], [], []
    seen = {item.id: item.path for item in known} if known is not None else {}
    digest = hashlib.sha256(known.version.encode() if known is not None else b"")
    for directory in map(Path, directories):
        if not directory.is_dir():
            problems.append(f"{directory}: content directory not found")
            continue
        try:
            bibliography = load_bibliography(directory)
        except ContentError as exc:
            problems.extend(exc.problems)
            continue
        files = sorted(directory.rglob("*.md"))
        extra = [directory / BIBLIOGRAPHY] + sorted((directory / "media").glob("*.svg"))
        for path in files + [p for p in extra if p.is_file()]:
            digest.update(str(path.relative_to(directory)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        for path in files:
            try:
                item = load_item(path, directory, bibliography, origin)
            except ContentError as exc:
                problems.extend(exc.problems)
                continue
            if item.id in seen:
                problems.append(f"{item.path}:id: {item.id} already defined in {seen[item.id]}")
                continue
            seen[item.id] = item.path
            if item.meta["next_review"] < today:
                stale.append(f"{item.path}:next_review: review was due {item.next_review}")
                if not allow_stale:
                    continue
            items.append(item)
    if problems:
        raise ContentError(problems)
    # Which items are in force belongs to the version too: an item going stale changes pages.
    digest.update(" ".join(sorted(seen.keys() - {i.id for i in items})).encode())
    version = digest.hexdigest()[:16]
    if known is not None:
        catalog = known.with_items(items, version)
        return Catalog(list(catalog), version, [*known.stale, *stale])
    return Catalog(items, version, stale)
