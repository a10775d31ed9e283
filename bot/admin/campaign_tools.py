"""The campaign tools around the console's form and preview: a test send to the staff
member's own chat, the message rendered live as it is typed, the hold-out sized for a target.

Each is the chat's own code through :class:`bot.admin.acting.ConsoleAct`: the test is
``/campaign test``'s message (:func:`handlers.staff.campaigns.preview.test_replies`), queued
through the outbox to the chat the staff member signed up from, audited as
``campaign.tested`` (at most :data:`shop.campaigns.drafts.TEST_SEND_THROTTLE`'s number
in its window); the live preview renders with the send's template code and refuses a
bad placeholder with the wizard's message; the hold-out answer is ``/campaign power``'s
(:func:`handlers.staff.campaigns.power.holdout_answer`) for the reach the preview measured.
"""

from __future__ import annotations

import secrets
from typing import Final

from aiohttp import web

from bot.admin.acting import ConsoleAct
from bot.admin.answers import not_found
from bot.admin.campaign_form import form_offer, form_values
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.core.errors import DomainError
from bot.core.wire import replies_to_payload
from bot.i18n import t
from handlers.staff.campaigns.power import bad_amount, holdout_answer, parse_amount
from handlers.staff.campaigns.preview import (
    Reach,
    detectable_line,
    member_message_values,
    test_replies,
)
from shop.campaigns.drafts import TEST_SEND_THROTTLE
from shop.campaigns.launch import campaign_offer
from shop.campaigns.offers import Offer
from shop.campaigns.templates import validate_template
from shop.throttle import locked_until
from storage.models import Campaign, Member
from wording.campaigns import campaign_replies
from wording.templates import render_template

#: the words a test send's redirect may announce on the preview page
TEST_DONE: Final = ("tested", "unreachable", "throttled")


async def _own_member(act: ConsoleAct, channel: str, user_id: str) -> Member | None:
    """The member record of the staff member's own chat, if they signed up as one."""
    identity = await act.uow.identities.get(channel, user_id)
    if identity is None or identity.member_id is None:
        return None
    member = await act.uow.members.get(identity.member_id)
    return member if member is not None and member.erased_at is None else None


async def test_send(request: web.Request) -> web.Response:
    """``/campaign test`` from the console: the message goes to the viewer's own chat only;
    nothing counts in the campaign's stats."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(int(request.match_info["campaign_id"][:18]))
        staff = await uow.staff.get(viewer.staff_id)
        if campaign is None or staff is None:
            return not_found(request)
        act = ConsoleAct(uow, app, viewer)
        identity = await uow.identities.get(staff.channel, staff.user_id)
        word = "unreachable"
        if await locked_until(uow, TEST_SEND_THROTTLE, viewer.actor, act.now) is not None:
            word = "throttled"
        elif identity is not None and identity.reachable:
            member = await _own_member(act, staff.channel, staff.user_id)
            locale = member.locale if member is not None and member.locale else viewer.locale
            replies = await test_replies(act, campaign, member, staff.name, locale)
            key = f"campaign-test:{campaign.id}:{staff.id}:{secrets.token_hex(8)}"
            payload = replies_to_payload(replies)
            await uow.outbox.enqueue(
                key, staff.channel, staff.user_id, payload, act.now, priority=1
            )
            await uow.audit.record(
                viewer.actor, "campaign.tested", act.now, channel="web", campaign_id=campaign.id
            )
            word = "tested"
        await uow.commit()
        act.wake_outbox()
    location = f"/admin/campaigns/{campaign.id}/preview?done={word}"
    return web.Response(status=303, headers={"Location": location})


def test_notice(request: web.Request) -> str:
    """What the preview page says after a test send (nothing otherwise)."""
    word = request.query.get("done")
    return (
        t(request[VIEWER].locale, f"admin_campaign_tools.done_{word}") if word in TEST_DONE else ""
    )


async def example_member(act: ConsoleAct) -> tuple[Member | None, str, str]:
    """Whom the console renders a message for, the name it shows and the language: the newest
    member the viewer may see (a manager of one branch: of that branch, never another's), or
    a sample name in the viewer's language when there is none."""
    member = await act.uow.members.newest(act.viewer.branch_id)
    if member is None:
        return None, act.t("prefs.sample_name"), act.locale
    return member, member.name or "-", member.locale or act.locale


async def example_sample(act: ConsoleAct, campaign: Campaign) -> str:
    """``campaign``'s message as :func:`example_member` gets it, headed by their name."""
    member, name, locale = await example_member(act)
    values = await member_message_values(act, member, campaign_offer(campaign), locale, name)
    message = campaign_replies(campaign, values, locale)
    return act.t("campaign.sample", name=name) + "\n\n" + (message.text or "")


async def message_preview(request: web.Request) -> web.Response:
    """The typed message rendered for a real member (the newest the viewer may see; a sample
    name when there is none), in their language, with the offer typed so far: JSON with
    ``text`` and ``heading``, or ``error`` with the wizard's message for a bad placeholder."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    values = form_values(await request.post())
    try:
        message = validate_template(values["message"])
    except DomainError as error:
        return web.json_response({"error": t(viewer.locale, error.key, **error.params)})
    async with app.uow() as uow:
        act = ConsoleAct(uow, app, viewer)
        try:
            typed = await form_offer(act, values)
        except DomainError:  # the offer's own checks speak when the draft is saved
            typed = None
        offer = Offer.from_json(typed) if typed else None
        member, name, locale = await example_member(act)
        shown = await member_message_values(act, member, offer, locale, name)
    label = values["label"] or t(locale, "campaign.default_button")
    return web.json_response(
        {
            "heading": t(viewer.locale, "campaign.sample", name=name),
            "text": render_template(message, shown, locale),
            "button": label,
        }
    )


def holdout_section(
    act: ConsoleAct, campaign: Campaign, reach: Reach, lines: list[str], target: str | None
) -> tuple[list[str], str, str]:
    """(the preview's lines without the uplift line, the minimum detectable uplift, and the
    hold-out answer for ``target`` baht per member when one was typed)."""
    detectable = detectable_line(act, campaign, reach)
    hint = "\n" + act.t("campaign.preview_target_hint", id=campaign.id)
    rest = [line for line in lines if line != detectable]
    answer = ""
    if target is not None:
        amount = parse_amount(target[:40])
        if amount is None:
            answer = bad_amount(act).text or ""
        else:
            answer = holdout_answer(act, campaign, reach, amount).text or ""
    return rest, detectable.replace(hint, ""), answer
