"""Loyalty rules (tiers, FIFO expiry) and what /points, /card and /history show."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.bootstrap import App
from shop.loyalty import LoyaltyRules, Tier, add_months, expiring_points
from storage.models import PointsEntry, Sale
from storage.raw_session import session_of
from tests.chat import Chat
from tests.unit.journey_support import add_branches, join, only_member


def _entry(delta: int, earned: datetime, reason: str = "sale") -> PointsEntry:
    return PointsEntry(delta=delta, reason=reason, earned_at=earned, created_at=earned)


def _at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 5, 0, tzinfo=UTC)


def test_default_tiers_and_the_next_one() -> None:
    rules = LoyaltyRules()
    assert rules.tier_for(Decimal(0))[0].name == "member"
    tier, following = rules.tier_for(Decimal("3000"))
    assert (tier.name, following and following.name) == ("silver", "gold")
    assert rules.tier_for(Decimal("25000")) == (Tier("gold", Decimal(10000), Decimal("1.5")), None)


def test_points_are_one_per_25_baht_rounded_down() -> None:
    assert LoyaltyRules().points_for(Decimal("99.75")) == 3
    assert LoyaltyRules().points_for(Decimal("-50")) == 0


def test_stored_rules_override_defaults() -> None:
    rules = LoyaltyRules.from_setting(
        {"welcome_points": 10, "tiers": [{"name": "vip", "min_spend": 500}, {"name": "member"}]}
    )
    assert rules.welcome_points == 10
    assert [t.name for t in rules.tiers] == ["member", "vip"]
    assert rules.baht_per_point == Decimal(25)


def test_months_are_added_on_the_calendar() -> None:
    assert add_months(_at(2025, 3, 31), 11) == _at(2026, 2, 28)
    assert add_months(_at(2026, 3, 3), -12) == _at(2025, 3, 3)


def test_spending_uses_the_oldest_points_first() -> None:
    entries = [
        _entry(100, _at(2025, 3, 20)),
        _entry(40, _at(2025, 3, 25)),
        _entry(-120, _at(2025, 6, 1), "redeem"),
        _entry(200, _at(2025, 12, 1)),
    ]
    assert expiring_points(entries, _at(2026, 4, 1), UTC) == 20
    assert expiring_points(entries, _at(2026, 3, 21), UTC) == 0
    assert expiring_points(entries, _at(2026, 12, 31), UTC) == 220


async def _member_with_history(app: App) -> int:
    branch_ids = await add_branches(app)
    await join(Chat(app))
    member = await only_member(app)
    asoke = branch_ids["asoke"]
    async with app.uow() as uow:
        for receipt, amount, when, voided in (
            ("R1", "3500", _at(2026, 1, 10), None),
            ("R2", "1000", _at(2025, 1, 10), None),  # older than 12 months
            ("R3", "5000", _at(2026, 2, 1), _at(2026, 2, 1)),  # voided
        ):
            session_of(uow).add(
                Sale(
                    receipt_no=receipt,
                    member_id=member.id,
                    branch_id=asoke,
                    amount=Decimal(amount),
                    occurred_at=when,
                    voided_at=voided,
                )
            )
        for delta, earned, reason in (
            (100, _at(2025, 3, 20), "sale"),
            (40, _at(2025, 3, 25), "sale"),
            (-120, _at(2025, 6, 1), "redeem"),
            (130, _at(2026, 1, 10), "sale"),
        ):
            await uow.points.append(member.id, delta, reason, _at(2026, 1, 10), earned_at=earned)
        await uow.commit()
    return member.id


async def test_points_shows_balance_tier_progress_and_expiring(app: App) -> None:
    await _member_with_history(app)
    replies = await Chat(app).say("/points")
    text = replies[0].text
    assert "แต้มของคุณ: 200 แต้ม" in text  # 50 welcome + 100 + 40 - 120 + 130
    assert "ระดับสมาชิก: ซิลเวอร์" in text
    assert "6,500 บาท" in text
    assert "โกลด์" in text
    assert "มี 20 แต้มที่จะหมดอายุ" in text
    assert "2 เม.ย. 2569" in text  # 30 days ahead, Buddhist Era


async def test_points_keyword_in_english_without_slash(app: App) -> None:
    await join(Chat(app, language_code="en"))
    replies = await Chat(app, language_code="en").say("points")
    assert "Your points: 50" in replies[0].text
    assert "Tier: Member" in replies[0].text


async def test_card_keyword_shows_qr_card_with_tier_and_points(app: App) -> None:
    await _member_with_history(app)
    replies = await Chat(app).say("บัตร")
    card = replies[0].card
    assert card is not None
    assert (card.tier, card.points) == ("ซิลเวอร์", 200)
    assert card.qr_png.startswith(b"\x89PNG")


async def test_history_lists_sales_in_thai_dates_and_points(app: App) -> None:
    await _member_with_history(app)
    text = (await Chat(app).say("ประวัติ"))[0].text
    assert "10 ม.ค. 2569 12:00 · อโศก · 3,500 บาท" in text
    assert "5,000" not in text  # voided
    assert "+50 · แต้มต้อนรับ" in text
    assert "-120 · แลกของรางวัล" in text


async def test_history_without_sales_is_friendly(app: App) -> None:
    chat = Chat(app, language_code="en")
    await join(chat)
    text = (await chat.say("/history"))[0].text
    assert "no purchases yet" in text
    assert "welcome bonus" in text
