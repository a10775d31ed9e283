"""The Prometheus metrics of a chatcrm process, served as text by ``GET /metrics``.

The metric objects live in prometheus-client's process-wide default registry (so the Python
and process collectors come along), one set per process: several ``serve`` processes are
scraped one by one and summed by Prometheus. Code records at its seams through the small
functions below, which keep label values to a closed set (no user ids in labels, ever).

=================================  ======================  ==================================
metric                             labels                  recorded by
=================================  ======================  ==================================
chatcrm_updates_total              channel, result         the bus (handled, duplicate,
                                                           domain_error, failed) and the
                                                           webhooks (rejected, invalid,
                                                           ignored)
chatcrm_handler_seconds            channel                 the bus: one unit of work, end to end
chatcrm_outbox_pending             channel                 ``/metrics``, read at every scrape
chatcrm_sends_total                channel, path, result   the dispatcher (path ``outbox``) and
                                                           the webhook reply (path ``reply``)
chatcrm_rate_limited_total         channel                 the platform error seams (429s)
chatcrm_line_quota_remaining       —                       each read of LINE's monthly quota
chatcrm_job_runs_total             job, result             the scheduler (ran, failed)
=================================  ======================  ==================================
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

M = TypeVar("M", bound=MetricWrapperBase)

#: the registry ``/metrics`` serves
registry: Final[CollectorRegistry] = REGISTRY

UPDATES: Final = Counter(
    "chatcrm_updates",
    "Inbound updates/events by channel and how they ended",
    ["channel", "result"],
    registry=registry,
)
HANDLER_SECONDS: Final = Histogram(
    "chatcrm_handler_seconds",
    "Time the bus took for one inbound event (load, route, save, commit)",
    ["channel"],
    # a chat bot answers in tens of milliseconds; Telegram and LINE give up after seconds
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=registry,
)
OUTBOX_PENDING: Final = Gauge(
    "chatcrm_outbox_pending",
    "Outbox rows waiting to be sent, by channel (read when scraped)",
    ["channel"],
    registry=registry,
)
SENDS: Final = Counter(
    "chatcrm_sends",
    "Messages sent to a platform by channel, path (reply or outbox) and outcome",
    ["channel", "path", "result"],
    registry=registry,
)
RATE_LIMITED: Final = Counter(
    "chatcrm_rate_limited",
    "429 answers from a platform (rate limits and LINE's monthly quota)",
    ["channel"],
    registry=registry,
)
LINE_QUOTA_REMAINING: Final = Gauge(
    "chatcrm_line_quota_remaining",
    "LINE messages left this month as of the last quota read (-1: unlimited)",
    registry=registry,
)
JOB_RUNS: Final = Counter(
    "chatcrm_job_runs",
    "Periodic job runs by job and result",
    ["job", "result"],
    registry=registry,
)


#: each metric's child per label values, as ``labels()`` returned it the first time: the label
#: values are a closed set, and ``labels()`` checks and joins them under a lock on every call
_children: dict[tuple[Any, ...], Any] = {}


def _child(metric: M, *labels: str) -> M:
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def count_update(channel: str, result: str) -> None:
    _child(UPDATES, channel, result).inc()


def observe_handler(channel: str, seconds: float) -> None:
    _child(HANDLER_SECONDS, channel).observe(seconds)


def count_sends(channel: str, path: str, result: str, count: int = 1) -> None:
    _child(SENDS, channel, path, result).inc(count)


def count_rate_limited(channel: str) -> None:
    _child(RATE_LIMITED, channel).inc()


def set_line_quota(limit: int | None, used: int) -> None:
    LINE_QUOTA_REMAINING.set(-1 if limit is None else max(limit - used, 0))


def count_job_run(job: str, result: str) -> None:
    _child(JOB_RUNS, job, result).inc()


def set_outbox_pending(channel: str, pending: int) -> None:
    OUTBOX_PENDING.labels(channel).set(pending)


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    """The current value of one sample (0 when absent): for tests and benchmarks."""
    value = registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value
