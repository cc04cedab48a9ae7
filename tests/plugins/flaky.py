"""A plugin with one hook that fails on a schedule, and counts its calls: for the cache and
quarantine tests. ``schedule`` is a string of "x" (raise) and "." (succeed), one per call;
after its end the plugin succeeds. It implements only the one hook: quarantine counts a
plugin's failures in a row over all its hooks, and a success in another hook resets it."""

from personalizer import hookimpl


class _Flaky:
    def __init__(self, schedule: str = "x"):
        self.schedule = schedule
        self.calls = 0

    def _maybe_fail(self) -> None:
        n = self.calls
        self.calls += 1
        if n < len(self.schedule) and self.schedule[n] == "x":
            raise RuntimeError(f"flaky call {n}")


class FlakyCandidates(_Flaky):
    @hookimpl
    def personalizer_candidates(self, features, catalog):
        self._maybe_fail()
        return [{"id": "helps-cycling", "score": 0.01, "reason": "flaky but harmless"}]


class FlakyArrange(_Flaky):
    @hookimpl
    def personalizer_arrange(self, blocks, features):
        self._maybe_fail()
        return None


def make(schedule: str = "x", hook_fails_in: str = "candidates") -> _Flaky:
    return {"candidates": FlakyCandidates, "arrange": FlakyArrange}[hook_fails_in](schedule)
