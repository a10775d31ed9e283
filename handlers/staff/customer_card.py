"""What ``/customer`` shows staff about one member: profile, tier and points, purchase figures
(aggregated in SQL), tags, latest notes, consent state and chat channels."""

from __future__ import annotations

from bot.core.graphemes import fit
from bot.i18n import format_baht, format_date, format_phone, format_points
from handlers.context import Context
from handlers.customer.common import branch_name, gender_label, tier_label
from shop.loyalty import loyalty_status
from storage.models import Member

NOTES_SHOWN = 3
NOTE_PREVIEW = 120


async def describe_member(ctx: Context, member: Member) -> str:
    uow, locale = ctx.uow, ctx.locale
    status = await loyalty_status(uow, member.id, ctx.now, ctx.settings.tz)
    bought = await uow.people.purchases(member.id)
    favourite = (
        await uow.branches.get(bought.favourite_branch_id) if bought.favourite_branch_id else None
    )
    none = ctx.t("customer.none")
    birthday = format_date(member.birthday, locale) if member.birthday else none
    joined = member.joined_at.astimezone(ctx.settings.tz).date()
    last = bought.last_visit.astimezone(ctx.settings.tz).date() if bought.last_visit else None
    lines = [
        ctx.t("customer.title", name=member.name or none, code=member.member_code),
        ctx.t(
            "customer.profile",
            phone=format_phone(member.phone),
            verified=ctx.t("customer.verified") if member.phone_verified else "",
            birthday=birthday,
            gender=gender_label(ctx, member.gender),
        ),
        ctx.t(
            "customer.tier_points",
            tier=tier_label(ctx, status.tier),
            points=format_points(status.balance),
            spend=format_baht(status.spend, locale),
        ),
        ctx.t(
            "customer.visits",
            visits=bought.visits,
            average=format_baht(bought.average_ticket, locale),
            last=format_date(last, locale) if last else ctx.t("customer.never"),
            branch=branch_name(favourite, locale) if favourite else none,
        ),
        ctx.t(
            "customer.lifetime",
            amount=format_baht(bought.spend, locale),
            since=format_date(joined, locale),
        ),
        ctx.t("customer.tags", tags=", ".join(await uow.people.tags(member.id)) or none),
        await _consent_line(ctx, member),
        await _channels_line(ctx, member),
    ]
    if member.phone_unlinked:
        holder = await uow.members.by_phone(member.phone_unlinked)
        code = holder.member_code if holder is not None else none
        phone = format_phone(member.phone_unlinked)
        lines.insert(2, ctx.t("customer.phone_duplicate", phone=phone, code=code))
    notes = await uow.people.notes(member.id, NOTES_SHOWN)
    if notes:
        lines.append(ctx.t("customer.notes_title"))
        for note in notes:
            day = note.created_at.astimezone(ctx.settings.tz).date()
            text = fit(note.text, NOTE_PREVIEW)
            lines.append(ctx.t("customer.note_line", date=format_date(day, locale), text=text))
    return "\n".join(lines)


async def _consent_line(ctx: Context, member: Member) -> str:
    latest: dict[str, bool] = {}
    for consent in await ctx.uow.members.consents(member.id):  # oldest first: the last one wins
        latest[consent.purpose] = consent.granted

    def state(purpose: str) -> str:
        if purpose not in latest:
            return ctx.t("customer.consent_none")
        return ctx.t("customer.consent_yes" if latest[purpose] else "customer.consent_no")

    return ctx.t("customer.consent", membership=state("membership"), marketing=state("marketing"))


async def _channels_line(ctx: Context, member: Member) -> str:
    identities = await ctx.uow.identities.of_member(member.id)
    if not identities:
        return ctx.t("customer.channels", channels=ctx.t("customer.no_channel"))
    shown = [
        ctx.t(
            "customer.channel_ok" if identity.reachable else "customer.channel_blocked",
            channel=ctx.t(f"link.{identity.channel}"),
        )
        for identity in identities
    ]
    return ctx.t("customer.channels", channels=", ".join(shown))
