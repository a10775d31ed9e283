"""/mydata: everything the shop holds about the member, as one UTF-8 JSON file (PDPA s.30-31)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from bot.core.messages import Attachment, Reply
from handlers.context import Context
from handlers.customer.common import audit
from storage.models import Branch, ChannelIdentity, Member

EXPORT_FILENAME: Final = "chatcrm-mydata.json"
EXPORT_FORMAT: Final = "chatcrm-mydata-v1"


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


async def collect(ctx: Context, member: Member) -> dict[str, Any]:
    """The export document: member fields, chat accounts, consents, sales, points, messages,
    coupons, staff's tags and notes, feedback, inbox threads, contact events, campaigns."""
    uow = ctx.uow
    branch = await uow.branches.get(member.home_branch_id) if member.home_branch_id else None
    identities = await uow.identities.of_member(member.id)
    sales = await _sales(ctx, member)
    messages = [m for identity in identities for m in await uow.inbox.of_identity(identity.id)]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(ctx.now),
        "member": _member_fields(member, branch),
        "channel_identities": [_identity(identity) for identity in identities],
        "consents": [
            {
                "purpose": consent.purpose,
                "granted": consent.granted,
                "wording_version": consent.wording_version,
                "channel": consent.channel,
                "recorded_at": _iso(consent.recorded_at),
            }
            for consent in await uow.members.consents(member.id)
        ],
        "sales": sales,
        "points": [
            {
                "delta": entry.delta,
                "reason": entry.reason,
                "earned_at": _iso(entry.earned_at),
                "recorded_at": _iso(entry.created_at),
                "note": entry.note,
            }
            for entry in await uow.points.entries(member.id)
        ],
        "messages": [
            {"text": m.text, "status": m.status, "received_at": _iso(m.received_at)}
            for m in sorted(messages, key=lambda m: (m.received_at, m.id))
        ],
        **await _held_about(ctx, member, [identity.id for identity in identities]),
    }


async def _held_about(ctx: Context, member: Member, identity_ids: list[int]) -> dict[str, Any]:
    """Coupons, staff's tags and notes, feedback, inbox threads, contact events, campaigns."""
    held = ctx.uow.subject_access
    tags, notes = await held.tags_and_notes(member.id)
    return {
        "coupons": await held.coupons(member.id),
        "tags": tags,
        "staff_notes": notes,
        "feedback": await held.feedback(member.id),
        "inbox_threads": await held.threads(member.id, identity_ids),
        "contact_events": await held.contact_events(member.id),
        "campaigns": await held.campaigns(member.id),
    }


def _member_fields(member: Member, branch: Branch | None) -> dict[str, Any]:
    return {
        "member_code": member.member_code,
        "name": member.name,
        "phone": member.phone or member.phone_unlinked,
        "birthday": _iso(member.birthday),
        "gender": member.gender,
        "home_branch": branch.code if branch else None,
        "language": member.locale,
        "joined_at": _iso(member.joined_at),
        "referred_by_code": member.referred_by_code,
        "signup_source": member.signup_source,
        "marketing_opt_in": member.marketing_opt_in,
    }


def _identity(identity: ChannelIdentity) -> dict[str, Any]:
    return {
        "channel": identity.channel,
        "user_id": identity.user_id,
        "display_name": identity.display_name,
        "language_code": identity.language_code,
        "chosen_language": identity.chosen_locale,
        "first_seen_at": _iso(identity.first_seen_at),
        "last_seen_at": _iso(identity.last_seen_at),
    }


async def _sales(ctx: Context, member: Member) -> list[dict[str, Any]]:
    """Every sale of the member (voided ones too), with its branch by code."""
    branch_codes: dict[int, str] = {}
    sales = []
    for sale in await ctx.uow.members.all_sales(member.id):
        if sale.branch_id not in branch_codes:
            found = await ctx.uow.branches.get(sale.branch_id)
            branch_codes[sale.branch_id] = found.code if found else str(sale.branch_id)
        sales.append(
            {
                "receipt_no": sale.receipt_no,
                "branch": branch_codes[sale.branch_id],
                "amount_thb": str(sale.amount),
                "occurred_at": _iso(sale.occurred_at),
                "categories": sale.categories.split(",") if sale.categories else [],
                "used_coupon": sale.used_coupon,
                "voided_at": _iso(sale.voided_at),
            }
        )
    return sales


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not exportable: {type(value).__name__}")


async def export_my_data(ctx: Context) -> list[Reply]:
    """/mydata (members only): the export as a file attachment, with a line saying what it is."""
    member = ctx.member
    assert member is not None
    document = await collect(ctx, member)
    content = json.dumps(document, ensure_ascii=False, indent=2, default=_json_default)
    await audit(ctx, "member.exported", member.id)
    attachment = Attachment(EXPORT_FILENAME, content.encode("utf-8"), "application/json")
    return [Reply(text=ctx.t("privacy.mydata"), attachment=attachment)]
