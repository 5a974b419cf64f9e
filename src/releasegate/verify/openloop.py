"""An open-loop HTTP load generator with HDR histograms per interval.

Requests leave on a fixed schedule (request *i* at ``t0 + i / rate``) whatever the
service does, and each latency is measured from the request's **scheduled** time, so a
stalled service shows up as the latency its users would see instead of as fewer requests
(no coordinated omission). The generator also measures its own **schedule slip** — how
late each request actually left — so a machine that cannot sustain the rate is reported
as such, not as a slow service.

Intervals are contiguous: :meth:`OpenLoop.next_interval` closes the window that started
where the previous one ended, waits for the requests scheduled in it to finish (or time
out) while the load goes on, and returns their figures.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from releasegate.verify.http1 import Pool, ProtocolError

_MAX_US = 3_600_000_000  # an hour, in microseconds: the largest latency a histogram holds
_POLL_S = 0.005
_EARLY_S = 0.0012
TIMED_OUT = "no answer within {:g}s"


def new_histogram() -> HdrHistogram:
    """A histogram of microseconds from 1 µs to an hour, 3 significant digits."""
    return HdrHistogram(1, _MAX_US, 3)


@dataclass(frozen=True)
class Prepared:
    """One request of the rotation, as bytes, with the statuses that count as success."""

    raw: bytes
    expect: frozenset[int]
    head: bool = False

    def ok(self, status: int) -> bool:
        return status in self.expect if self.expect else 200 <= status < 400


@dataclass
class Window:
    """What the requests scheduled in one interval saw."""

    start: float
    end: float
    latency: HdrHistogram = field(default_factory=new_histogram)
    """Microseconds from scheduled time to the end of the response (or of the timeout)."""
    slip: HdrHistogram = field(default_factory=new_histogram)
    """Microseconds each request left after its scheduled time."""
    latency_sum: float = 0.0
    """Seconds, over the requests in ``latency`` (hdrh's own mean walks every bucket)."""
    requests: int = 0
    errors: int = 0
    timeouts: int = 0
    late: int = 0
    """Requests that left more than the slip tolerance after their time."""
    error_kinds: Counter[str] = field(default_factory=Counter)

    @property
    def error_rate(self) -> float:
        return 100.0 * self.errors / self.requests if self.requests else math.nan

    @property
    def slip_rate(self) -> float:
        return 100.0 * self.late / self.requests if self.requests else 0.0

    def mean_ms(self) -> float:
        count = self.latency.get_total_count()
        return 1000.0 * self.latency_sum / count if count else math.nan

    def percentile_ms(self, q: float) -> float:
        return float(self.latency.get_value_at_percentile(q)) / 1000.0

    def add(self, other: Window) -> None:
        """Fold ``other`` into this window (the load test's whole-run figures)."""
        self.latency.add(other.latency)
        self.slip.add(other.slip)
        self.latency_sum += other.latency_sum
        self.requests += other.requests
        self.errors += other.errors
        self.timeouts += other.timeouts
        self.late += other.late
        self.error_kinds.update(other.error_kinds)
        self.end = max(self.end, other.end)


# (scheduled, slip_s, latency_s or None, error or None)
_Result = tuple[float, float, float | None, str | None]


class OpenLoop:
    """Sends ``requests`` in rotation at ``rate`` per second through ``pool``."""

    def __init__(
        self,
        pool: Pool,
        requests: Sequence[Prepared],
        *,
        rate: float,
        timeout: float,
        slip_tolerance: float = 0.010,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not requests or rate <= 0:
            raise ValueError("an open loop needs requests and a positive rate")
        self._pool = pool
        self._requests = list(requests)
        self._period = 1.0 / rate
        self._timeout = timeout
        self._tolerance = slip_tolerance
        self._now = clock
        self._results: list[_Result] = []
        self._inflight: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._generator: asyncio.Task[None] | None = None
        self._t0 = 0.0
        self._next_sched = 0.0
        self._window_start = 0.0

    def start(self) -> None:
        """Start sending (the first window opens now)."""
        if self._generator is None:
            self._t0 = self._window_start = self._next_sched = self._now()
            self._generator = asyncio.ensure_future(self._generate())

    async def next_interval(self, seconds: float) -> Window:
        """The figures of the ``seconds`` after the previous window (or the start)."""
        self.start()
        start, end = self._window_start, self._window_start + seconds
        self._window_start = end
        while True:
            now = self._now()
            if now >= end and self._next_sched >= end and self._settled(end):
                break
            await asyncio.sleep(max(min(end - now, 0.25), _POLL_S))
            self._check_generator()
        return self._cut(start, end)

    def _settled(self, end: float) -> bool:
        return all(sched >= end for sched in self._inflight.values())

    def _check_generator(self) -> None:
        if self._generator is not None and self._generator.done():
            self._generator.result()  # re-raise what stopped it

    def _cut(self, start: float, end: float) -> Window:
        window = Window(start=start, end=end)
        keep: list[_Result] = []
        for result in self._results:
            sched, slip, latency, error = result
            if sched >= end:
                keep.append(result)
                continue
            window.requests += 1
            window.slip.record_value(max(1, round(slip * 1e6)))
            if slip > self._tolerance:
                window.late += 1
            if latency is not None:
                window.latency_sum += latency
                window.latency.record_value(min(_MAX_US, max(1, round(latency * 1e6))))
            if error is not None:
                window.errors += 1
                window.timeouts += error.startswith("no answer within")
                window.error_kinds[error] += 1
        self._results = keep
        return window

    async def _generate(self) -> None:
        i = 0
        while True:
            now = self._now()
            # When late, send every request that is due before yielding: catching up is
            # what keeps the schedule (and what the slip figures then report).
            while self._next_sched <= now:
                self._inflight[i] = self._next_sched
                task = asyncio.ensure_future(self._fire(i, self._next_sched))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                i += 1
                self._next_sched = self._t0 + i * self._period
            wait = self._next_sched - now
            # The loop's timers wake up to 1 ms late (epoll counts in milliseconds): sleep
            # until just before the time, then yield until it comes. That costs at most a
            # millisecond of spinning per request and keeps slip well under a millisecond.
            await asyncio.sleep(wait - _EARLY_S if wait > _EARLY_S + 0.0003 else 0)

    async def _fire(self, i: int, sched: float) -> None:
        sent = self._now()
        request = self._requests[i % len(self._requests)]
        latency: float | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self._timeout):
                status = await self._pool.request(request.raw, head=request.head)
            latency = self._now() - sched
            if not request.ok(status):
                error = f"HTTP {status}"
        except TimeoutError:
            latency = self._now() - sched  # the user waited at least this long
            error = TIMED_OUT.format(self._timeout)
        except (OSError, ProtocolError, asyncio.IncompleteReadError) as exc:
            error = _describe(exc)
        finally:
            del self._inflight[i]
        self._results.append((sched, sent - sched, latency, error))

    async def stop(self) -> None:
        """Stop sending; requests in flight are cancelled, connections closed."""
        pending = [t for t in (self._generator, *self._tasks) if t is not None]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._generator = None
        await self._pool.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "connection reset"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "connection closed mid-response"
    if isinstance(exc, ProtocolError):
        return f"bad response: {exc}"
    return type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
