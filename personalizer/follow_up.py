"""What a page gives the client to keep and send back next time (DESIGN section 4b).

The service stores nothing about a person. The cached page carries only the coarse
progression stage; the rest of the ``follow_up`` object (weeks on the routine, today's
walking tolerance) comes from the request itself and is added to each response after the
cache, so no follow-up value is ever in a cache key or a cached page.
"""

from __future__ import annotations

import hashlib

import orjson

MAX_WEEKS = 104
TAIL = b',"follow_up":'


def for_next_time(profile: dict, stage: int) -> dict:
    sent = profile.get("follow_up")
    keep = {
        "weeks_on_routine": min(MAX_WEEKS, sent.get("weeks_on_routine", 0) + 1) if sent else 1,
        "stage": stage,
    }
    tolerance = profile.get("symptoms", {}).get("walking_tolerance_min")
    if tolerance is not None:
        keep["previous_walking_tolerance_min"] = tolerance
    return keep


def personalize(body: bytes, etag: str, raw: bytes) -> tuple[bytes, str]:
    """The JSON page with this request's follow-up object, and an ETag that covers it.

    ``raw`` is a request body that passed validation (on this request or an identical one
    before it); the page's own ``follow_up`` is its last key (engine.py puts it there).
    """
    at = body.rfind(TAIL)
    if at < 0:
        return body, etag
    stage = orjson.loads(body[at + len(TAIL) : -1]).get("stage", 0)
    extra = orjson.dumps(for_next_time(orjson.loads(raw), stage))
    tag = hashlib.blake2b(extra, digest_size=6).hexdigest()
    return body[:at] + TAIL + extra + b"}", f"{etag}-{tag}"
