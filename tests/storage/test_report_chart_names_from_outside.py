"""``/report``'s charts as an owner on Telegram receives them, for a shop whose branches are
named as Thai shops name them: Thai with its marks, an emoji, and — in Yaowarat, Bangkok's
Chinatown — Chinese characters beside the Thai. Asked through the real webhook; the charts
arrive as photos at the fake Bot API. Every character of a label is drawn from a font that
has it (matplotlib warns "Glyph … missing from font(s)" and draws an empty box when none
does), as campaign names already are (``handlers.campaigns.chart_font.drawable``)."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.bootstrap import App
from shop.branches import add_branch
from simulator.fakes.telegram_updates import text_update
from tests.e2e.telegram_world import TelegramWorld, telegram_world
from tests.unit.inbox_support import add_sale
from tests.unit.staff_support import make_member, make_staff

OWNER = 5570001


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramWorld]:
    async with telegram_world(app) as world:
        yield world


async def _shop(app: App, branches: list[tuple[str, str, str]]) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        for code, th, en in branches:
            await add_branch(uow, code, th, en, "t", now)
        await uow.commit()
    member = await make_member(app, "พลอย", "0811111111", user_id="m1")
    for day, (code, _, _) in enumerate(branches, 1):
        await add_sale(app, member.id, code, now - timedelta(days=day), str(100 * day))


async def _report(tg: TelegramWorld, language: str) -> tuple[list[str], list[str]]:
    """The charts' file names as sent, and the glyph warnings drawing them raised."""
    await make_staff(tg.app, str(OWNER), "owner")
    update = text_update(1, OWNER, "/report")
    update["message"]["from"]["language_code"] = language
    before = len(tg.fake.calls)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert await tg.post(update) == 200
    photos = [
        name
        for call in tg.fake.calls[before:]
        if call.method == "sendPhoto" and call.status == 200
        for name in call.filenames.values()
    ]
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    return photos, glyphs


@pytest.mark.parametrize("language", ["th", "en"])
async def test_thai_branch_names_with_marks_and_an_emoji_are_drawn_whole(
    tg: TelegramWorld, language: str
) -> None:
    await _shop(
        tg.app,
        [
            ("siam", "สยามสแควร์ 🧋", "Siam Square 🧋"),
            ("chiangmai", "เชียงใหม่ นิมมานฯ", "Chiang Mai Nimman"),
            ("ubon", "อุบลฯ (ทุ่งศรีเมือง)", "Ubon – Thung Si Mueang"),
        ],
    )
    photos, glyphs = await _report(tg, language)
    assert "branches.png" in photos, photos
    assert glyphs == []


async def test_a_branch_named_in_chinese_and_thai_has_no_empty_boxes_in_the_chart(
    tg: TelegramWorld,
) -> None:
    await _shop(tg.app, [("yaowarat", "เยาวราช 分店", "Yaowarat 分店"), ("siam", "สยาม", "Siam")])
    photos, glyphs = await _report(tg, "th")
    assert "branches.png" in photos, photos
    assert glyphs == []
