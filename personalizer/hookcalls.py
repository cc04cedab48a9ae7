"""Calling plugins one at a time, each within a time budget, each failure contained.

pluggy's own ``pm.hook.x()`` stops at the first exception and throws away every result
gathered so far, and it has no notion of time. Here every implementation is called on its
own: one that raises, runs past its budget or returns something malformed is left out of
that page and logged with its name (never with the person's values), and the rest still
count. A plugin that keeps failing is quarantined for a while.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from personalizer.frozen import freeze
from personalizer.results import CONTRACTS, Malformed

__all__ = ["CallLog", "HookCall", "HookRunner", "Malformed", "PerPlugin", "Quarantine"]

log = logging.getLogger(__name__)


class PluginTimeout(Exception):
    pass


@dataclass
class HookCall:
    plugin: str
    hook: str
    ms: float
    ok: bool
    result: object = None
    error: str | None = None
    skipped: bool = False  # quarantined: left out on purpose, not a failure of this page


@dataclass
class CallLog:
    """Everything that happened in the hook calls of one page."""

    calls: list[HookCall] = field(default_factory=list)

    @property
    def failures(self) -> list[HookCall]:
        return [c for c in self.calls if not c.ok and not c.skipped]

    def failed(self, hook: str) -> bool:
        """A call of this hook failed or was skipped: its answer is missing from the page."""
        return any(not c.ok for c in self.calls if c.hook == hook)

    def timings(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for call in self.calls:
            totals[call.plugin] = round(totals.get(call.plugin, 0.0) + call.ms, 3)
        return totals


class Quarantine:
    """Skips a plugin for ``seconds`` after ``after`` failures in a row (per process)."""

    def __init__(self, after: int = 5, seconds: float = 60.0, clock=time.monotonic):
        self.after, self.seconds, self.clock = after, seconds, clock
        self._failures: dict[str, int] = {}
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def blocked(self, plugin: str) -> bool:
        return self._until.get(plugin, 0.0) > self.clock()

    def record(self, plugin: str, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures.pop(plugin, None)
                return
            count = self._failures.get(plugin, 0) + 1
            self._failures[plugin] = count
            if count >= self.after:
                self._until[plugin] = self.clock() + self.seconds
                self._failures[plugin] = 0
                log.error(
                    "plugin %s quarantined for %ss after %s failures", plugin, self.seconds, count
                )

    def state(self) -> dict[str, float]:
        now = self.clock()
        return {p: round(t - now, 1) for p, t in self._until.items() if t > now}


def _alarm(signum, frame):
    raise PluginTimeout()


@contextlib.contextmanager
def _alarm_handler():
    """While a hook's implementations run, SIGALRM raises PluginTimeout (main thread only:
    yields whether it does). Set once for all of them, as setting a handler costs some
    microseconds; the handler before is put back."""
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        yield True
    finally:
        signal.signal(signal.SIGALRM, previous)


class PerPlugin:
    """An argument each plugin gets its own instance of, made once per plugin: the catalog,
    so what one plugin does to its copy never reaches another plugin or the engine."""

    def __init__(self, make: Callable[[], object]):
        self.make = make
        self.made: dict[str, object] = {}
        self._lock = threading.Lock()

    def for_plugin(self, plugin: str):
        with self._lock:
            if plugin not in self.made:
                self.made[plugin] = self.make()
            return self.made[plugin]


def _argument(value, plugin: str):
    if isinstance(value, PerPlugin):
        return value.for_plugin(plugin)
    return freeze(value)


class HookRunner:
    """Calls each implementation of a hook with a budget; validates what comes back."""

    def __init__(
        self,
        host,
        budget_ms: float = 50.0,
        quarantine: Quarantine | None = None,
        on_call: Callable[[HookCall], None] | None = None,
    ):
        self.host = host
        self.budget_s = budget_ms / 1000.0
        self.quarantine = quarantine or Quarantine()
        self.on_call = on_call

    def call(
        self,
        hook: str,
        kwargs: dict,
        calls: CallLog,
        deadline: float | None = None,
        context: dict | None = None,
        skip: frozenset = frozenset(),
    ) -> list[tuple[str, object]]:
        """Call every implementation of an ``each`` or ``once`` hook on its own; return
        ``(plugin, validated result)`` for each that succeeded with something to say (a
        ``None`` result means "nothing to say"). Plugins in ``skip`` are not called (an
        experiment's variation without them)."""
        assert CONTRACTS[hook].style in ("each", "once"), hook
        answers = []
        with _alarm_handler() as alarm:
            for plugin, impl in self.host.impls(hook):
                if plugin in skip:
                    continue
                answer = self._call_one(plugin, impl, hook, kwargs, context, calls, deadline, alarm)
                if answer is not None:
                    answers.append((plugin, answer))
        return answers

    def chain(
        self,
        hook: str,
        state,
        arguments: Callable,
        apply: Callable,
        calls: CallLog,
        deadline: float | None = None,
        skip: frozenset = frozenset(),
    ):
        """Call a ``chain`` hook: ``arguments(state)`` gives each implementation its
        ``(kwargs, context)`` from the state the previous one left, and
        ``apply(state, plugin, result)`` makes the next state."""
        assert CONTRACTS[hook].style == "chain", hook
        with _alarm_handler() as alarm:
            for plugin, impl in self.host.impls(hook):
                if plugin in skip:
                    continue
                kwargs, context = arguments(state)
                answer = self._call_one(plugin, impl, hook, kwargs, context, calls, deadline, alarm)
                if answer is not None:
                    state = apply(state, plugin, answer)
        return state

    def _call_one(self, plugin, impl, hook, kwargs, context, calls, deadline, alarm):
        """One implementation, within its budget; its validated result, or None."""
        if self.quarantine.blocked(plugin):
            call = HookCall(plugin, hook, 0.0, False, error="quarantined", skipped=True)
            self._record(calls, call, count=False)
            return None
        if deadline is not None and time.monotonic() > deadline:
            call = HookCall(plugin, hook, 0.0, False, error="request deadline passed")
            self._record(calls, call, count=False)
            return None
        # A fresh frozen copy for every call: what one plugin does to its arguments reaches
        # neither the engine nor the next plugin (rule 9).
        args = {name: _argument(kwargs[name], plugin) for name in impl.argnames}
        started = time.perf_counter()
        try:
            result = self._timed(impl.function, args, alarm)
            if time.perf_counter() - started > self.budget_s:
                raise PluginTimeout()
            if result is not None:
                result = CONTRACTS[hook].validate(result, context or {})
        except PluginTimeout:
            error = f"over its time budget of {self.budget_s * 1000:.0f} ms"
        except Malformed as exc:
            error = f"malformed result: {exc}"
        except Exception as exc:
            error = f"raised {type(exc).__name__}"
        else:
            ms = (time.perf_counter() - started) * 1000
            self._record(calls, HookCall(plugin, hook, ms, True, result))
            return result
        ms = (time.perf_counter() - started) * 1000
        log.warning("plugin %s left out of %s: %s", plugin, hook, error)
        self._record(calls, HookCall(plugin, hook, ms, False, error=error))
        return None

    def _record(self, calls: CallLog, call: HookCall, count: bool = True) -> None:
        calls.calls.append(call)
        if count:
            self.quarantine.record(call.plugin, call.ok)
        if self.on_call:
            self.on_call(call)

    def _timed(self, function, args, alarm: bool):
        """Run with a SIGALRM budget when the handler is set (``_alarm_handler``); else
        measure only."""
        if not alarm:
            return function(**args)
        signal.setitimer(signal.ITIMER_REAL, self.budget_s)
        try:
            return function(**args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
