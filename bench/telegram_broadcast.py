"""Telegram broadcast: a campaign through the real dispatcher and adapter to the rate-enforcing
fake Bot API.

``python -m bench.telegram_broadcast [--quick]``. A scratch SQLite shop gets N members with a
Telegram chat each, a campaign to all of them is launched (audience snapshot + outbox rows),
and the real :class:`~jobs.dispatcher.OutboxDispatcher` with the real ``TelegramChannel`` and
``PlatformLimits`` sends it to :class:`simulator.fakes.telegram_api.FakeTelegramAPI`, which
answers 429 to anything above its global rate in any 1-second window. The fake runs on a
thread and event loop of its own (``serving_apart``), so its windows count arrivals, not when a
busy loop shared with the app got round to reading them.

Runs (baseline = the fake's allowed rate, measured side by side in the same process):

- fake at 30/s, ``TELEGRAM_RATE=30`` — 600 recipients (quick 150);
- fake at 30/s, the shipped default ``TELEGRAM_RATE=28`` (a margin under the limit) — same N;
- fake at 1,000/s, ``TELEGRAM_RATE=1000`` — 20,000 recipients (quick 1,000): headroom.

Targets per run: accepted msg/s ÷ allowed rate >= 0.95; 429s = 0; the most accepted in any
sliding 1-second window ÷ rate <= 1.0.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bench.report import Target, publish
from bench.sending_support import (
    add_members,
    drain,
    launch_campaign,
    scratch_app,
    statuses,
    steady_rate,
    window_max,
)
from bot.channels.telegram import TelegramChannel
from bot.core.messages import Channel
from jobs.ratelimit import PlatformLimits
from simulator.fakes.apart import serving_apart
from simulator.fakes.telegram_api import TOKEN, FakeTelegramAPI

MESSAGE = "Khun {name}, 1-get-1 milk tea Mon-Fri 14-16"


async def broadcast(
    folder: Path, recipients: int, fake_rate: int, our_rate: float
) -> dict[str, Any]:
    """One campaign to ``recipients`` members; what the fake accepted, refused and when."""
    url = f"sqlite+aiosqlite:///{folder / f'tg_{fake_rate}_{our_rate}.db'}"
    fake = FakeTelegramAPI(rate=fake_rate)
    async with serving_apart(fake) as (_, base), scratch_app(url) as app:
        await add_members(app.engine, recipients, "telegram")
        launched = await launch_campaign(app, MESSAGE)
        changes = {
            "telegram_bot_token": TOKEN,
            "telegram_api_base": base,
            "telegram_rate": our_rate,
        }
        settings = app.settings.model_copy(update=changes)
        channel = TelegramChannel(settings, app.bus, app.uow, app.clock)
        try:
            seconds = await drain(
                app,
                {Channel.TELEGRAM: channel},
                # as the server builds it: the adapter's late answers cost the bucket slots
                PlatformLimits.from_settings(settings, {Channel.TELEGRAM: channel.arrivals}),
                within=max(recipients / our_rate * 3, recipients / 50) + 30,
            )
        finally:
            await channel.close()
        outcome = await statuses(app)
    times = [call.at for call in fake.sent()]
    return {
        "recipients": recipients,
        "queued": launched.queued,
        "launch_s": round(launched.seconds, 3),
        "drain_s": round(seconds, 3),
        "accepted": len(times),
        "distinct_chats": len({call.chat_id for call in fake.sent()}),
        "rate_per_s": steady_rate(times),
        "busiest_window": window_max(times),
        "busiest_clock_second": fake.rates.busiest_second,
        "refused_429": fake.rates.refused,
        "statuses": outcome,
    }


def targets_of(label: str, fake_rate: int, run: dict[str, Any]) -> list[Target]:
    n = run["recipients"]
    return [
        Target(
            f"{label}: accepted msg/s ÷ allowed",
            run["rate_per_s"],
            fake_rate,
            "msg/s",
            0.95,
            note=f"{n} recipients, {run['accepted']} accepted in {run['drain_s']} s",
        ),
        Target(f"{label}: 429s", run["refused_429"], 1, "429s", 0, "<="),
        Target(
            f"{label}: busiest 1-s window ÷ allowed",
            run["busiest_window"],
            fake_rate,
            "msg",
            1.0,
            "<=",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (CI)")
    args = parser.parse_args()
    slow, fast = (150, 1_000) if args.quick else (600, 20_000)
    runs = (
        ("30/s, TELEGRAM_RATE=30", slow, 30, 30.0),
        ("30/s, TELEGRAM_RATE=28 (default)", slow, 30, 28.0),
        ("1000/s, TELEGRAM_RATE=1000", fast, 1000, 1000.0),
    )
    targets: list[Target] = []
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="chatcrm-tg-") as folder:
        for label, recipients, fake_rate, our_rate in runs:
            run = asyncio.run(broadcast(Path(folder), recipients, fake_rate, our_rate))
            extra[label] = run
            targets += targets_of(label, fake_rate, run)
    publish("telegram_broadcast", targets, quick=args.quick, extra=extra)


if __name__ == "__main__":
    main()
