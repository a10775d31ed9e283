"""Two real ``chatcrm serve`` processes on one PostgreSQL database (issue 15, item 10): the
leader's campaign and both processes' replies to ``/points``, sent meanwhile to each in turn,
draw no 429 from the fake at 30/s, and every member gets the campaign once and every
``/points`` its answer. The setting of ``bench.scaleout`` at a smaller size; the bench measures
the rate, this test what must always hold."""

from __future__ import annotations

import pytest

from bench.scaleout import PLATFORM_RATE, campaign
from storage.db import is_sqlite

MEMBERS = 60


@pytest.mark.db
async def test_two_serve_processes_share_one_telegram_budget(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("several serve processes share one PostgreSQL database; SQLite is one process")
    run = await campaign(database_url, MEMBERS)
    assert run["accepted"] == MEMBERS
    assert run["duplicates"] == 0
    assert run["refused_429"] == 0
    assert run["busiest_window"] <= PLATFORM_RATE
    assert run["points_asked"] > 0
    assert run["points_answered"] == run["points_asked"]
    assert set(run["statuses"]) == {"sent"}
