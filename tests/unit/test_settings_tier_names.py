"""/settings → Tier names: the owner names each tier in Thai and English; members read the
name in their own language in /points; refused names change nothing."""

from __future__ import annotations

from bot.bootstrap import App
from bot.i18n import t
from tests.unit.settings_support import changes, stored
from tests.unit.staff_support import audit_rows, member_chat, staff_chat


async def test_a_new_tier_name_appears_in_points_in_the_members_language(app: App) -> None:
    thai, _ = await member_chat(app, "Ploy", user_id="m1", points=10)
    english, _ = await member_chat(app, "Anna", "0812345699", user_id="m2", locale="en")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say("/settings")
    await owner.press("set:tn")
    built_in = t("th", "points.tier_member"), t("en", "points.tier_member")
    assert f'member: Thai "{built_in[0]}" · English "{built_in[1]}"' in owner.text()
    await owner.press("set:tne:0:th")
    await owner.say("  ลูกค้าคนสำคัญ ")
    await owner.press("set:tne:0:en")
    await owner.say("Friend")
    assert 'member: Thai "ลูกค้าคนสำคัญ" · English "Friend"' in owner.text()
    assert (await stored(app, "loyalty"))["tier_names"] == {
        "member": {"th": "ลูกค้าคนสำคัญ", "en": "Friend"}
    }
    first, second = await audit_rows(app, "settings.changed")
    assert (first.details["tier"], first.details["before"], first.details["after"]) == (
        "member",
        "",
        "ลูกค้าคนสำคัญ",
    )
    assert second.details["locale"] == "en"

    await thai.say("/points")
    assert "ลูกค้าคนสำคัญ" in thai.text()
    await english.say("/points")
    assert "Friend" in english.text()
    assert "ลูกค้าคนสำคัญ" not in english.text()


async def test_tier_names_survive_a_change_of_the_tier_table(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    await owner.press("set:tne:1:en")
    await owner.say("Argent")
    await owner.press("set:rule:tiers")
    await owner.say("member 0 1\nsilver 2000 1.25\ngold 8000 1.5")
    await owner.press("set:tn")
    thai = t("th", "points.tier_silver")
    assert f'silver: ไทย "{thai}" · อังกฤษ "Argent"' in owner.text()


async def test_a_dash_restores_the_built_in_name(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("set:tne:2:en")
    await owner.say("Champion")
    await owner.press("set:tne:2:en")
    await owner.say("-")
    assert 'gold: Thai "{}" · English "Gold"'.format(t("th", "points.tier_gold")) in owner.text()
    assert (await stored(app, "loyalty"))["tier_names"] == {"gold": {"en": ""}}


async def test_an_empty_or_long_name_is_refused_in_both_languages(app: App) -> None:
    for user, language, expected in (("o1", "th", "1 ถึง 30"), ("o2", "en", "1 to 30")):
        owner = await staff_chat(app, user, "owner", language_code=language)
        await owner.press("set:tne:1:th")
        await owner.say("ซ" * 31)
        assert expected in owner.text()
    owner = await staff_chat(app, "o3", "owner")
    await owner.press("set:tne:9:th")  # no tenth tier
    assert "หมดอายุ" in owner.text()
    assert await stored(app, "loyalty") is None
    assert await changes(app) == 0


async def test_the_report_counts_tiers_under_the_owners_names(app: App) -> None:
    await member_chat(app, "Ploy", user_id="m1")
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.press("set:tne:0:en")
    await owner.say("Friend")
    await owner.say("/report")
    assert "Friend 1" in owner.text()
