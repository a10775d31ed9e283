"""Staff commands are shown to staff only: /help, /staffmenu and the LINE menu keywords."""

from __future__ import annotations

from bot.bootstrap import App
from bot.core.messages import Channel
from bot.i18n import t
from handlers.router import Audience, Command
from storage.models import InboxMessage
from tests.chat import Chat
from tests.unit.journey_support import rows
from tests.unit.staff_support import member_chat, staff_chat


async def test_help_shows_staff_commands_to_staff_under_a_heading(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.say("/help")
    text = owner.text()
    assert t("th", "staff.help_heading") in text
    assert text.index("/card") < text.index(t("th", "staff.help_heading")) < text.index("/staff ")


async def test_help_shows_no_staff_commands_to_a_customer(app: App) -> None:
    customer, _ = await member_chat(app)
    await customer.say("/help")
    assert t("th", "staff.help_heading") not in customer.text()
    assert "/staff" not in customer.text()
    assert "/claim" not in customer.text()


async def test_help_lists_only_the_staff_commands_of_the_role(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier")
    await cashier.say("/help")
    assert "/staffmenu" in cashier.text()
    assert "/staff " not in cashier.text()


async def test_staffmenu_lists_the_role_commands_as_buttons_and_asks_for_the_menu(
    app: App,
) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    [reply] = await owner.say("/staffmenu")
    assert reply.text.startswith(t("en", "staff.menu_title", role="owner"))
    assert "/staff — " in reply.text
    assert "cmd:staff" in [b.action for b in reply.buttons]
    assert reply.meta == {"menu": "owner", "locale": "en"}


async def test_the_staff_menu_never_offers_more_buttons_than_line_quick_replies(
    app: App,
) -> None:
    async def noop(_ctx: object) -> list[object]:
        return []

    for n in range(20):  # a busy shop's many staff commands
        app.bus.router.command(
            Command(f"extra{n}", noop, Audience.CASHIER, describe="staff.cmd_staffmenu")  # type: ignore[arg-type]
        )
    cashier = await staff_chat(app, "c1", "cashier", channel=Channel.LINE)
    [reply] = await cashier.say("staff")
    assert 0 < len(reply.buttons) <= 13


async def test_the_keyword_opens_the_staff_menu_for_staff_on_line(app: App) -> None:
    cashier = await staff_chat(app, "U1", "cashier", channel=Channel.LINE)
    for word in ("staff", "พนักงาน", "Staff"):
        [reply] = await cashier.say(word)
        assert reply.meta.get("menu") == "cashier", word


async def test_the_keyword_from_a_customer_is_a_message_to_the_shop(app: App) -> None:
    customer, _member = await member_chat(app, channel=Channel.LINE, user_id="U2")
    await customer.say("พนักงานสาขาอโศกบริการดีมากค่ะ")
    await customer.say("พนักงาน ที่สาขาอโศกบริการดีมาก")
    assert t("th", "error.not_allowed") not in customer.text()
    texts = [m.text for m in await rows(app, InboxMessage)]
    assert "พนักงาน ที่สาขาอโศกบริการดีมาก" in texts


async def test_a_stranger_typing_staff_is_not_refused(app: App) -> None:
    stranger = Chat(app, user_id="s1", channel=Channel.LINE)
    await stranger.say("staff")
    assert stranger.text() != t("th", "error.not_allowed")


async def test_the_claim_command_is_hidden_from_every_menu(app: App) -> None:
    router = app.bus.router
    assert all(c.name != "claim" for c in router.menu("owner"))


async def test_a_staff_account_opening_the_chat_sees_the_staff_menu_not_the_signup(
    app: App,
) -> None:
    cashier = await staff_chat(app, "c9", "cashier")
    await cashier.follow()
    assert "/sale" in cashier.text()
    assert t("th", "signup.accept") not in [b.label for r in cashier.last for b in r.buttons]


async def test_a_stranger_opening_the_chat_is_offered_the_signup(app: App) -> None:
    stranger = Chat(app, user_id="s9")
    await stranger.follow()
    assert t("th", "signup.accept") in [b.label for r in stranger.last for b in r.buttons]
