"""First-run set-up: the first owner of an empty shop names it, adds its branches, sets the LINE
price (when LINE is on) and keeps or opens the loyalty rules — each step skippable — and can
record a sale right after."""

from __future__ import annotations

from bot.bootstrap import App, bootstrap
from bot.cli_staff import invite_lines
from bot.core.clock import FrozenClock
from bot.i18n import t
from storage.models import Branch, Sale
from tests.chat import Chat
from tests.unit.journey_support import rows
from tests.unit.staff_support import audit_rows, ensure_branch, make_member, make_staff


async def _claim_owner(app: App, user_id: str = "o1", language_code: str = "th") -> Chat:
    code = (await invite_lines(app, "owner", None, 7))[-1]
    owner = Chat(app, user_id=user_id, language_code=language_code)
    await owner.say(f"/claim {code}")
    return owner


def _actions(chat: Chat) -> list[str]:
    return [b.action for r in chat.last for b in r.buttons]


async def _stored(app: App, key: str) -> dict[str, object] | None:
    async with app.uow() as uow:
        return await uow.settings.get(key)


async def test_the_first_owner_sets_up_the_shop_and_records_a_sale(app: App) -> None:
    owner = await _claim_owner(app)
    assert t("th", "setup.start") in owner.text()
    assert t("th", "setup.ask_name_th") in owner.text()
    await owner.say("ชาไทย ป้าแดง")
    await owner.say("Auntie Daeng's Tea")
    assert t("th", "setup.name_saved", name="ชาไทย ป้าแดง") in owner.text()
    for code, th, en in (("asoke", "อโศก", "Asoke"), ("sukhumvit", "สุขุมวิท", None)):
        await owner.say(code)
        await owner.say(th)
        await (owner.press("setup:skip") if en is None else owner.say(en))
    assert t("th", "setup.branch_added", code="sukhumvit", name_th="สุขุมวิท", name_en="สุขุมวิท") in (
        owner.text()
    )
    await owner.press("setup:done")
    assert "setup:keep" in _actions(owner)  # LINE is off here: straight to the rules
    await owner.press("setup:keep")
    assert owner.text() == t("th", "setup.done")

    assert {b.code for b in await rows(app, Branch)} == {"asoke", "sukhumvit"}
    assert await _stored(app, "shop") == {"name_th": "ชาไทย ป้าแดง", "name_en": "Auntie Daeng's Tea"}
    assert len(await audit_rows(app, "branch.added")) == 2
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await owner.say(f"/sale {ploy.member_code} 120 branch=asoke")
    assert len(await rows(app, Sale)) == 1


async def test_every_step_can_be_skipped(app: App) -> None:
    owner = await _claim_owner(app)
    await owner.press("setup:skip")  # no name
    assert t("th", "setup.ask_branch", low=2, high=20) in owner.text()
    await owner.press("setup:done")  # no branch
    assert t("th", "setup.no_branch_yet") in owner.text()
    await owner.press("setup:keep")
    assert owner.text() == t("th", "setup.done")
    assert await _stored(app, "shop") is None
    assert await rows(app, Branch) == []
    await owner.say("hello")  # the set-up is over: nothing is taken as an answer any more
    assert await rows(app, Branch) == []
    # the skipped steps are in /branches and /settings: add a branch, then sell
    await owner.say("/branches")
    await owner.press("brn:add")
    for answer in ("asoke", "อโศก", "Asoke"):
        await owner.say(answer)
    ploy = await make_member(app, "Ploy", "081-234-5678", user_id="m1")
    await owner.say(f"/sale {ploy.member_code} 120")
    assert len(await rows(app, Sale)) == 1


async def test_a_bad_answer_is_explained_and_asked_again(app: App) -> None:
    owner = await _claim_owner(app, language_code="en")
    await owner.press("setup:skip")
    await owner.say("Asoke Branch")
    assert t("en", "branches.bad_code", low=2, high=20) in owner.text()
    await owner.say("asoke")
    await owner.say("อโศก")
    await owner.say("Asoke")
    await owner.say("asoke")
    assert t("en", "branches.duplicate", code="asoke") in owner.text()
    await owner.press("setup:done")
    await owner.say("whatever")  # the rules step wants a button
    assert t("en", "settings.use_buttons") in owner.text()
    await owner.press("setup:rules")
    assert t("en", "setup.done") in owner.text()
    assert t("en", "settings.rules_title") in owner.text()  # the rules page, to edit
    assert [b.code for b in await rows(app, Branch)] == ["asoke"]


async def test_with_line_on_the_owner_sets_the_price_of_a_message(
    app: App, clock: FrozenClock
) -> None:
    line_on = app.settings.model_copy(
        update={"line_channel_secret": "s", "line_channel_access_token": "t"}
    )
    shop = await bootstrap(settings=line_on, clock=clock, engine=app.engine, migrate=False)
    owner = await _claim_owner(shop)
    await owner.press("setup:skip")
    await owner.press("setup:done")
    assert t("th", "setup.ask_price", price="0 บาท") in owner.text()
    await owner.say("ฟรี")
    assert t("th", "shopset.bad_price", high="100") in owner.text()
    await owner.say("0.04")
    assert await _stored(shop, "campaign") == {"line_message_price": "0.04"}
    assert "setup:keep" in _actions(owner)
    [audit] = await audit_rows(shop, "settings.changed")
    assert audit.details["after"] == "0.04"


async def test_the_price_step_can_be_skipped(app: App, clock: FrozenClock) -> None:
    line_on = app.settings.model_copy(
        update={"line_channel_secret": "s", "line_channel_access_token": "t"}
    )
    shop = await bootstrap(settings=line_on, clock=clock, engine=app.engine, migrate=False)
    owner = await _claim_owner(shop)
    await owner.press("setup:skip")
    await owner.press("setup:done")
    await owner.press("setup:skip")
    assert "setup:keep" in _actions(owner)
    assert await _stored(shop, "campaign") is None


async def test_no_set_up_for_a_shop_with_a_branch_nor_for_a_cashier(app: App) -> None:
    await ensure_branch(app, "asoke")
    owner = await _claim_owner(app)
    assert t("th", "setup.start") not in owner.text()
    await make_staff(app, "o0", "owner")
    code = (await invite_lines(app, "cashier", "asoke", 7))[-1]
    cashier = Chat(app, user_id="c1")
    await cashier.say(f"/claim {code}")
    assert t("th", "setup.start") not in cashier.text()


async def test_only_an_owner_can_answer_the_set_up(app: App) -> None:
    owner = await _claim_owner(app)
    async with app.uow() as uow:
        staff = await uow.staff.by_identity("telegram", "o1")
        assert staff is not None
        staff.role = "cashier"  # demoted half-way through
        await uow.commit()
    await owner.say("ชาไทย")
    assert owner.text() == t("th", "error.not_allowed")
    assert await _stored(app, "shop") is None
