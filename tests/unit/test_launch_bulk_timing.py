"""``bench.launch_bulk`` times the launch as it times its baselines: from ``start_campaign`` to
its commit, not the draft made before it nor the deletion of its 2 × N rows after it (which had
put a round's clean-up on the launch's side of the ratio only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import launch_bulk
from bench.sending_support import Launch

#: a launch time no wall clock gives: the figure recorded must be the launch's own
SENTINEL = 1234.5


async def test_the_launch_round_records_the_launch_s_own_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = launch_bulk.launch_campaign

    async def launched(*args: Any, **kwargs: Any) -> Launch:
        done = await real(*args, **kwargs)
        return Launch(done.campaign_id, done.queued, SENTINEL)

    monkeypatch.setattr(launch_bulk, "launch_campaign", launched)
    seconds = await launch_bulk.rounds(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}", 30, 2)
    assert seconds["launch"] == [SENTINEL, SENTINEL]
    assert all(0 < value < SENTINEL for value in seconds["insert_select"])
    assert len(seconds["driver_bulk"]) == 2
