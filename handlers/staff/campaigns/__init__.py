"""/campaigns and /campaign new|preview|power|test|send|cancel (managers and owners).

Sending asks for a confirmation button (``cmpa:send:<id>``, re-checked by the router as a
manager action). A campaign with a future ``scheduled_at`` becomes ``scheduled`` and the
scheduled-start job starts it at its time; otherwise it starts at once: audience snapshot and
outbox rows in this event's transaction. Cancelling withdraws the messages not yet sent.
A campaign whose offer is over by the time it would go out is refused, sent or scheduled, and
so is one whose offer is good only at branches closed since it was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from bot.core.errors import NotFound
from bot.core.ids import row_id
from bot.core.messages import Button, Reply
from bot.i18n import format_date, format_datetime
from handlers.branch_pages import CAMPAIGNS, PAGE_SIZE, nearest_page, page_number, page_turn
from handlers.campaigns.stats_text import campaign_summary_line
from handlers.context import Context
from handlers.router import Audience, Command, Router
from handlers.staff.acting import StaffAct
from handlers.staff.campaigns import power, power_button, preview, wizard
from shop.campaigns.launch import (
    OfferEnded,
    campaign_offer,
    check_offer,
    closed_offer_branches,
    resume_campaign,
    segment_env,
    start_campaign,
)
from shop.profile import shop_names
from storage.models import Campaign
from wording.campaigns import CampaignWording, campaign_title
from wording.coupons import branch_names

ACTIONS: Final = "cmpa"
CANCELLABLE: Final = ("draft", "scheduled", "sending", "paused")


async def list_campaigns(ctx: Context, page: int = 0) -> list[Reply]:
    """/campaigns: the campaigns, newest first, with their status and key numbers, a page
    (:data:`PAGE_SIZE`) at a time with a button to the older ones (``cmpa:page:<n>``): five
    automations open a campaign a month each, and last year's campaigns must stay in reach."""
    total = await ctx.uow.campaigns.count()
    page = nearest_page(total, page)
    campaigns = await ctx.uow.campaigns.recent(PAGE_SIZE, offset=page * PAGE_SIZE)
    if not campaigns:
        return [ctx.reply("campaign.list_empty")]
    lines = [ctx.t("campaign.list_title")]
    for campaign in campaigns:
        line = ctx.t(
            "campaign.list_line",
            id=campaign.id,
            name=campaign_title(ctx.locale, campaign.name, campaign.kind, campaign.period_key),
            status=ctx.t(f"campaign.status_{campaign.status}"),
            # an automation's audience is the automation itself
            segment=campaign_title(ctx.locale, "", campaign.kind) or campaign.segment_name,
        )
        if campaign.status not in ("draft", "scheduled"):
            line += "\n   " + await campaign_summary_line(ctx.uow, campaign, ctx.locale, ctx.now)
        lines.append(line)
    turn, note = page_turn(ctx, total, page, lambda n: f"{ACTIONS}:page:{n}", CAMPAIGNS)
    if note:
        lines.append(note)
    return [Reply(text="\n".join(lines), buttons=(turn,) if turn is not None else ())]


async def campaign_command(ctx: Context) -> list[Reply]:
    """/campaign new [NAME] | preview ID | power ID AMOUNT | test ID | send ID | cancel ID."""
    verb, _, rest = ctx.args.strip().partition(" ")
    verb = verb.casefold()
    if verb == "new":
        ctx.args = rest
        return await wizard.start_wizard(ctx)
    if verb not in ("preview", "power", "test", "send", "cancel", "resume"):
        return [ctx.reply("campaign.usage")]
    if verb == "power":
        raw, _, amount = rest.strip().partition(" ")
        return await power.power(ctx, await _campaign(ctx, raw), amount)
    campaign = await _campaign(ctx, rest)
    if verb == "preview":
        return await preview.preview(ctx, campaign)
    if verb == "test":
        return await preview.test_send(ctx, campaign)
    if verb == "send":
        return await _confirm_send(ctx, campaign)
    if verb == "resume":
        return await resume(ctx, campaign)
    return await cancel_campaign(ctx, campaign)


async def _campaign(ctx: Context, text: str) -> Campaign:
    raw = text.strip().lstrip("#")
    campaign_id = row_id(raw)
    campaign = None if campaign_id is None else await ctx.uow.campaigns.get(campaign_id)
    if campaign is None:
        raise NotFound("campaign.not_found", id=raw or "?")
    return campaign


async def _confirm_send(ctx: Context, campaign: Campaign) -> list[Reply]:
    if campaign.status not in ("draft", "scheduled"):
        return [ctx.reply("campaign.not_startable", id=campaign.id, status=campaign.status)]
    if (ended := await _offer_over(ctx, campaign)) is not None:
        return ended
    return [
        ctx.reply(
            "campaign.confirm_send",
            Button(ctx.t("campaign.confirm_button"), f"{ACTIONS}:send:{campaign.id}"),
            id=campaign.id,
            name=campaign.name,
        )
    ]


async def campaign_action(ctx: Context) -> list[Reply]:
    """``cmpa:send:<id>``: the confirmed send; ``cmpa:page:<n>``: a page of ``/campaigns``
    (managers and owners, checked by the router)."""
    verb, _, raw = ctx.args.partition(":")
    if verb == "page":
        return await list_campaigns(ctx, page_number(raw))
    if verb != "send" or row_id(raw) is None:
        return [ctx.reply("error.button_expired")]
    campaign = await _campaign(ctx, raw)
    return await send_campaign(ctx, campaign)


async def send_campaign(ctx: StaffAct, campaign: Campaign) -> list[Reply]:
    """Start now, or mark a campaign with a future time ``scheduled`` for the job; refused
    when its offer is over by then."""
    startable = campaign.status in ("draft", "scheduled")
    if startable and (ended := await _offer_over(ctx, campaign)) is not None:
        return ended
    if campaign.scheduled_at is not None and campaign.scheduled_at > ctx.now:
        if campaign.status != "draft":
            return [ctx.reply("campaign.not_startable", id=campaign.id, status=campaign.status)]
        campaign.status = "scheduled"
        await ctx.uow.audit.record(
            ctx.actor, "campaign.scheduled", ctx.now, channel=ctx.channel, campaign_id=campaign.id
        )
        when = format_datetime(campaign.scheduled_at, ctx.locale, ctx.settings.tz)
        scheduled = ctx.t("campaign.scheduled", id=campaign.id, when=when)
        offer = campaign_offer(campaign)
        quiet = await preview.quiet_line(
            ctx, campaign.scheduled_at, "campaign.scheduled_quiet", offer
        )
        return [Reply(text=_joined(scheduled, quiet))]
    env = await segment_env(ctx.uow, ctx.now, ctx.settings.tz)
    # {shop} in each recipient's language, not the shop's default language
    wording = CampaignWording(await shop_names(ctx.uow, ctx.settings.shop_name))
    result = await start_campaign(ctx.uow, campaign, env, ctx.now, wording=wording, actor=ctx.actor)
    if not result.started:
        return [ctx.reply("campaign.not_startable", id=campaign.id, status=campaign.status)]
    left_out = sum(result.excluded.values())
    flow = ctx.t(
        "campaign.flow",
        segment=result.recipients + result.holdout + left_out,
        left_out=left_out,
        holdout=result.holdout,
        recipients=result.recipients,
    )
    started = ctx.t("campaign.started", id=campaign.id, flow=flow)
    # a campaign sent in the evening waits for the morning; the owner should not think it lost
    offer = campaign_offer(campaign)
    quiet = await preview.quiet_line(ctx, ctx.now, "campaign.preview_quiet", offer)
    return [Reply(text=_joined(started, quiet))]


async def _offer_over(ctx: StaffAct, campaign: Campaign) -> list[Reply] | None:
    """The refusal of a campaign whose offer is over when it would go out, or good only at
    branches closed since it was made, in the staff member's language; None when it may go."""
    if (ended := _offer_ended(ctx, campaign)) is not None:
        return ended
    if closed := await closed_offer_branches(ctx.uow, campaign_offer(campaign)):
        names = await branch_names(ctx.uow, closed, ctx.locale)
        return [ctx.reply("campaign.offer_branches_closed", id=campaign.id, branches=names)]
    return None


def _offer_ended(ctx: StaffAct, campaign: Campaign) -> list[Reply] | None:
    """The refusal of a campaign whose offer is over when it would go out (now, or at its
    future scheduled time), in the staff member's language; None when it may go."""
    at: datetime = max(campaign.scheduled_at or ctx.now, ctx.now)
    try:
        check_offer(campaign, at, ctx.settings.tz)
    except OfferEnded as ended:
        day = format_date(ended.last_day, ctx.locale)
        if at > ctx.now and ended.last_day >= ctx.now.astimezone(ctx.settings.tz).date():
            when = format_datetime(at, ctx.locale, ctx.settings.tz)
            return [ctx.reply("campaign.offer_ends_before", id=campaign.id, day=day, when=when)]
        return [ctx.reply("campaign.offer_ended", id=campaign.id, day=day)]
    return None


def _joined(text: str, quiet: str | None) -> str:
    return f"{text}\n{quiet}" if quiet else text


async def cancel_campaign(ctx: StaffAct, campaign: Campaign) -> list[Reply]:
    """Withdraw what has not been sent; what was sent stays sent (and is still measured)."""
    if campaign.status not in CANCELLABLE:
        return [ctx.reply("campaign.not_cancellable", id=campaign.id, status=campaign.status)]
    seen = campaign.status
    withdrawn = await ctx.uow.campaigns.withdraw_pending(campaign.id)
    # A launch may have claimed the campaign since it was read and still be queueing: the lock
    # waits for it to commit, and what it queued is withdrawn too. A launch that comes later
    # waits for this cancel and then finds nothing to start.
    await ctx.uow.campaigns.lock(campaign.id)  # reloads ``campaign``
    if campaign.status not in CANCELLABLE:
        return [ctx.reply("campaign.not_cancellable", id=campaign.id, status=campaign.status)]
    if campaign.status != seen:
        withdrawn += await ctx.uow.campaigns.withdraw_pending(campaign.id)
    campaign.status = "cancelled"
    campaign.finished_at = ctx.now
    await ctx.uow.audit.record(
        ctx.actor,
        "campaign.cancelled",
        ctx.now,
        channel=ctx.channel,
        campaign_id=campaign.id,
        withdrawn=withdrawn,
    )
    return [ctx.reply("campaign.cancelled", id=campaign.id, withdrawn=withdrawn)]


async def resume(ctx: StaffAct, campaign: Campaign) -> list[Reply]:
    """/campaign resume ID: a campaign paused by LINE's monthly limit goes on sending."""
    if campaign.status != "paused":
        return [ctx.reply("campaign.not_paused", id=campaign.id, status=campaign.status)]
    resumed = await resume_campaign(ctx.uow, campaign.id, ctx.now)
    ctx.uow.outbox.enqueued += resumed  # wake the dispatcher after the commit
    await ctx.uow.audit.record(
        ctx.actor, "campaign.resumed", ctx.now, channel=ctx.channel, campaign_id=campaign.id
    )
    return [ctx.reply("campaign.resumed", id=campaign.id, count=resumed)]


def register(router: Router) -> None:
    router.command(
        Command("campaigns", list_campaigns, Audience.MANAGER, describe="campaign.cmd_campaigns")
    )
    router.command(
        Command("campaign", campaign_command, Audience.MANAGER, describe="campaign.cmd_campaign")
    )
    router.action(ACTIONS, campaign_action, Audience.MANAGER)
    router.action(power_button.ACTION, power.power_pressed, Audience.MANAGER)
    router.flow(power.FLOW, power.power_step, Audience.MANAGER)
    router.flow(wizard.FLOW, wizard.wizard_step, Audience.MANAGER)
