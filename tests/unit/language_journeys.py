"""Chat journeys through most of what the bot says, run in one language for the language tests.

A stranger signs up (with a few wrong answers), uses every customer command and leaves a
message; the shop's staff record sales, ask and give approvals, look customers up, walk
``/settings`` and the wizards, launch a campaign and read ``/report`` and ``/stats``; the daily
jobs run on a later day. Every button a reply or a queued message offers is pressed too
(:func:`crawl`, :func:`press_outbox`), so new screens are covered without listing them here.
The people type names in the run's own language (ASCII in English): whatever they typed is
shown back as written, and :attr:`People.typed` lists it so the checks can leave it out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import select

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Channel
from bot.core.wire import payload_to_replies
from jobs.automations.birthday import run_birthday
from jobs.automations.expiry import run_expiry
from jobs.automations.tiers import run_tier_review
from jobs.automations.winback import run_winback
from jobs.digest import run_digest
from jobs.feedback import run_feedback
from storage.models import Member, OutboxMessage
from storage.raw_session import session_of
from tests.chat import Chat
from tests.unit.language_support import buttons_of
from tests.unit.rewards_support import make_reward
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

#: buttons that end what the rest of the run needs (an erasure, a removed colleague)
NEVER_PRESS: Final = re.compile(r"^del:yes|rmok|^lang:")
PHONE: Final = "081-234-5678"
#: what people type wrong on purpose, quoted back in the refusal
TYPOS: Final = ("brnach", "boss", "typed instead of pressed")
FRIEND_PHONE: Final = "089-999-0000"


@dataclass(frozen=True)
class People:
    """What the people of a run type, in the run's language."""

    locale: str
    member: str
    friend: str
    campaign: str
    segment: str
    reason: str
    note: str
    message: str
    answer: str
    template: str
    reward: tuple[str, str]
    others: tuple[str, ...]
    staff: tuple[str, str, str]

    @property
    def typed(self) -> tuple[str, ...]:
        return (
            self.member,
            self.friend,
            self.campaign,
            self.reason,
            self.note,
            self.message,
            self.answer,
            *self.reward,
            *self.others,
            *self.staff,
            *TYPOS,
        )


ENGLISH: Final = People(
    locale="en",
    member="Ploy",
    friend="Nok",
    campaign="Tea time",
    segment="tea_fans",
    reason="birthday gift",
    note="likes less sugar",
    message="do you deliver?",
    answer="yes we do",
    template="Hi {name}, {coupon} until {expires}",
    reward=("ชาไทย", "Thai tea"),
    others=("Malee", "Somchai", "Pim"),
    staff=("Boss", "Manager Mai", "Cashier Joy"),
)
THAI: Final = People(
    locale="th",
    member="พลอย",
    friend="นก",
    campaign="ชายามบ่าย",
    segment="tea_fans",
    reason="ของขวัญวันเกิด",
    note="ชอบหวานน้อย",
    message="ส่งถึงบ้านไหมคะ",
    answer="ส่งค่ะ",
    template="คุณ{name} รับ{coupon} ถึง {expires}",
    reward=("ชาไทย", "Thai tea"),
    others=("มาลี", "สมชาย", "พิม"),
    staff=("เจ้านาย", "ผู้จัดการใหม่", "แคชเชียร์จอย"),
)


async def crawl(chat: Chat, entry: Sequence[str], depth: int = 2) -> None:
    """Say ``entry`` (commands or texts), then press every button it offers, and every button
    those offer, down to ``depth`` presses; each path is replayed from ``entry``."""
    paths: list[tuple[str, ...]] = [()]
    seen: set[str] = set()
    while paths:
        path = paths.pop(0)
        for text in entry:
            await chat.say(text)
        for action in path:
            await chat.press(action)
        if len(path) < depth:
            for button in buttons_of(chat):
                if button.action not in seen and not NEVER_PRESS.search(button.action):
                    seen.add(button.action)
                    paths.append((*path, button.action))


async def press_outbox(app: App, locale: str, channel: Channel = Channel.TELEGRAM) -> None:
    """Each queued message's recipient presses each of its buttons once."""
    async with app.uow() as uow:
        rows = (await session_of(uow).execute(select(OutboxMessage))).scalars().all()
        queued = [(row.user_id, payload_to_replies(row.payload)) for row in rows]
    pressed: set[tuple[str, str]] = set()
    for user_id, replies in queued:
        chat = Chat(app, user_id=user_id, channel=channel, language_code=locale)
        chat.last = replies
        for button in buttons_of(chat):
            if (user_id, button.action) not in pressed and not NEVER_PRESS.search(button.action):
                pressed.add((user_id, button.action))
                await chat.press(button.action)


async def member_code(app: App, name: str) -> str:
    async with app.uow() as uow:
        found = await session_of(uow).execute(select(Member.member_code).where(Member.name == name))
        return str(found.scalar_one())


async def sign_up(app: App, people: People) -> Chat:
    """A stranger looks around, then signs up, with a wrong answer at every typed step."""
    chat = Chat(app, user_id="m1", language_code=people.locale, display_name=people.member)
    await chat.follow()
    for text in ("/help", "/points", "/rewards", "/language", "hello"):
        await chat.say(text)
    await chat.say("/start")
    await chat.press("su:join")
    await chat.say("typed instead of pressed")
    await chat.press("su:mkt:yes")
    await chat.say("   ")
    await chat.say(people.member)
    await chat.say("12")
    await chat.say(PHONE)
    await chat.say("31/02/2530")
    await chat.say("3/3/2530" if people.locale == "th" else "3/3/1987")
    await chat.say("female")
    await chat.press("su:g:female")
    await crawl(chat, (), depth=0)
    for button in buttons_of(chat):
        if button.action.startswith("su:b:") and button.action != "su:b:skip":
            await chat.press(button.action)
            break
    return chat


async def customer_commands(app: App, chat: Chat, people: People) -> None:
    """The member uses every customer command and answers what they ask."""
    for text in ("/points", "/card", "/history", "/invite", "/link", "/mydata", "/stop"):
        await chat.say(text)
    await chat.say("/resume")
    await crawl(chat, ("/profile",))
    await crawl(chat, ("/rewards",))
    await crawl(chat, ("/coupons",))
    await crawl(chat, ("/deleteme",), depth=1)
    await chat.press("del:no")
    await chat.say(people.message)
    friend = Chat(app, user_id="m2", language_code=people.locale, display_name=people.friend)
    code = await member_code(app, people.member)
    await friend.say(f"/start ref_{code}")
    await friend.say(f"ref {code}")
    await friend.say("/join WRONGCODE")


async def newcomers(app: App, owner: Chat, cashier: Chat, member: Chat, people: People) -> None:
    """A cashier claims an invite, an imported customer takes over their membership with a
    claim code, another signs up on LINE (no contact sharing), the member links LINE."""
    locale = people.locale
    invite = (await owner.say("/staff invite cashier asoke"))[-1].text
    await Chat(app, user_id="n1", language_code=locale, display_name=people.staff[2]).say(invite)
    imported = await make_member(app, people.friend, FRIEND_PHONE, locale=locale, points=300)
    await cashier.say(f"/customer {FRIEND_PHONE}")
    await cashier.press(f"cust:claim:{imported.id}")
    claim = cashier.last[-1].text
    await Chat(app, user_id="n2", language_code=locale).say(claim)
    line = Chat(app, "U" + "b" * 32, Channel.LINE, locale, people.others[0])
    await line.say("/start")
    for step in ("su:join", "su:mkt:no"):
        await line.press(step)
    await line.say(people.others[0])
    await line.say(FRIEND_PHONE)  # on file already: the answer says what to do instead
    link = (await member.say("/link"))[-1].text
    await Chat(app, user_id="U" + "c" * 32, channel=Channel.LINE, language_code=locale).say(link)


async def counter(app: App, people: People) -> tuple[Chat, Chat, Chat]:
    """Owner, manager and cashier at work: sales, approvals, look-ups, the team."""
    names = dict(zip(("owner", "manager", "cashier"), people.staff, strict=True))
    owner = await staff_chat(app, "o1", "owner", language_code=people.locale, name=names["owner"])
    manager = await staff_chat(
        app, "g1", "manager", language_code=people.locale, name=names["manager"]
    )
    cashier = await staff_chat(
        app, "c1", "cashier", "asoke", language_code=people.locale, name=names["cashier"]
    )
    for chat in (owner, manager, cashier):
        await chat.say("/staffmenu")
    code = await member_code(app, people.member)
    for text in (
        f"/sale {PHONE} 120 receipt=R1",
        f"/sale {PHONE} 120 receipt=R1",
        f"/sale {code} 60000 receipt=BIG",
        "/sale 000 abc",
        "/sale",
        "/void R1",
        "/void NOPE",
        f"/customer {PHONE}",
        f"/customer {people.member}",
        f"/tag {PHONE} +vip -new",
        f"/note {PHONE} {people.note}",
        "/redeem NOPE-NOPE-NOPE",
    ):
        await cashier.say(text)
    await press_outbox(app, people.locale)
    for text in (
        f"/adjust {PHONE} +50 {people.reason}",
        f"/adjust {PHONE} -5000 {people.reason}",
        "/void R1",
        "/report",
        "/staff",
        "/staff invite cashier asoke",
        "/staff invite boss",
        "/staff invites",
        "/inbox",
    ):
        await owner.say(text)
    await crawl(owner, ("/inbox",), depth=1)
    await owner.say(people.answer)
    return owner, manager, cashier


async def marketing(app: App, manager: Chat, people: People) -> None:
    """Segments and a campaign from the wizard to its statistics."""
    await manager.say("/segments")
    await manager.say(f"/segment new {people.segment} points >= 0")
    await manager.say(f"/segment show {people.segment}")
    for rule in ("brnach = asoke", "points >=", "tag = a or", "points >= and", "tag = a b"):
        await manager.say(f"/segment new bad {rule}")
    await crawl(manager, ("/segment new",), depth=2)
    await manager.say("/cancel")
    await manager.say(f"/campaign new {people.campaign}")
    await manager.say("points >=")
    await manager.say("points >= 0")
    await manager.say("{name.__class__}")
    await manager.say(people.template)
    await manager.press("cmpw:offer:buy_x_get_y")
    for answer in ("1-1", "-", "7", "mon-fri 14:00-16:00", "-", "25", "-"):
        await manager.say(answer)
    await manager.press("cmpw:when:now")
    await manager.say("0")
    async with app.uow() as uow:
        [campaign] = await uow.campaigns.recent(1)
    for verb in ("preview", "test"):
        await manager.say(f"/campaign {verb} {campaign.id}")
    await crawl(manager, (f"/campaign send {campaign.id}",), depth=1)
    await manager.say("/stats")
    await manager.say(f"/stats {campaign.id}")
    await manager.say("/campaign")


async def every_command(app: App, chats: Sequence[Chat]) -> None:
    """Each command, bare, from each of ``chats`` (usage lines, refusals, menus)."""
    for name in app.bus.router.commands:
        if name in {"deleteme", "stop", "language", "cancel"}:
            continue
        for chat in chats:
            await chat.say(f"/{name}")
            await chat.say("/cancel")


async def later_days(app: App, clock: FrozenClock) -> None:
    """The daily jobs, run on the next days and again months later."""
    for _ in range(2):
        for job in (
            run_birthday,
            run_expiry,
            run_tier_review,
            run_winback,
            run_digest,
            run_feedback,
        ):
            await job(app)
        clock.advance(timedelta(days=1))
    clock.advance(timedelta(days=400))
    for job in (run_winback, run_expiry, run_tier_review, run_digest):
        await job(app)


async def whole_shop(app: App, clock: FrozenClock, people: People) -> None:
    """Every journey above, in order, on one shop."""
    await ensure_branches(app)
    await make_reward(app, *people.reward, cost=20)
    for number, name in enumerate(people.others):
        phone = f"08{number}-000-0000"
        await make_member(app, name, phone, user_id=f"x{number}", locale=people.locale)
    member = await sign_up(app, people)
    await customer_commands(app, member, people)
    owner, manager, cashier = await counter(app, people)
    await newcomers(app, owner, cashier, member, people)
    await marketing(app, manager, people)
    await later_days(app, clock)
    await press_outbox(app, people.locale)
    await crawl(owner, ("/settings",), depth=3)  # last: it switches automations off and on
    await every_command(app, (owner, cashier, member, Chat(app, "s9", language_code=people.locale)))
    await member.say("/points")
    await member.say("/history")
