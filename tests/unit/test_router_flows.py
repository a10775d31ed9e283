"""A conversation step is a route: the router re-checks the flow's audience at every step, so a
person whose role was lowered (or whose membership ended) since the flow began cannot finish it."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.core.messages import Reply
from bot.i18n import t
from handlers.context import Context
from handlers.router import Audience, Command, Router
from tests.unit.inbox_support import threads
from tests.unit.sales_support import queued
from tests.unit.staff_support import make_staff, member_chat, staff_chat


async def _begin(ctx: Context) -> list[Reply]:
    ctx.begin("mgr", "ask")
    return [Reply(text="asked")]


def _router(steps: list[str]) -> Router:
    """``/begin`` starts the managers' flow ``mgr``; each step it runs is noted in ``steps``."""

    async def step(ctx: Context) -> list[Reply]:
        steps.append(ctx.inbound.text or ctx.args)
        return [Reply(text="stepped")]

    router = Router()
    router.command(Command("begin", _begin, Audience.MANAGER))
    router.flow("mgr", step, Audience.MANAGER)
    return router


async def _conversation(app: App, user_id: str) -> object:
    async with app.uow() as uow:
        return await uow.conversations.get("telegram", user_id, app.clock.now())


async def test_a_flow_begun_as_a_manager_is_refused_once_the_role_is_lowered(app: App) -> None:
    steps: list[str] = []
    app.bus.router = _router(steps)
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/begin")
    await manager.say("first")
    assert steps == ["first"]
    await make_staff(app, "mg", "cashier")  # lowered, with the conversation still saved

    assert (await manager.say("second"))[0].text == t("th", "error.not_allowed")
    assert steps == ["first"]
    assert await _conversation(app, "mg") is None  # ended: the next text is no step either
    await make_staff(app, "mg", "manager")
    await manager.say("third")
    assert steps == ["first"]


async def test_a_flow_button_is_refused_once_the_role_is_lowered(app: App) -> None:
    steps: list[str] = []
    app.bus.router = _router(steps)
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/begin")
    await make_staff(app, "mg", "cashier")

    assert (await manager.press("mgr:ok"))[0].text == t("th", "error.not_allowed")
    assert steps == []


async def test_the_campaign_wizard_is_refused_to_a_demoted_manager(app: App) -> None:
    manager = await staff_chat(app, "boss", "manager")
    await manager.say("/campaign new Tea time")
    await make_staff(app, "boss", "cashier")

    await manager.say("points >= 0")
    assert manager.text() == t("th", "error.not_allowed")
    assert await _conversation(app, "boss") is None


async def test_a_typed_redeem_code_is_refused_to_someone_no_longer_staff(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier")
    await cashier.say("/redeem")
    async with app.uow() as uow:
        staff = await uow.staff.by_identity("telegram", "c1")
        assert staff is not None
        staff.active = False
        await uow.commit()

    await cashier.say("ABCD-1234")
    assert cashier.text() == t("th", "error.not_allowed")


async def test_an_inbox_answer_is_refused_to_a_manager_demoted_after_pressing_reply(
    app: App, clock: FrozenClock
) -> None:
    manager = await staff_chat(app, "mgr", "manager")
    chat, _ = await member_chat(app)
    await chat.say("hello")
    [thread] = await threads(app)
    await manager.press(f"ibr:{thread.id}")
    await make_staff(app, "mgr", "cashier")
    clock.advance(timedelta(minutes=1))

    await manager.say("we open at ten")
    assert manager.text() == t("th", "error.not_allowed")
    assert await queued(app, f"inbox:{thread.id}:r") == []


async def test_a_member_flow_ends_with_the_not_a_member_reply_once_the_member_is_gone(
    app: App,
) -> None:
    chat, member = await member_chat(app)
    await chat.press("prof:name")
    async with app.uow() as uow:
        stored = await uow.members.get(member.id)
        assert stored is not None
        stored.erased_at = app.clock.now()
        await uow.commit()

    await chat.say("Nok")
    assert chat.text() == t("th", "error.not_a_member")
    assert await _conversation(app, "m1") is None
