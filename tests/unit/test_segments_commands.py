"""/segments and /segment through the bus: who may, what is said, what is stored and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.i18n import t
from storage.models import Segment, Staff
from storage.raw_session import session_of
from tests.storage.segment_support import build_shop
from tests.unit.staff_support import audit_rows, member_chat, staff_chat


async def saved(app: App) -> dict[str, str]:
    async with app.uow() as uow:
        rows = (await session_of(uow).execute(select(Segment))).scalars().all()
        return {row.name: row.rule for row in rows}


async def test_manager_saves_a_typed_rule_and_hears_its_size(app: App) -> None:
    await build_shop(app)
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment new asoke_regulars branch = asoke and visits >= 2")
    assert "Segment 'asoke_regulars' saved: 1 member" in manager.text()
    assert await saved(app) == {"asoke_regulars": "branch = asoke and visits >= 2"}
    [entry] = await audit_rows(app, "segment.created")
    assert entry.details == {"name": "asoke_regulars", "rule": "branch = asoke and visits >= 2"}


async def test_typo_in_a_rule_names_the_word_and_suggests_the_field(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment new fans brnach = asoke")
    assert manager.text() == "Unknown field 'brnach' (character 1) — did you mean 'branch'?"
    assert await saved(app) == {}


async def test_a_spend_of_thirty_digits_in_a_rule_is_refused_with_the_range(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say(f"/segment new big avg_ticket >= {'9' * 30}")
    assert "not a usable number (allowed: 0–1,000,000,000,000)" in manager.text(), manager.text()
    assert await saved(app) == {}


async def test_unknown_branch_is_refused_in_thai_with_a_suggestion(app: App) -> None:
    await build_shop(app)
    manager = await staff_chat(app, "mg", "manager")
    await manager.say("/segment new x branch in (asoke, sukumvit)")
    assert "'sukumvit'" in manager.text()
    assert "'sukhumvit'" in manager.text()
    assert await saved(app) == {}


async def test_cashier_and_customer_are_refused(app: App) -> None:
    cashier = await staff_chat(app, "c1", "cashier", branch_code="asoke", language_code="en")
    customer, _ = await member_chat(app, user_id="m9", locale="en")
    for chat in (cashier, customer):
        await chat.say("/segment new x visits >= 1")
        await chat.say("/segments")
    assert await saved(app) == {}


async def test_builtin_names_and_bad_names_cannot_be_taken(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment new fan visits >= 1")
    assert "built-in" in manager.text()
    await manager.say("/segment new Bad!Name visits >= 1")
    assert "cannot be used" in manager.text()
    assert await saved(app) == {}


async def test_segments_lists_builtins_and_saved_with_sizes(app: App) -> None:
    await build_shop(app)
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment new vips tag = vip")
    await manager.say("/segments")
    text = manager.text()
    assert "• Fans (fan) — 2 members" in text
    assert "• Lapsed (lapsed) — 1 member" in text
    assert "• vips — 1 member: tag = vip" in text


async def test_show_gives_size_channels_consent_and_samples(app: App) -> None:
    await build_shop(app)
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment new shoppers visits >= 1")
    await manager.say("/segment show shoppers")
    text = manager.text()
    assert "Segment shoppers: 3 members" in text
    assert "Reachable on: LINE 1, Telegram 1" in text
    assert "Marketing consent: 2 yes · 1 no" in text
    assert text.count("\n• ") == 3
    assert "• ann (" in text
    assert "• bob (" in text


async def test_delete_asks_first_then_deletes_and_audits(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment new vips tag = vip")
    await manager.say("/segment delete vips")
    assert "Delete segment 'vips'?" in manager.text()
    assert await saved(app) == {"vips": "tag = vip"}
    await manager.press_label("Yes, delete")
    assert manager.text() == "Segment 'vips' deleted."
    assert await saved(app) == {}
    assert [e.details["name"] for e in await audit_rows(app, "segment.deleted")] == ["vips"]


async def test_builtin_segments_cannot_be_deleted(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment delete regular")
    assert "cannot be deleted" in manager.text()


async def test_wizard_builds_a_rule_from_buttons_and_saves_it(app: App) -> None:
    await build_shop(app)
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment new")
    await manager.press_label("Asoke")
    await manager.press_label("Sukhumvit")
    await manager.press_label("Next ➡️")
    await manager.press_label("within 30 days")
    await manager.press_label("1+ visits")
    await manager.press_label("Consent only")
    rule = "branch in (asoke, sukhumvit) and last_visit_days <= 30 and visits_30d >= 1"
    assert manager.text() == f"Rule: {rule} and marketing = yes\n1 member right now. Save it?"
    await manager.press_label("💾 Save")
    await manager.say("weekday_fans")
    assert "Segment 'weekday_fans' saved: 1 member" in manager.text()
    assert await saved(app) == {"weekday_fans": f"{rule} and marketing = yes"}


async def test_wizard_buttons_are_refused_to_a_demoted_manager(app: App) -> None:
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment new picked")
    async with app.uow() as uow:
        query = select(Staff).where(Staff.user_id == "mg")
        (await session_of(uow).execute(query)).scalar_one().role = "cashier"
        await uow.commit()
    await manager.press("segw:b:next")
    assert manager.text() == t("en", "error.not_allowed")
    assert await saved(app) == {}


@pytest.mark.parametrize("value", ["\u00b2", "45", "9" * 30, ""])
async def test_a_forged_wizard_choice_is_an_expired_button(app: App, value: str) -> None:
    """A value the wizard never offered (a superscript, a number not among the buttons, one
    past any column) is refused as a stale button, and the wizard stays where it was."""
    manager = await staff_chat(app, "mg", "manager", language_code="en")
    await manager.say("/segment new")
    await manager.press_label("Next ➡️")
    await manager.press(f"segw:r:{value}")
    assert manager.text() == t("en", "error.button_expired")
    await manager.press("segw:r:30")  # the wizard's own buttons still work
    await manager.press(f"segw:v:{value}")
    assert manager.text() == t("en", "error.button_expired")
    await manager.press("segw:v:1")
    await manager.press_label("Consent only")
    assert manager.text().startswith("Rule: last_visit_days <= 30 and visits_30d >= 1")
