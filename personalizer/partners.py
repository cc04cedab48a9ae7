"""Partner clinics: who they are, how they prove it, and the policy their pages follow.

The registry is a YAML file (``PARTNERS_FILE``; see partners.example.yaml). Keys are stored
only as SHA-256 hashes and compared in constant time. A partner calls server to server with
``Authorization: Bearer <secret key>``, or from a browser with its publishable key in
``X-Personalizer-Key``, which only counts from one of the partner's allowed origins.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import marshmallow as ma
import yaml

from personalizer import config
from personalizer.schemas import flatten_errors


class FullMatch(ma.validate.Validator):
    """A regular expression the whole value must match: marshmallow's Regexp uses ``match``,
    where ``$`` also matches before a trailing newline."""

    def __init__(self, pattern: str, error: str | None = None):
        self.regex = re.compile(pattern)
        self.error = error or f"must match {pattern}"

    def __call__(self, value):
        if not isinstance(value, str) or not self.regex.fullmatch(value):
            raise ma.ValidationError(self.error)
        return value


HEX64 = FullMatch(r"[0-9a-f]{64}", error="must be a lowercase SHA-256 hex digest")
# scheme://host[:port], and a trailing slash is tolerated (it is stripped when loaded).
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?/?")
# A link on a partner's page: an absolute http(s) URL, or a path on our site. Not "//host"
# nor "/\\host" (browsers resolve both to another host), no backslash, space or control
# character anywhere.
HREF = re.compile(r"(https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s\\]*)?|/(?![/\\])[^\s\\]*)")


def valid_rate_limit(value):
    try:
        config.rate_limit_string(value)
    except ValueError as exc:
        raise ma.ValidationError(str(exc)) from None
    return value


def contrast_with_white(colour: str) -> float:
    """WCAG 2 contrast ratio of ``#rrggbb`` against white."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


MIN_CONTRAST = 4.5  # WCAG AA for text: the brand colour is a button's background


def valid_brand_colour(value):
    FullMatch(r"#[0-9a-fA-F]{6}", "must be #rrggbb")(value)
    ratio = contrast_with_white(value)
    if ratio < MIN_CONTRAST:
        raise ma.ValidationError(
            f"contrast with white is {ratio:.2f}:1, below {MIN_CONTRAST}:1 (text on it is "
            "hard to read): choose a darker colour"
        )
    return value


def _link(value) -> dict:
    if set(value) != {"title", "href"} or not all(isinstance(v, str) for v in value.values()):
        raise ma.ValidationError("needs a title and an href")
    if not HREF.fullmatch(value["href"]) or any(ord(c) < 32 for c in value["href"]):
        raise ma.ValidationError(
            "href must be an http(s) URL or a path on our site (not //host or /\\host)"
        )
    return value


class FindClinician(ma.fields.Field):
    """``false`` drops our "find a clinician" offer from this partner's pages; ``{title,
    href}`` replaces it with the partner's own."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is False:
            return False
        if isinstance(value, dict):
            return _link(value)
        raise ma.ValidationError("must be false, or a title and an href")


class PolicySchema(ma.Schema):
    commercial_ctas = ma.fields.Boolean(load_default=False)
    cta = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(("title", "href"))))
    brand_colour = ma.fields.String(validate=valid_brand_colour)
    find_clinician = FindClinician()
    emergency_care_url = ma.fields.String(validate=FullMatch(r"https://[^\s\\]+", "must be https"))
    urgent_care_url = ma.fields.String(validate=FullMatch(r"https://[^\s\\]+", "must be https"))
    emergency_number = ma.fields.String(validate=ma.validate.Length(1, 40))
    emergency_service = ma.fields.String(validate=ma.validate.Length(1, 80))
    urgent_number = ma.fields.String(validate=ma.validate.Length(1, 80))
    urgent_service = ma.fields.String(validate=ma.validate.Length(1, 80))

    @ma.validates("cta")
    def _cta(self, value, **kwargs):
        _link(value)


class PartnerSchema(ma.Schema):
    id = ma.fields.String(required=True, validate=FullMatch(r"[a-z0-9][a-z0-9-]{1,40}"))
    name = ma.fields.String(required=True)
    secret_key_sha256 = ma.fields.String(validate=HEX64)
    publishable_key_sha256 = ma.fields.String(validate=HEX64)
    allowed_origins = ma.fields.List(
        ma.fields.String(validate=FullMatch(ORIGIN.pattern, "must be scheme://host[:port]")),
        load_default=list,
    )
    rate_limit = ma.fields.String(load_default=None, validate=valid_rate_limit)
    browser_rate_limit = ma.fields.String(load_default=None, validate=valid_rate_limit)
    policy = ma.fields.Nested(PolicySchema, load_default=lambda: PolicySchema().load({}))


class RegistrySchema(ma.Schema):
    partners = ma.fields.List(ma.fields.Nested(PartnerSchema), required=True)


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    secret_hash: str | None
    publishable_hash: str | None
    origins: frozenset[str]
    rate_limit: str | None
    policy: dict = field(hash=False)
    browser_rate_limit: str | None = None

    @functools.cached_property
    def key_part(self) -> str:
        """What of the partner goes into the decision key: its id and a hash of its policy,
        so editing a partner's policy changes its pages. Worked out once per partner."""
        digest = hashlib.sha256(repr(sorted(self.policy.items())).encode()).hexdigest()[:12]
        return f"{self.id}:{digest}"


class AuthError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(kind: str) -> tuple[str, str]:
    """A fresh key (``sk_...`` or ``pk_...``) and the hash to store in the registry."""
    key = f"{kind}_{secrets.token_urlsafe(24)}"
    return key, hash_key(key)


class Registry:
    # Keys found valid, per worker: a known key skips the hash and the comparisons. Only valid
    # keys are kept (a guess is never stored), at most this many (then it starts again).
    KNOWN_KEYS = 4096

    def __init__(self, partners: list[Partner]):
        self.partners = partners
        self.origins = frozenset(o for p in partners for o in p.origins)
        self._known: dict[tuple[str, str], Partner] = {}

    @classmethod
    def load(cls, path: str | Path | None) -> Registry:
        if not path:
            return cls([])
        try:
            data = RegistrySchema().load(yaml.safe_load(Path(path).read_text()) or {})
        except (OSError, yaml.YAMLError) as exc:
            raise RuntimeError(f"partner file {path}: {exc}") from None
        except ma.ValidationError as exc:
            problems = "; ".join(f"{p}: {' '.join(m)}" for p, m in flatten_errors(exc.messages))
            raise RuntimeError(f"partner file {path}: {problems}") from None
        partners = [
            Partner(
                id=p["id"],
                name=p["name"],
                secret_hash=p.get("secret_key_sha256"),
                publishable_hash=p.get("publishable_key_sha256"),
                origins=frozenset(o.rstrip("/") for o in p["allowed_origins"]),
                rate_limit=p["rate_limit"],
                policy=p["policy"],
                browser_rate_limit=p["browser_rate_limit"],
            )
            for p in data["partners"]
        ]
        ids = [p.id for p in partners]
        if len(ids) != len(set(ids)):
            raise RuntimeError(f"partner file {path}: partner ids must be unique")
        return cls(partners)

    def _match(self, key: str, attribute: str) -> Partner | None:
        """The partner whose stored hash this key has: the first time, hashed and compared
        against every partner in constant time per comparison; afterwards from the map of
        keys known valid (a dict lookup by the key itself, salted per process by Python's
        string hashing, so its time tells nothing about any stored key)."""
        known = self._known.get((attribute, key))
        if known is not None:
            return known
        given = hash_key(key)
        found = None
        for partner in self.partners:
            stored = getattr(partner, attribute)
            if stored and hmac.compare_digest(given, stored):
                found = partner
        if found is not None:
            if len(self._known) >= self.KNOWN_KEYS:
                self._known.clear()
            self._known[(attribute, key)] = found
        return found

    def authenticate(
        self, authorization: str | None, publishable: str | None, origin: str | None
    ) -> Partner | None:
        """The calling partner, None for an anonymous call, or AuthError (401 or 403)."""
        if authorization:
            scheme, _, token = authorization.strip().partition(" ")
            # RFC 7235: the scheme is case-insensitive.
            bearer = scheme.lower() == "bearer" and token.strip()
            partner = self._match(token.strip(), "secret_hash") if bearer else None
            if partner is None:
                raise AuthError(401, "the secret key is missing or not valid")
            return partner
        if publishable:
            partner = self._match(publishable.strip(), "publishable_hash")
            if partner is None:
                raise AuthError(401, "the publishable key is not valid")
            if not origin or origin.rstrip("/") not in partner.origins:
                raise AuthError(403, "this key may not be used from this origin")
            return partner
        return None
