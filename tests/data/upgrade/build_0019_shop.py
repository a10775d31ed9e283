"""Builds tests/data/upgrade/shop_0019.db with chatcrm as released at 6377c7e (schema 0019).

Run from a checkout of that commit, with its own virtual environment:
    git worktree add --detach /tmp/old 6377c7e && cd /tmp/old && ./dev setup
    .venv/bin/python /path/to/this/file OUT.db OUT.json
It is not imported by the suite (the old release's helpers are not this one's).
"""
# ruff: noqa
# mypy: ignore-errors

import asyncio
import itertools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text as sql

import tests.chat as chat_module
from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.demo import DemoParams, build_demo
from jobs.dispatcher import OutboxDispatcher
from storage.raw_session import session_of
from tests.chat import Chat
from tests.domain.campaign_support import make_campaign
from tests.unit.admin_support import ask_link, console_client, open_link
from tests.unit.dispatcher_support import FakeLine, FakeTelegram
from tests.unit.journey_support import join
from tests.unit.staff_support import ensure_branches, staff_chat

#: 14:00 in Bangkok on upgrade day's eve, and 22:30 the same day (inside the quiet hours)
AFTERNOON = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
NIGHT = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)


def actions(chat):
    return [b.action for r in chat.last for b in r.buttons]


async def main(out: Path, notes_path: Path) -> None:
    chat_module._event_ids = itertools.count(9_000_000)  # not the suite's test:1, test:2, ...
    await build_demo(out, DemoParams(members=40, months=2, seed=7), now=AFTERNOON)
    url = f"sqlite+aiosqlite:///{out}"
    settings = Settings(
        CHATCRM_DATABASE_URL=url, CHATCRM_PUBLIC_URL="https://shop.example", _env_file=None
    )
    clock = FrozenClock(AFTERNOON)
    app = await bootstrap(settings=settings, clock=clock, migrate=False)
    notes: dict[str, object] = {}
    chats = await _people(app, notes)
    await _in_flight(app, chats, notes)
    await _campaigns(app, clock, chats["owner"], notes)
    await app.close()
    notes_path.write_text(json.dumps(notes, ensure_ascii=False, indent=1, default=str))


async def _people(app, notes):
    await ensure_branches(app, ("asoke", "sukhumvit"))
    chats = {
        "owner": await staff_chat(app, "up-owner", "owner", language_code="en", name="Somchai"),
        "asoke": await staff_chat(app, "up-ca", "cashier", "asoke", language_code="en", name="Nok"),
        "sukhumvit": await staff_chat(app, "up-cs", "cashier", "sukhumvit", language_code="en"),
        "ploy": Chat(app, user_id="up-m1", language_code="en", display_name="Ploy"),
        "nok": Chat(
            app, user_id="up-m2", channel=Channel.LINE, language_code="en", display_name="Nok"
        ),
        "gone": Chat(app, user_id="up-m3", language_code="en", display_name="Gone"),
    }
    await join(chats["ploy"], name="Ploy Upgrade", phone="081-900-0001")
    await join(chats["nok"], name="Nok Upgrade", phone="081-900-0002")
    await join(chats["gone"], name="Gone Upgrade", phone="081-900-0003")
    await chats["ploy"].say("/card")
    notes["ploy_card"] = chats["ploy"].text()
    # the member codes, as the cashiers type them
    async with app.uow() as uow:
        rows = await session_of(uow).execute(
            sql("SELECT name, member_code FROM members WHERE name LIKE '% Upgrade'")
        )
        notes["codes"] = {name.split()[0]: code for name, code in rows.all()}
    return chats


async def _in_flight(app, chats, notes):
    codes, ploy, nok, gone = notes["codes"], chats["ploy"], chats["nok"], chats["gone"]
    asoke, sukhumvit, owner = chats["asoke"], chats["sukhumvit"], chats["owner"]
    await asoke.say(f"/sale {codes['Ploy']} 300 receipt=R-100")
    await sukhumvit.say(f"/sale {codes['Nok']} 200 receipt=R-200")
    await asoke.say(f"/sale {codes['Ploy']} 25000 receipt=R-900")  # over the cap: waits
    await sukhumvit.say(f"/sale {codes['Nok']} 26000 receipt=R-901")
    await gone.say("/deleteme")
    notes["deleteme_buttons"] = actions(gone)
    for action in actions(gone):
        if "yes" in action or ":y" in action or "confirm" in action:
            await gone.press(action)
            notes["deleteme_pressed"] = action
            break
    notes["erased_said"] = gone.text()
    await ploy.say("Do you have oat milk at Asoke?")
    notes["inbox_said"] = ploy.text()
    await ploy.say("/rewards")
    notes["rewards_buttons"] = actions(ploy)
    await ploy.press("rw:pick:1")
    await ploy.press("rw:ok:1")  # an issued coupon, not yet used at the till
    notes["ploy_coupon_said"] = ploy.text()
    await nok.say("/rewards")
    await nok.press("rw:pick:2")  # the confirm button is left unpressed
    notes["nok_confirm"] = actions(nok)
    half = Chat(app, user_id="up-m4", language_code="en", display_name="Half")
    await half.say("/start")
    await half.press("su:join")
    await half.press("su:mkt:yes")
    await half.say("Half Way")  # then the phone was never typed
    notes["half_said"] = half.text()
    notes["half_buttons"] = actions(half)
    token = await ask_link(owner)
    async with console_client(app) as client:
        signed = await open_link(client, token)
        notes["session_cookie"] = signed.headers.get("Set-Cookie", "")
    notes["unused_link"] = await ask_link(owner)


async def _campaigns(app, clock, owner, notes):
    campaign = await make_campaign(app, holdout_pct=0, name="Old tea", created_by="up-owner")
    await owner.say(f"/campaign send {campaign.id}")
    await owner.press(f"cmpa:send:{campaign.id}")
    notes["campaign_sent"] = campaign.id
    telegram, line = FakeTelegram(), FakeLine()
    dispatcher = OutboxDispatcher(
        app.uow, clock, {Channel.TELEGRAM: telegram, Channel.LINE: line}, concurrency=1
    )
    await dispatcher.drain_once(limit=12)
    notes["sent_before_upgrade"] = [p.user_id for p in telegram.pushes + line.pushes]
    clock.set(NIGHT)
    night = await make_campaign(app, holdout_pct=0, name="Night tea", created_by="up-owner")
    await owner.say(f"/campaign send {night.id}")
    await owner.press(f"cmpa:send:{night.id}")
    notes["campaign_night"] = night.id
    notes["owner_said"] = owner.text()
    await owner.say("/report")
    notes["report"] = owner.text()
    for campaign_id in (4, campaign.id):
        await owner.say(f"/stats {campaign_id}")
        notes[f"stats_{campaign_id}"] = owner.text()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
