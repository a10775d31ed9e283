"""/invite: a member's referral code and links; ``ref CODE``: a newcomer enters one.

A friend joins with the code in one of three ways: the Telegram deep link
(``https://t.me/<bot>?start=ref_<CODE>``, needs ``TELEGRAM_BOT_USERNAME``), the LINE link that
opens the shop's chat with ``ref <CODE>`` already typed (needs ``LINE_BASIC_ID``), or by typing
``ref <CODE>`` themselves before or during the sign-up. The bonus itself is paid at the
friend's first purchase (:mod:`shop.referral`).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from bot.config import Settings
from bot.core.messages import Reply
from bot.i18n import format_baht, format_points
from handlers.context import Context
from handlers.customer import signup
from handlers.router import Audience, Command, Router
from shop.loyalty import load_rules
from shop.referral import valid_referrer

#: what a newcomer types (LINE has no deep-link payload): ``ref ABCD2345``
REF_WORD: Final = "ref"


def telegram_link(settings: Settings, member_code: str) -> str | None:
    username = (settings.telegram_bot_username or "").strip().lstrip("@")
    return f"https://t.me/{username}?start=ref_{member_code}" if username else None


def line_link(settings: Settings, member_code: str) -> str | None:
    """LINE's "send a message to an official account" link, with ``ref CODE`` filled in."""
    basic_id = (settings.line_basic_id or "").strip()
    if not basic_id:
        return None
    if not basic_id.startswith("@"):
        basic_id = f"@{basic_id}"
    return f"https://line.me/R/oaMessage/{quote(basic_id)}/?{quote(f'{REF_WORD} {member_code}')}"


async def show_invite(ctx: Context) -> list[Reply]:
    """/invite (members): the member's code, what a friend's first purchase earns both of them
    and on which terms (a shared phone or the minimum purchase, the monthly cap), and the ways
    to pass the code on."""
    assert ctx.member is not None
    code = ctx.member.member_code
    rules = await load_rules(ctx.uow)
    points = format_points(rules.referral_points)
    terms = ctx.t(
        "invite.terms",
        minimum=format_baht(rules.referral_min_purchase, ctx.locale),
        cap=rules.referral_monthly_cap,
    )
    lines = [ctx.t("invite.intro", points=points), terms, ctx.t("invite.code", code=code)]
    if link := telegram_link(ctx.settings, code):
        lines.append(ctx.t("invite.telegram", link=link))
    if link := line_link(ctx.settings, code):
        lines.append(ctx.t("invite.line_link", link=link))
    lines.append(ctx.t("invite.typed", word=REF_WORD, code=code))
    return [Reply(text="\n\n".join(lines))]


async def enter_referral_code(ctx: Context) -> list[Reply]:
    """``ref CODE`` (anyone, also mid-sign-up): remember a friend's code for the sign-up.

    Outside the sign-up it starts one; inside, it is stored and the current question is asked
    again. Members are told the code is for newcomers; an unknown code is refused without
    saying whose codes exist.
    """
    if ctx.member is not None:
        return [ctx.reply("invite.already_member")]
    code = ctx.args.strip().upper()
    if not code:
        return [ctx.reply("invite.ref_usage", word=REF_WORD)]
    referrer = await valid_referrer(ctx.uow, code, member_code="")
    if referrer is None:
        return [ctx.reply("invite.ref_unknown", code=code[:20])]
    accepted = ctx.reply("invite.ref_accepted")
    if ctx.state is not None and ctx.state.flow == signup.FLOW:
        ctx.state.data["ref"] = referrer.member_code
        ctx.state_changed = True
        return [accepted, *await signup.reask(ctx)]
    return [accepted, *await signup.begin_signup(ctx, {"ref": referrer.member_code})]


def register(router: Router) -> None:
    """``/invite`` (members) and the hidden ``ref CODE`` (anyone, also mid-sign-up)."""
    router.command(
        Command(
            "invite",
            show_invite,
            Audience.MEMBER,
            keywords=("invite", "ชวนเพื่อน", "แนะนำเพื่อน"),
            describe="invite.command",
        )
    )
    router.command(
        Command("ref", enter_referral_code, Audience.ANYONE, keywords=(REF_WORD,), during_flow=True)
    )
