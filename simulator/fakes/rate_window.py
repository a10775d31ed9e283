"""Rate enforcement for the platform fakes: a sliding window and per-second counts.

A sliding window is stricter than a token bucket: "at most N in *any* window of S seconds",
which is exactly what the tests then assert on the recorded per-second counts.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class WindowLimit:
    """At most ``count`` accepted events in any ``seconds``-long window."""

    count: int
    seconds: float = 1.0
    now: Callable[[], float] = time.monotonic
    _times: deque[float] = field(default_factory=deque)

    def wait(self) -> float:
        """The seconds until one more event would fit (0: now); counts nothing."""
        moment = self.now()
        while self._times and self._times[0] <= moment - self.seconds:
            self._times.popleft()
        if len(self._times) >= self.count:
            return self._times[0] + self.seconds - moment
        return 0.0

    def record(self) -> None:
        self._times.append(self.now())

    def take(self) -> float:
        """0 and the event is counted, or the seconds to wait until one more would fit."""
        wait = self.wait()
        if not wait:
            self.record()
        return wait


@dataclass
class RateRecord:
    """Accepted events per whole second of the monotonic clock, and refusals."""

    per_second: Counter[int] = field(default_factory=Counter)
    refused: int = 0
    now: Callable[[], float] = time.monotonic

    def accepted(self) -> None:
        self.per_second[int(self.now())] += 1

    @property
    def busiest_second(self) -> int:
        return max(self.per_second.values(), default=0)


def retry_after(wait: float) -> int:
    """Whole seconds, at least 1, as Telegram's ``retry_after`` is."""
    return max(1, math.ceil(wait))
