"""PDPA erasure reaches everything (issue 15, item 1).

A member signs up on each channel and uses every feature that stores something (sale, coupon,
inbox message, tag, note, feedback, campaign, /mydata with its media link); after /deleteme
none of their name, phone (every stored format), birthday, chat id or words is left in any
table (every text, JSON and binary column, found through the metadata), in the SQLite file
and its WAL, or in the media store, and their unused coupon no longer works.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import LargeBinary, String, Text, select
from sqlalchemy.types import JSON

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.web import build_web_app
from jobs.feedback import run_feedback
from shop.campaigns.launch import segment_env, start_campaign
from storage.models import Base, Feedback, Member, OutboxMessage
from storage.raw_session import session_of
from tests.chat import Chat
from tests.domain.campaign_support import make_campaign
from tests.unit.inbox_support import add_sale
from tests.unit.journey_support import join
from tests.unit.rewards_support import make_coupon
from tests.unit.staff_support import ensure_branch, staff_chat
from wording.campaigns import CampaignWording


@dataclass(frozen=True)
class Person:
    """One member's personal data, as typed and as stored."""

    channel: Channel
    user_id: str
    name: str
    typed_phone: str
    words: str
    note: str
    tag: str

    def traces(self) -> list[str]:
        """Every string that would give the person away if found after their erasure."""
        digits = self.typed_phone.replace("-", "")
        return [
            self.user_id,
            self.name,
            self.typed_phone,
            digits,  # 0812345678
            "+66" + digits[1:],  # E.164
            digits[1:],  # 812345678: any other format holds it
            self.words,
            self.note,
            self.tag,
        ]


TELEGRAM = Person(
    Channel.TELEGRAM, "7751234", "Zanzibarina Telegramova", "081-234-5678",
    "my secret pudding order", "allergic to zanzinuts", "zanzitag",
)  # fmt: skip
LINE = Person(
    Channel.LINE, "U0f3e9a1b2c3d4e5f60718293a4b5c6d7", "Quokkalina Linewood", "089-765-4321",
    "where is my quokkacake", "prefers quokka tables", "quokkatag",
)  # fmt: skip
BIRTHDAY_TRACES = ("1987-05-01", "01/05/2530", "1987-05-01T")


async def _member(app: App, name: str) -> Member:
    async with app.uow() as uow:
        found = await session_of(uow).scalars(select(Member).where(Member.name == name))
        return found.one()


async def _use_everything(app: App, clock: FrozenClock, person: Person) -> tuple[Chat, str]:
    """Sign up, buy (once over the cashier's cap), get a coupon, write to the shop, get tagged
    and noted, rate a visit badly with a comment, be in a campaign."""
    chat = Chat(app, user_id=person.user_id, channel=person.channel, display_name=person.name)
    await join(chat, name=person.name, phone=person.typed_phone)
    member = await _member(app, person.name)
    cashier = Chat(app, user_id="cash1", display_name="Cashier")
    await cashier.say(f"/sale {member.member_code} 250 receipt=R-{person.channel.value}")
    # over the cashier's daily cap: the owner is asked to approve, the alert names the member
    await cashier.say(f"/sale {member.member_code} 25000 receipt=B-{person.channel.value}")
    await chat.say(person.words)
    await cashier.say(f"/tag {member.member_code} +{person.tag}")
    await cashier.say(f"/note {member.member_code} {person.note}")
    coupon = await make_coupon(app, member.id)
    await add_sale(app, member.id, "asoke", clock.now())
    clock.advance(timedelta(hours=3))
    await run_feedback(app)
    async with app.uow() as uow:
        feedback = (await session_of(uow).scalars(
            select(Feedback).where(Feedback.member_id == member.id).order_by(Feedback.id)
        )).first()  # fmt: skip
    assert feedback is not None
    await chat.press(f"fb:{feedback.id}:1")
    await chat.say(person.words + " was cold")
    await _campaign(app)
    return chat, coupon.code


async def _campaign(app: App) -> None:
    campaign = await make_campaign(app, holdout_pct=0)
    async with app.uow() as uow:
        found = await uow.campaigns.get(campaign.id)
        assert found is not None
        env = await segment_env(uow, app.clock.now(), app.settings.tz)
        await start_campaign(uow, found, env, app.clock.now(), wording=CampaignWording())
        await uow.commit()


async def _mydata_link(app: App, chat: Chat) -> str:
    """/mydata rendered by the LINE adapter: the export is stored and linked."""
    replies = await chat.say("/mydata")
    settings = app.settings.model_copy(
        update={"line_channel_secret": "s" * 32, "line_channel_access_token": "t"}
    )
    channel = LineChannel(settings, app.bus, app.uow, app.clock)
    try:
        messages = await channel.render(chat.user_id, replies)
    finally:
        await channel.close()
    texts = [str(m.get("text", "")) for m in messages]
    (link,) = [word for t in texts for word in t.split() if "/media/" in word]
    return link.removeprefix(str(app.settings.public_url))


async def _staff_alert_causes(app: App) -> set[str]:
    async with app.uow() as uow:
        keys = await session_of(uow).scalars(select(OutboxMessage.dedupe_key))
        return {key.split(":")[0] for key in keys if "|s" in key}


async def _erase(chat: Chat) -> None:
    await chat.say("/deleteme")
    await chat.press("del:yes")


async def _found_in_tables(app: App, traces: Sequence[str]) -> list[str]:
    """ "table.column: trace" for every trace found in a text, JSON or binary column."""
    found = []
    async with app.uow() as uow:
        session = session_of(uow)
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text | JSON | LargeBinary):
                    continue
                values = (await session.execute(select(column))).scalars().all()
                blob = "\n".join(
                    v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values
                )
                found += [f"{table.name}.{column.name}: {t}" for t in traces if t in blob]
    return found


async def _found_in_sqlite_files(app: App, traces: Sequence[str]) -> list[str]:
    """Traces in the raw bytes of the SQLite file and its WAL, after a checkpoint."""
    if app.engine.dialect.name != "sqlite":
        return []
    path = Path(str(app.engine.url.database))
    checkpointing = sqlite3.connect(path)  # outside any transaction: the app begins each one
    try:
        checkpointing.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        checkpointing.close()
    found = []
    for file in (path, path.with_name(path.name + "-wal")):
        raw = file.read_bytes() if file.exists() else b""
        found += [f"{file.name}: {t}" for t in traces if t.encode() in raw]
    return found


async def test_after_deleteme_nothing_of_the_member_is_left_anywhere(
    app: App, clock: FrozenClock
) -> None:
    await ensure_branch(app, "asoke")
    await staff_chat(app, "own1", "owner")
    await staff_chat(app, "cash1", "cashier", "asoke")
    chats = {p: await _use_everything(app, clock, p) for p in (TELEGRAM, LINE)}
    link = await _mydata_link(app, chats[LINE][0])
    assert {"inbox", "feedback", "approval"} <= await _staff_alert_causes(app)
    client = TestClient(TestServer(build_web_app(app, [])))
    await client.start_server()
    try:
        assert (await client.get(link)).status == 200  # the export is there before erasure
        for chat, _ in chats.values():
            await _erase(chat)
        assert (await client.get(link)).status == 404
    finally:
        await client.close()
    cashier = Chat(app, user_id="cash1", display_name="Cashier")
    for _, code in chats.values():
        await cashier.say(f"/redeem {code}")
        assert "ชานมไข่มุกฟรี" not in cashier.text()  # the gift is not handed over
    traces = [t for p in (TELEGRAM, LINE) for t in p.traces()] + list(BIRTHDAY_TRACES)
    assert await _found_in_tables(app, traces) == []
    assert await _found_in_sqlite_files(app, traces) == []
