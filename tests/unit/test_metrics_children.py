"""The metric helpers record the same values as ``labels(...)`` did, looking each label set's
child up once per process."""

from __future__ import annotations

from typing import Any

import pytest

from bot import metrics


def test_counts_land_on_the_labelled_samples() -> None:
    before = {
        "updates": metrics.sample(
            "chatcrm_updates_total", {"channel": "metrics-test", "result": "handled"}
        ),
        "sends": metrics.sample(
            "chatcrm_sends_total", {"channel": "metrics-test", "path": "reply", "result": "sent"}
        ),
        "limited": metrics.sample("chatcrm_rate_limited_total", {"channel": "metrics-test"}),
        "jobs": metrics.sample("chatcrm_job_runs_total", {"job": "metrics-test", "result": "ran"}),
        "handled": metrics.sample("chatcrm_handler_seconds_count", {"channel": "metrics-test"}),
        "seconds": metrics.sample("chatcrm_handler_seconds_sum", {"channel": "metrics-test"}),
    }
    for _ in range(3):
        metrics.count_update("metrics-test", "handled")
        metrics.count_sends("metrics-test", "reply", "sent", 2)
        metrics.count_rate_limited("metrics-test")
        metrics.count_job_run("metrics-test", "ran")
        metrics.observe_handler("metrics-test", 0.25)
    metrics.count_sends("metrics-test", "reply", "sent")
    assert (
        metrics.sample("chatcrm_updates_total", {"channel": "metrics-test", "result": "handled"})
        == before["updates"] + 3
    )
    assert (
        metrics.sample(
            "chatcrm_sends_total", {"channel": "metrics-test", "path": "reply", "result": "sent"}
        )
        == before["sends"] + 7
    )
    assert (
        metrics.sample("chatcrm_rate_limited_total", {"channel": "metrics-test"})
        == before["limited"] + 3
    )
    assert (
        metrics.sample("chatcrm_job_runs_total", {"job": "metrics-test", "result": "ran"})
        == before["jobs"] + 3
    )
    assert (
        metrics.sample("chatcrm_handler_seconds_count", {"channel": "metrics-test"})
        == before["handled"] + 3
    )
    assert (
        metrics.sample("chatcrm_handler_seconds_sum", {"channel": "metrics-test"})
        == before["seconds"] + 0.75
    )
    # another label set is its own sample
    assert (
        metrics.sample("chatcrm_updates_total", {"channel": "metrics-test", "result": "failed"})
        == 0
    )


def test_each_label_set_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[tuple[str, ...]] = []
    real = type(metrics.UPDATES).labels

    def labels(self: Any, *values: str) -> Any:
        looked_up.append(values)
        return real(self, *values)

    monkeypatch.setattr(type(metrics.UPDATES), "labels", labels)
    for _ in range(50):
        metrics.count_update("metrics-once", "handled")
        metrics.count_update("metrics-once", "duplicate")
        metrics.count_sends("metrics-once", "reply", "sent")
    assert sorted(looked_up) == [
        ("metrics-once", "duplicate"),
        ("metrics-once", "handled"),
        ("metrics-once", "reply", "sent"),
    ]
