"""Hostile but legal shop data, driven through signed LINE webhooks into the real adapter: every
request the bot makes to the fake LINE API must be one the real API accepts
(:mod:`tests.adapters.platform_limits` checks the documented limits the fake leaves out).

The shop: 30 rewards whose names are 100 characters of Thai with emoji, 20 branches named at
the 100-character limit, a shop name at its limit, a member whose name holds ``<``, ``&`` and
emoji, a staff owner on LINE.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.bootstrap import App
from bot.channels.line import LineChannel
from bot.core.messages import Channel
from shop.coupons import issue_coupon
from shop.profile import set_shop_name
from simulator.fakes.line_api import FakeLineApi
from simulator.fakes.line_webhooks import line_settings, postback_event, signed_webhook, text_event
from storage.models import Branch, Reward
from storage.raw_session import session_of
from tests.adapters.platform_limits import line_message_problems
from tests.unit.staff_support import make_member, make_staff

MEMBER = "Uhostile0000000000000000000000001"
OWNER = "Uowner00000000000000000000000000001"
#: 25 graphemes of Thai with an emoji: 4 of them make a 100-character name
THAI = "ชาไข่มุกทองคำ🧋พิเศษสุดๆ"
MEMBER_NAME = "<b>ปลอย & เพื่อน</b> 👩‍👩‍👧‍👦 " + "ก" * 60


def thai_name(i: int, length: int = 100) -> str:
    return (f"{i:02d} " + THAI * 10)[:length]


@pytest.fixture
async def client(app: App, fake: FakeLineApi, aiohttp_client: Any) -> TestClient[Any, Any]:
    line = LineChannel(line_settings(app.settings, fake), app.bus, app.uow, app.clock)
    line.retry_delays = (0.0, 0.0)
    web_app = web.Application()
    line.register(web_app)
    web_app.on_cleanup.append(lambda _: line.close())
    client: TestClient[Any, Any] = await aiohttp_client(web_app)
    return client


async def hostile_shop(app: App, rewards: int = 30, branches: int = 20) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        await set_shop_name(
            uow, "ร้าน" + THAI * 2 + "<&>" + "ก" * 5, "Shop <&> " + "x" * 51, "t", now
        )
        for i in range(branches):
            session_of(uow).add(
                Branch(code=f"b{i:02d}", name_th=thai_name(i), name_en=f"B{i} " + "x" * 96)
            )
        for i in range(rewards):
            session_of(uow).add(
                Reward(
                    name_th=thai_name(i),
                    name_en=f"Reward {i} <&> " + "y" * 80,
                    points_cost=10 + i,
                    stock=None,
                    created_at=now - timedelta(days=1),
                )
            )
        await uow.commit()


class LineUser:
    """One LINE user writing to the bot through signed webhooks."""

    def __init__(self, client: TestClient[Any, Any], app: App, fake: FakeLineApi, user: str):
        self.client, self.app, self.fake, self.user = client, app, fake, user

    async def _post(self, event: dict[str, Any]) -> None:
        body, signature = signed_webhook([event])
        headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
        async with self.client.post("/webhook/line", data=body, headers=headers) as response:
            assert response.status == 200

    async def say(self, text: str) -> list[dict[str, Any]]:
        token = self.fake.issue_reply_token(self.user)
        before = len(self.fake.calls)
        await self._post(text_event(self.user, text, token, self.app.clock.now()))
        return self.calls_since(before)

    async def press(self, data: str) -> list[dict[str, Any]]:
        token = self.fake.issue_reply_token(self.user)
        before = len(self.fake.calls)
        await self._post(postback_event(self.user, data, token, self.app.clock.now()))
        return self.calls_since(before)

    def calls_since(self, before: int) -> list[dict[str, Any]]:
        """The messages of every reply or push made since, each request checked."""
        out: list[dict[str, Any]] = []
        for call in self.fake.calls[before:]:
            if call.endpoint in {"reply", "push"}:
                assert line_message_problems(call.messages) == [], call.messages
                assert call.status == 200, call.json
                out.extend(call.messages)
        return out


def postbacks(messages: list[dict[str, Any]]) -> list[str]:
    """The postback data of every quick reply and Flex button in ``messages``."""
    out: list[str] = []
    for message in messages:
        for item in message.get("quickReply", {}).get("items", []):
            out.append(item["action"].get("data", ""))
        body = message.get("contents", {}).get("body", {}) if message["type"] == "flex" else {}
        for part in body.get("contents", []):
            if part.get("type") == "button":
                out.append(part["action"].get("data", ""))
    return [data for data in out if data]


async def test_thirty_long_thai_rewards_listed_picked_and_bought_stay_within_line_limits(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    await hostile_shop(app)
    await make_member(app, MEMBER_NAME, user_id=MEMBER, channel=Channel.LINE, points=100_000)
    member = LineUser(client, app, fake, MEMBER)
    listed = await member.say("/rewards")
    assert listed, "no answer to /rewards"
    picks = [data for data in postbacks(listed) if ":pick:" in data]
    assert len(picks) == 20  # the first page of 30
    confirm = await member.press(picks[-1])
    [ok] = [data for data in postbacks(confirm) if ":ok:" in data]
    bought = await member.press(ok)
    assert bought, "no answer to the purchase"
    assert await member.say("/coupons")


async def test_member_card_with_hostile_names_stays_within_line_limits(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    await hostile_shop(app, rewards=0, branches=0)
    await make_member(app, MEMBER_NAME, user_id=MEMBER, channel=Channel.LINE, points=99_999)
    member = LineUser(client, app, fake, MEMBER)
    card = await member.say("/card")
    assert any(m["type"] == "flex" for m in card), card


async def test_segment_wizard_over_twenty_long_branch_names_stays_within_line_limits(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    await hostile_shop(app, rewards=0)
    await make_staff(app, OWNER, "owner", channel=Channel.LINE, name=MEMBER_NAME)
    owner = LineUser(client, app, fake, OWNER)
    page = await owner.say("/segment new")
    branches = [d for d in postbacks(page) if ":b:b" in d]
    assert len(branches) == 20
    assert await owner.press(branches[-1])


async def test_reward_catalog_in_settings_with_thirty_long_rewards_stays_within_line_limits(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    await hostile_shop(app, branches=0)
    await make_staff(app, OWNER, "owner", channel=Channel.LINE, name=MEMBER_NAME)
    owner = LineUser(client, app, fake, OWNER)
    menu = await owner.say("/settings")
    [rewards] = [d for d in postbacks(menu) if d.endswith(":rw")]
    catalog = await owner.press(rewards)
    shown = [d for d in postbacks(catalog) if ":rw:" in d]
    assert shown
    assert await owner.press(shown[-1])


async def test_branches_list_with_twenty_branches_stays_within_line_limits(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    await hostile_shop(app, rewards=0)
    await make_staff(app, OWNER, "owner", channel=Channel.LINE, name=MEMBER_NAME)
    owner = LineUser(client, app, fake, OWNER)
    listed = await owner.say("/branches")
    shown = [d for d in postbacks(listed) if ":show:" in d]
    assert shown
    assert await owner.press(shown[-1])


#: a chain with 60 branches, each named at the 100-character limit in Thai: its picker is a
#: Flex bubble of 61 buttons whose JSON passes LINE's 30 KB for one bubble
CHAIN = 60


async def test_home_branch_picker_of_a_sixty_branch_chain_stays_within_line_limits(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    await hostile_shop(app, rewards=0, branches=CHAIN)
    await make_member(app, MEMBER_NAME, user_id=MEMBER, channel=Channel.LINE, points=10)
    member = LineUser(client, app, fake, MEMBER)
    profile = await member.say("/profile")
    [edit_branch] = [d for d in postbacks(profile) if d.endswith(":branch")]
    picker = await member.press(edit_branch)
    assert [d for d in postbacks(picker) if ":b:" in d]


async def test_every_branch_of_a_sixty_branch_chain_is_one_tap_on_its_page_on_line(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    """The picker's pages, each within LINE's limits, together offer every open branch; the
    last page leads back to the first, and a branch of page 3 is chosen with one tap."""
    await hostile_shop(app, rewards=0, branches=CHAIN)
    row = await make_member(app, MEMBER_NAME, user_id=MEMBER, channel=Channel.LINE, points=10)
    member = LineUser(client, app, fake, MEMBER)
    [edit_branch] = [d for d in postbacks(await member.say("/profile")) if d.endswith(":branch")]
    page = await member.press(edit_branch)
    offered: list[str] = []
    for _ in range(3):
        offered += [d for d in postbacks(page) if ":b:" in d and not d.endswith(":skip")]
        [turn] = [d for d in postbacks(page) if ":bp:" in d]
        page = await member.press(turn)
    assert len(set(offered)) == CHAIN
    assert [d for d in postbacks(page) if ":b:" in d][:1] == offered[:1]  # back at page 1
    await member.press(offered[45])
    async with app.uow() as uow:
        chosen = await uow.members.get(row.id)
    assert chosen is not None
    assert chosen.home_branch_id == int(offered[45].rsplit(":")[-1])


async def test_segment_wizard_of_a_sixty_branch_chain_stays_within_line_limits(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    await hostile_shop(app, rewards=0, branches=CHAIN)
    await make_staff(app, OWNER, "owner", channel=Channel.LINE, name=MEMBER_NAME)
    owner = LineUser(client, app, fake, OWNER)
    page = await owner.say("/segment new")
    assert [d for d in postbacks(page) if ":b:b" in d]


async def test_reward_wizard_offers_every_branch_of_a_sixty_branch_chain_on_line(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    """/settings → add a reward → its branches: every open branch is offered, a page at a
    time within LINE's limits, and one past the first twenty limits the reward."""
    await hostile_shop(app, rewards=0, branches=CHAIN)
    await make_staff(app, OWNER, "owner", channel=Channel.LINE, name=MEMBER_NAME)
    owner = LineUser(client, app, fake, OWNER)
    await owner.say("/settings")
    await owner.press("set:rw")
    await owner.press("set:rwadd")
    for answer in ("ชาไทย", "Thai tea", "120", "50"):
        await owner.say(answer)
    await owner.press("setv:skip")
    page = await owner.press("setv:skip")
    offered: list[str] = []
    for _ in range(3):
        offered += [d for d in postbacks(page) if d.startswith("setv:br:")]
        [turn] = [d for d in postbacks(page) if d.startswith("setv:bp:")]
        page = await owner.press(turn)
    assert sorted(set(offered)) == [f"setv:br:b{i:02d}" for i in range(CHAIN)]
    await owner.press("setv:br:b57")
    await owner.press("setv:done")
    await owner.press("setv:d30")
    await owner.press("setv:save")
    async with app.uow() as uow:
        (reward,) = await uow.rewards.all()
    assert reward.branch_codes == ["b57"]


async def test_every_branch_of_a_sixty_branch_chain_can_be_opened_from_branches_on_line(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    """/branches lists a chain 20 branches a page, each page within LINE's limits, and every
    branch's page (rename, close) is one tap from the list."""
    await hostile_shop(app, rewards=0, branches=CHAIN)
    await make_staff(app, OWNER, "owner", channel=Channel.LINE, name=MEMBER_NAME)
    owner = LineUser(client, app, fake, OWNER)
    page = await owner.say("/branches")
    offered: list[str] = []
    for _ in range(3):
        offered += [d for d in postbacks(page) if d.startswith("brn:show:")]
        [turn] = [d for d in postbacks(page) if d.startswith("brn:page:")]
        page = await owner.press(turn)
    assert sorted(set(offered)) == [f"brn:show:b{i:02d}" for i in range(CHAIN)]
    [close] = [d for d in postbacks(await owner.press("brn:show:b57")) if ":close:" in d]
    await owner.press(close)
    async with app.uow() as uow:
        closed = await uow.branches.by_code("b57")
    assert closed is not None
    assert not closed.active


async def test_every_reward_of_a_45_reward_catalog_can_be_opened_and_restocked_on_line(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    """/settings → Rewards lists 45 rewards of 100-character Thai names 20 a page, each page
    within LINE's limits, and the 45th is opened and restocked from its page."""
    await hostile_shop(app, rewards=45, branches=0)
    await make_staff(app, OWNER, "owner", channel=Channel.LINE, name=MEMBER_NAME)
    owner = LineUser(client, app, fake, OWNER)
    page = await owner.press("set:rw")
    offered: list[str] = []
    for _ in range(3):
        offered += [d for d in postbacks(page) if d.startswith("set:rw:")]
        [turn] = [d for d in postbacks(page) if d.startswith("set:rwp:")]
        page = await owner.press(turn)
    async with app.uow() as uow:
        ids = [reward.id for reward in await uow.rewards.all()]
    assert offered == [f"set:rw:{i}" for i in ids]
    shown = await owner.press(offered[44])
    [stock] = [d for d in postbacks(shown) if d.endswith(":stock")]
    await owner.press(stock)
    await owner.say("7")
    async with app.uow() as uow:
        restocked = await uow.rewards.get(ids[44])
    assert restocked is not None
    assert restocked.stock == 7


async def test_every_reward_a_member_can_afford_of_45_can_be_bought_on_line(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    """/rewards with 45 rewards of 100-character Thai names, all affordable: shown 20 a page,
    each page within LINE's limits, and the 45th (on page 3) bought with one tap there. Before,
    only the first 10 had a button: the 11th and later could not be redeemed from the chat."""
    await hostile_shop(app, rewards=45, branches=0)
    await make_member(app, MEMBER_NAME, user_id=MEMBER, channel=Channel.LINE, points=100_000)
    member = LineUser(client, app, fake, MEMBER)
    page = await member.say("/rewards")
    offered: list[str] = []
    for _ in range(3):
        offered += [d for d in postbacks(page) if ":pick:" in d]
        [turn] = [d for d in postbacks(page) if ":page:" in d]
        page = await member.press(turn)
    async with app.uow() as uow:
        ids = [reward.id for reward in await uow.rewards.available(app.clock.now())]
    assert offered == [f"rw:pick:{i}" for i in ids]
    again = [d for d in postbacks(page) if ":pick:" in d]
    assert again == offered[:20]  # the last page's button led back to the first
    page = await member.press("rw:page:2")
    confirm = await member.press(offered[44])
    [ok] = [data for data in postbacks(confirm) if ":ok:" in data]
    assert await member.press(ok)
    async with app.uow() as uow:
        buyer = await uow.identities.get(Channel.LINE.value, MEMBER)
        assert buyer is not None
        assert buyer.member_id is not None
        coupons = await uow.coupons.of_member(buyer.member_id, app.clock.now())
    assert [coupon.reward_id for coupon in coupons] == [ids[44]]


async def test_every_coupon_of_a_member_holding_45_opens_from_its_page_on_line(
    client: TestClient[Any, Any], app: App, fake: FakeLineApi
) -> None:
    """/coupons for a member holding 45 coupons of 100-character Thai rewards: 20 a page, each
    page within LINE's limits, the 45th coupon's QR one tap on page 3. Before, /coupons read
    the first 20 coupons and gave buttons to 10 of them."""
    member_id = (
        await make_member(app, MEMBER_NAME, user_id=MEMBER, channel=Channel.LINE, points=0)
    ).id
    now = app.clock.now()
    async with app.uow() as uow:
        issued = [
            await issue_coupon(
                uow,
                member_id,
                thai_name(i),
                f"Coupon {i} " + "y" * 90,
                now + timedelta(days=30 + i),
                now,
            )
            for i in range(45)
        ]
        await uow.commit()
    member = LineUser(client, app, fake, MEMBER)
    page = await member.say("/coupons")
    offered: list[str] = []
    for _ in range(3):
        offered += [d for d in postbacks(page) if d.startswith("cpn:") and ":page:" not in d]
        [turn] = [d for d in postbacks(page) if d.startswith("cpn:page:")]
        page = await member.press(turn)
    assert offered == [f"cpn:{coupon.id}" for coupon in issued]
    shown = await member.press(offered[44])
    assert any(message["type"] == "image" for message in shown)  # the 45th coupon's QR
