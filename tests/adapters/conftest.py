"""The LINE adapter tests' fake API and channel (the Telegram tests define their own ``fake``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import App
from bot.channels.line import LineChannel
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import line_settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeLineApi]:
    api = FakeLineApi()
    async with api.running():
        yield api


@pytest.fixture
async def channel(app: App, fake: FakeLineApi) -> AsyncIterator[LineChannel]:
    """The LINE channel on the fake, its retries without waits."""
    line = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
    line.retry_delays = (0.0, 0.0)
    yield line
    await line.close()
