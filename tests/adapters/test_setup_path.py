"""``chatcrm telegram setup`` and ``chatcrm line setup`` share one path: build the channel,
run its setup, close it (also when it fails), and word a refusal as a start-up error."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.bootstrap import App
from bot.config import Settings
from bot.serve_checks import StartupError
from bot.server import set_up_channel, setup_line, setup_telegram


class Refused(RuntimeError):
    """The channel's own word for settings it cannot use."""


@dataclass
class FakeChannel:
    fail: Exception | None = None
    closed: bool = False
    ran_with: list[App] = field(default_factory=list)

    async def setup(self, app: App) -> list[str]:
        self.ran_with.append(app)
        if self.fail is not None:
            raise self.fail
        return ["done"]

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        CHATCRM_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'setup.db'}",
        _env_file=None,
    )


async def test_the_setup_path_runs_the_channel_part_and_closes_it(settings: Settings) -> None:
    channel = FakeChannel()
    done = await set_up_channel(settings, lambda _app: channel, lambda c, app: c.setup(app))
    assert done == ["done"]
    assert len(channel.ran_with) == 1
    assert channel.closed


async def test_a_refusal_becomes_a_startup_error_and_the_channel_is_closed(
    settings: Settings,
) -> None:
    channel = FakeChannel(fail=Refused("TELEGRAM_WEBHOOK_SECRET must be set"))
    with pytest.raises(StartupError, match="TELEGRAM_WEBHOOK_SECRET"):
        await set_up_channel(
            settings, lambda _app: channel, lambda c, app: c.setup(app), (Refused,)
        )
    assert channel.closed


async def test_other_errors_pass_through_and_the_channel_is_closed(settings: Settings) -> None:
    channel = FakeChannel(fail=ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        await set_up_channel(settings, lambda _app: channel, lambda c, app: c.setup(app))
    assert channel.closed


async def test_each_platform_refuses_to_set_up_without_its_credentials(
    settings: Settings,
) -> None:
    with pytest.raises(StartupError, match="TELEGRAM_BOT_TOKEN"):
        await setup_telegram(settings)
    with pytest.raises(StartupError, match="LINE_CHANNEL_SECRET"):
        await setup_line(settings)
