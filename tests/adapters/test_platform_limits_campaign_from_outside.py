"""A campaign built in the LINE chat by the owner with hostile but legal content — a 2,000-
character template of ``{name}`` placeholders, an offer and a coupon title at their 100-
character limits in Thai with emoji, a 20-character button label with an emoji — sent to members
whose names hold ``<``, ``&`` and emoji: every request to the fake LINE API must be one the
real API accepts (:mod:`tests.adapters.platform_limits`)."""

from __future__ import annotations

import warnings
from typing import Any

from aiohttp.test_utils import TestClient

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.core.messages import Channel
from jobs.dispatcher import OutboxDispatcher
from jobs.ratelimit import PlatformLimits
from shop.contact_policy import SETTINGS_KEY
from simulator.fakes.line_api import Call, FakeLineApi
from simulator.fakes.line_webhooks import line_settings
from tests.adapters.platform_limits import line_message_problems
from tests.adapters.test_platform_limits_from_outside import (
    MEMBER_NAME,
    OWNER,
    THAI,
    LineUser,
    client,  # noqa: F401 (the fixture)
    hostile_shop,
    postbacks,
    thai_name,
)
from tests.unit.staff_support import make_member, make_staff

#: the longest template the wizard takes: 2,000 characters, nearly all placeholders
TEMPLATE = "{name} " * 284 + THAI[:10]
LABEL = "🧋รับเลย" + "ก" * 13  # 20 characters, 21 UTF-16 units
MEMBERS = [f"Umember{n:026d}" for n in range(3)]


async def walk_wizard(owner: LineUser, name: str = thai_name(1, 80)) -> None:
    """``/campaign new`` to the saved draft #1, pressing the first offered button or typing the
    next hostile answer."""
    messages = await owner.say("/campaign new " + name)
    answers = iter([TEMPLATE, thai_name(7, 100), thai_name(8, 100), "-", "-", "-", "-", LABEL])
    for _ in range(20):
        pressable = [d for d in postbacks(messages) if not d.endswith("cancel")]
        if any(d.startswith("cmd:campaign") for d in pressable):
            return  # the draft is saved
        if pressable:
            messages = await owner.press(pressable[0])
        else:
            messages = await owner.say(next(answers))
    raise AssertionError("the wizard did not save a draft")


async def sent_campaign(
    http: TestClient[Any, Any], app: App, fake: FakeLineApi, name: str = thai_name(1, 80)
) -> tuple[LineUser, list[Call]]:
    """Three members, the owner's campaign #1 built, tested and sent; the dispatcher's calls."""
    await hostile_shop(app, rewards=0, branches=3)
    for n, user in enumerate(MEMBERS):
        phone = f"081-234-56{n:02d}"
        await make_member(app, MEMBER_NAME, phone, user_id=user, channel=Channel.LINE, points=50)
    async with app.uow() as uow:
        await uow.settings.put(SETTINGS_KEY, {"quiet_hours": ["00:00", "00:00"]}, app.clock.now())
        await uow.commit()
    await make_staff(app, OWNER, "owner", channel=Channel.LINE, name=MEMBER_NAME)
    owner = LineUser(http, app, fake, OWNER)
    await walk_wizard(owner, name)
    assert await owner.say("/campaign test 1")
    [confirm] = [d for d in postbacks(await owner.say("/campaign send 1")) if ":send:" in d]
    assert await owner.press(confirm)

    settings = line_settings(app.settings, fake)
    channel = LineChannel(settings, app.bus, app.uow, app.clock)
    channel.retry_delays = (0.0, 0.0)
    dispatcher = OutboxDispatcher(
        app.uow, app.clock, {Channel.LINE: channel}, limiter=PlatformLimits.from_settings(settings)
    )
    try:
        before = len(fake.calls)
        await dispatcher.drain_once()
    finally:
        await channel.close()
    return owner, [c for c in fake.calls[before:] if c.endpoint in {"push", "multicast"}]


async def test_a_hostile_campaign_sent_claimed_and_listed_stays_within_line_limits(
    client: TestClient[Any, Any],  # noqa: F811
    app: App,
    fake: FakeLineApi,
) -> None:
    owner, sent = await sent_campaign(client, app, fake)
    assert sent, "the campaign sent nothing"
    for call in sent:
        assert line_message_problems(call.messages) == [], call.messages
        assert call.status == 200, call.json
    reached = {u for c in sent for u in ([c.json["to"]] if c.endpoint == "push" else c.json["to"])}
    assert reached
    member = LineUser(client, app, fake, sorted(reached)[0])
    claims = [d for c in sent for d in postbacks(c.messages) if d.startswith("cmp:")]
    assert claims
    claimed = await member.press(claims[0])
    assert [m["type"] for m in claimed] == ["text", "image"]
    assert await member.say("/coupons")
    for command in ("/campaigns", "/stats 1", "/report", "/customer ปลอย", "/inbox"):
        assert await owner.say(command), command


async def test_the_stats_chart_of_a_campaign_named_with_an_emoji_draws_every_character(
    client: TestClient[Any, Any],  # noqa: F811
    app: App,
    fake: FakeLineApi,
) -> None:
    owner, sent = await sent_campaign(client, app, fake, "🧋 1 แถม 1 บ่ายวันธรรมดา")
    assert sent
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = await owner.say("/stats 1")
    assert any(m["type"] == "image" for m in stats), stats
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []
