"""Outcome events: stored in Redis Streams (or in this process's memory without Redis), the
visitor id only ever as a keyed hash, and tallied per experiment for the report.

Streams: one per experiment (``<prefix>events:exp:<key>``) and one for events outside any
experiment (``<prefix>events:none``). Each is trimmed to about ``EVENTS_MAXLEN`` entries on
every write (``XADD ... MAXLEN ~``), to the retention window (``XTRIM ... MINID ~``, at most
once a minute per stream and process), and expires when nothing was written to it for the
whole retention window. The report ignores entries older than the window even before they
are trimmed.

An entry holds ``visitor`` (HMAC-SHA256 of the visitor id with ``EVENTS_KEY_SECRET``, 128 bits
in hex), ``event``, ``variation``, ``page_id``, ``block_id`` and ``at`` (epoch milliseconds,
as the client gave it), joined by "|" in one field ``e`` (the experiment is the stream's);
the stream's entry id is when it arrived. Nothing else is accepted
(the schema in experiments_api.py refuses any other field), so no profile value is stored.

Redis faults: every call has the cache's short timeouts and a circuit breaker; a write that
fails raises ``EventsUnavailable`` (the endpoint answers 503, and the store counts the events
it refused in ``refused``). Events are never buffered for later: a retry is the client's.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Iterable, Iterator

import redis

from personalizer.experiments import Definition, Experiments, analyse

log = logging.getLogger(__name__)

TRIM_EVERY_S = 60.0
READ_CHUNK = 10_000


class EventsUnavailable(Exception):
    """The event store cannot take or give events right now."""


def visitor_hash(secret: bytes, visitor_id: str) -> str:
    """The only form in which a visitor id is stored: keyed, so it cannot be looked up from
    a list of guessed ids without the secret, and stable, so one visitor counts once."""
    return hmac.new(secret, visitor_id.encode(), hashlib.sha256).hexdigest()[:32]


def _stream(experiment: str | None) -> str:
    return f"events:exp:{experiment}" if experiment else "events:none"


# An entry is one field, ``e``, holding these values joined by "|" (none of them can hold a
# "|": the schema allows letters, digits, "-" and "_" only). One value per entry rather than
# one field per value: reading a stream back costs a fifth of the time.
ENTRY = ("visitor", "event", "variation", "page_id", "block_id", "at")


def _fields(record: dict) -> dict:
    return {"e": "|".join("" if record.get(k) is None else str(record[k]) for k in ENTRY)}


def parse_entry(value: str) -> dict:
    """An entry's values by name (absent ones left out)."""
    return {k: v for k, v in zip(ENTRY, value.split("|"), strict=False) if v}


class RedisEventStore:
    name = "redis"

    def __init__(
        self,
        client,
        prefix: str,
        maxlen: int,
        retention_s: int,
        cooldown: float = 2.0,
        clock=time.monotonic,
    ):
        self.client, self.prefix = client, prefix
        self.maxlen, self.retention_s = maxlen, retention_s
        self.cooldown, self.clock = cooldown, clock
        self._open_until = 0.0
        self._trimmed: dict[str, float] = {}
        self._lock = threading.Lock()
        self.refused = 0

    @classmethod
    def from_url(cls, url: str, prefix: str, timeout: float, maxlen: int, retention_days: int):
        from personalizer.cache import RedisCache  # the same URL schemes and timeouts

        client = RedisCache.from_url(url, prefix, 1, timeout).client
        return cls(client, prefix, maxlen, retention_days * 86400)

    def _guard(self) -> None:
        if self._open_until > self.clock():
            raise EventsUnavailable("event store unavailable (breaker open)")

    def _failed(self, exc: Exception) -> EventsUnavailable:
        self._open_until = self.clock() + self.cooldown
        log.warning("event store unavailable (%s)", type(exc).__name__)
        return EventsUnavailable(type(exc).__name__)

    def add(self, records: list[dict]) -> None:
        """Store a batch; EventsUnavailable (nothing is kept for later) when Redis fails."""
        try:
            self._guard()
            now = time.time()
            streams = set()
            pipe = self.client.pipeline(transaction=False)
            for record in records:
                stream = self.prefix + _stream(record.get("experiment"))
                streams.add(stream)
                pipe.xadd(stream, _fields(record), maxlen=self.maxlen, approximate=True)
            for stream in streams:
                pipe.expire(stream, self.retention_s)
                with self._lock:
                    due = self._trimmed.get(stream, 0.0) + TRIM_EVERY_S <= now
                    if due:
                        self._trimmed[stream] = now
                if due:
                    cutoff = int((now - self.retention_s) * 1000)
                    pipe.xtrim(stream, minid=f"{cutoff}-0", approximate=True)
            pipe.execute()
        except EventsUnavailable:
            self.refused += len(records)
            raise
        except (redis.RedisError, OSError) as exc:
            self.refused += len(records)
            raise self._failed(exc) from None
        self._open_until = 0.0

    def read(self, experiment: str) -> Iterator[dict]:
        """Every entry of an experiment's stream within the retention window, oldest first."""
        stream = self.prefix + _stream(experiment)
        start = f"{int((time.time() - self.retention_s) * 1000)}-0"
        try:
            self._guard()
            while True:
                chunk = self.client.xrange(stream, min=start, max="+", count=READ_CHUNK)
                for _id, fields in chunk:
                    yield parse_entry(fields[b"e"].decode())
                if len(chunk) < READ_CHUNK:
                    return
                start = "(" + chunk[-1][0].decode()
        except (redis.RedisError, OSError) as exc:
            raise self._failed(exc) from None

    def state(self) -> str:
        try:
            self.client.ping()
        except (redis.RedisError, OSError):
            return "degraded"
        return "ok"


class MemoryEventStore:
    """This process's memory, bounded like the streams: for a laptop without Redis."""

    name = "local"

    def __init__(self, maxlen: int = 100_000, retention_s: int = 90 * 86400):
        self.maxlen, self.retention_s = maxlen, retention_s
        self._streams: dict[str, collections.deque] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def add(self, records: list[dict]) -> None:
        now = time.time()
        with self._lock:
            for record in records:
                stream = self._streams.setdefault(
                    _stream(record.get("experiment")), collections.deque(maxlen=self.maxlen)
                )
                stream.append((now, _fields(record)))

    def read(self, experiment: str) -> Iterator[dict]:
        cutoff = time.time() - self.retention_s
        with self._lock:
            entries = list(self._streams.get(_stream(experiment), ()))
        for at, fields in entries:
            if at >= cutoff:
                yield parse_entry(fields["e"])

    def state(self) -> str:
        return "ok"


def store_from_settings(cfg):
    if cfg.get("REDIS_URL"):
        return RedisEventStore.from_url(
            cfg["REDIS_URL"],
            cfg["CACHE_PREFIX"],
            cfg["REDIS_TIMEOUT_S"],
            cfg["EVENTS_MAXLEN"],
            cfg["EVENTS_RETENTION_DAYS"],
        )
    return MemoryEventStore(
        min(cfg["EVENTS_MAXLEN"], 100_000), cfg["EVENTS_RETENTION_DAYS"] * 86400
    )


# -- the report ---------------------------------------------------------------------------------


def tally(entries: Iterable[dict], variations: int) -> tuple[list[dict], int]:
    """Per variation: distinct visitors, and distinct visitors with each event. A visitor seen
    in more than one variation (a client sending the wrong variation, a changed payload) is
    left out, as GrowthBook does, and counted apart."""
    seen: dict[str, list] = {}
    for entry in entries:
        try:
            variation = int(entry["variation"])
        except (KeyError, ValueError):
            continue
        if not 0 <= variation < variations:
            continue
        visitor, event = entry.get("visitor"), entry.get("event")
        found = seen.get(visitor)
        if found is None:
            seen[visitor] = [variation, {event}]
        elif found[0] != variation:
            found[0] = -1
        else:
            found[1].add(event)
    counts = [{"visitors": 0, "conversions": {}} for _ in range(variations)]
    several = 0
    for variation, events in seen.values():
        if variation < 0:
            several += 1
            continue
        counts[variation]["visitors"] += 1
        conversions = counts[variation]["conversions"]
        for event in events:
            conversions[event] = conversions.get(event, 0) + 1
    return counts, several


def report(experiments: Experiments, store, key: str) -> dict:
    """GET /v1/experiments/<key> and ``personalizer experiments report KEY``. KeyError when no
    experiment has this key; EventsUnavailable when the store cannot be read."""
    definition: Definition = experiments.definitions[key]
    counts, several = tally(store.read(key), definition.variations)
    result = analyse(definition, counts)
    result["visitors_in_several_variations"] = several
    return result
