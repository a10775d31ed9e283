"""Customer-facing handlers: sign-up, card, points, history, profile, privacy, help."""

from __future__ import annotations

from handlers.customer import (
    card,
    export,
    feedback,
    fields,
    help,
    history,
    inbox,
    invite,
    language,
    link,
    points,
    privacy,
    profile,
    rewards,
    signup,
)
from handlers.router import Audience, Command, Router

__all__ = ["fields", "register"]


def register(router: Router) -> None:
    """Add every customer command, button namespace and conversation flow to ``router``.

    Every command has bare keywords in Thai and English (LINE users type without a slash) and
    a ``commands.*`` description, so /help and the Telegram menu list it.
    """
    anyone, member = Audience.ANYONE, Audience.MEMBER
    commands = (
        ("start", signup.start, anyone, ("start", "สมัคร", "สมัครสมาชิก", "menu", "เมนู")),
        ("card", card.show_card, member, ("card", "บัตร", "บัตรสมาชิก")),
        ("points", points.show_points, member, ("points", "แต้ม", "คะแนน")),
        ("history", history.show_history, member, ("history", "ประวัติ")),
        ("profile", profile.show_profile, member, ("profile", "โปรไฟล์", "ข้อมูลส่วนตัว")),
        ("language", language.choose_language, anyone, ("language", "ภาษา")),
        ("stop", privacy.stop_marketing, member, ("stop", "หยุดรับข่าวสาร")),
        ("resume", privacy.resume_marketing, member, ("resume", "รับข่าวสาร")),
        ("mydata", export.export_my_data, member, ("mydata", "ข้อมูลของฉัน")),
        ("deleteme", privacy.ask_delete, anyone, ("deleteme", "ลบข้อมูล")),
        ("help", help.help_handler(router), anyone, ("help", "ช่วยเหลือ", "วิธีใช้")),
    )
    for name, handler, audience, keywords in commands:
        router.command(
            Command(name, handler, audience, keywords=keywords, describe=f"commands.{name}")
        )
    rewards.register(router)  # /rewards, /coupons
    invite.register(router)  # /invite, ref CODE
    link.register(router)  # /link, /join
    feedback.register(router)  # fb:<feedback>:<stars>, the fbc comment flow
    router.command(
        Command(
            "cancel",
            help.cancel,
            anyone,
            keywords=("cancel", "ยกเลิก"),
            during_flow=True,
            describe="commands.cancel",
        )
    )

    router.flow(signup.FLOW, signup.signup_step, anyone)
    router.flow(profile.FLOW, profile.edit_step, member)
    # anyone: someone who never joined may erase what they wrote to the shop too
    router.flow(privacy.DELETE_FLOW, privacy.delete_step, anyone)
    router.action(profile.EDIT_ACTIONS, profile.start_edit, member)
    router.action(language.ACTIONS, language.set_language, anyone)

    router.on_follow = signup.on_follow
    router.on_unfollow = inbox.on_unfollow
    router.fallback = inbox.to_inbox
    router.not_a_member = inbox.members_only
