"""The contact policy's queries: each member's chat account to write to, and who of an
audience may be written to now (the rules themselves are ``shop.contact_policy``).

The exclusion reasons are the values stored in ``campaign_members.excluded``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, and_, case, exists, false, func, literal, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from storage.models import ChannelIdentity, Consent, Member, OutboxMessage
from storage.segments import SegmentEnv, lifecycle_group

NO_CONSENT: Final = "no_consent"
STOPPED: Final = "stopped"
UNREACHABLE: Final = "unreachable"
FREQUENCY_CAP: Final = "frequency_cap"
#: every reason a member of an audience may be left out, in the order they are checked
EXCLUSION_REASONS: Final = (NO_CONSENT, STOPPED, UNREACHABLE, FREQUENCY_CAP)
#: outbox statuses that count towards a cap: sent, and queued but not yet sent
COUNTED_STATUSES: Final = ("pending", "sent")

#: a select of ``members.id`` (an audience), and the eligibility rows built on one
MemberIds = Select[Any]
EligibilityQuery = Select[Any]
#: a SQL expression naming a member's lifecycle group
LifecycleColumn = ColumnElement[str]


def preferred_identities(member_ids: MemberIds | None = None) -> Select[Any]:
    """Each member's chat account to write to: reachable, most recently seen (the same rule
    as ``Identities.preferred``), as rows ``(member_id, channel, user_id)``; only of the
    members of ``member_ids`` when given (the ranking is then computed for them alone, not
    for every chat account of the shop — a campaign launch asks page by page)."""
    rank = (
        func.row_number()
        .over(
            partition_by=ChannelIdentity.member_id,
            order_by=(ChannelIdentity.last_seen_at.desc(), ChannelIdentity.id.desc()),
        )
        .label("rank")
    )
    identities = select(
        ChannelIdentity.member_id.label("member_id"),
        ChannelIdentity.channel.label("channel"),
        ChannelIdentity.user_id.label("user_id"),
        rank,
    ).where(ChannelIdentity.member_id.is_not(None), ChannelIdentity.reachable.is_(True))
    if member_ids is not None:
        identities = identities.where(ChannelIdentity.member_id.in_(member_ids))
    ranked = identities.subquery("ranked_identities")
    return select(ranked.c.member_id, ranked.c.channel, ranked.c.user_id).where(ranked.c.rank == 1)


def eligibility_query(
    env: SegmentEnv,
    member_ids: MemberIds,
    *,
    promotional: bool,
    caps: Mapping[str, int],
    other_cap: int,
    since: datetime,
    lifecycle: LifecycleColumn | None = None,
    lookup: bool = False,
) -> EligibilityQuery:
    """One query giving, per member of ``member_ids`` (a select of ``members.id``), the rows
    ``(member_id, channel, user_id, excluded, lifecycle)``.

    ``excluded`` is None for a member who may be written to now, else the first reason that
    applies: ``no_consent`` (never agreed to marketing), ``stopped`` (agreed, then /stop),
    ``unreachable`` (no reachable chat account; ``channel``/``user_id`` are then NULL) or
    ``frequency_cap`` (the member's lifecycle group has had its promotions this window).
    Transactional messages (``promotional=False``) are only ever ``unreachable``.
    ``caps`` gives the promotions per lifecycle group allowed since ``since`` (``other_cap``
    for a group not named). ``env`` is the segment engine's environment (``now``,
    thresholds); the lifecycle group comes from ``storage.segments.lifecycle_group(env)``
    unless ``lifecycle`` is given. ``lookup`` finds each member's chat account by one index
    look-up per member instead of ranking the audience's accounts together (the same account
    either way; the faster depends on the database: :func:`_preferred`).
    """
    audience = member_ids.subquery("audience")
    audience_id = next(iter(audience.c))
    if lifecycle is None:
        lifecycle = lifecycle_group(env)
    base = _members(audience, audience_id, lifecycle, since)
    preferred, channel, user_id, on = _preferred(base, audience_id, lookup)
    unreachable = (user_id.is_(None), literal(UNREACHABLE))
    excluded: ColumnElement[Any]
    if not promotional:
        excluded = case(unreachable, else_=None)
    else:
        cap = case(
            *[(base.c.lifecycle == group, literal(n)) for group, n in sorted(caps.items())],
            else_=literal(other_cap),
        )
        # a member below every group's cap is under their own: their lifecycle group (a CASE
        # of several sales look-ups) is only worked out for those who may have reached it
        lowest = min([*caps.values(), other_cap])
        capped = case((base.c.recent < lowest, false()), else_=base.c.recent >= cap)
        consented = base.c.opt_in.is_(True)
        excluded = case(
            (and_(~consented, base.c.ever_agreed.is_(True)), literal(STOPPED)),
            (~consented, literal(NO_CONSENT)),
            unreachable,
            (capped, literal(FREQUENCY_CAP)),
            else_=None,
        )
    return select(
        base.c.member_id,
        channel.label("channel"),
        user_id.label("user_id"),
        excluded.label("excluded"),
        base.c.lifecycle,
    ).outerjoin(preferred, on)


def _preferred(base: Subquery, audience_id: ColumnElement[Any], lookup: bool) -> tuple[Any, ...]:
    """What to join for each member's chat account: ``(from, channel, user_id, on)``.

    Ranked (a window over the audience's accounts): PostgreSQL's way; it cannot use a
    per-member look-up in a join condition and tries every pair. Looked up (``lookup``):
    SQLite's way; its window over a page of a large shop's accounts took about three times as
    long once the shop outgrew its page cache."""
    if not lookup:
        ranked = preferred_identities(select(audience_id)).subquery("preferred")
        return ranked, ranked.c.channel, ranked.c.user_id, ranked.c.member_id == base.c.member_id
    account = aliased(ChannelIdentity, name="preferred")
    preferred_id = (
        select(ChannelIdentity.id)
        .where(ChannelIdentity.member_id == base.c.member_id, ChannelIdentity.reachable.is_(True))
        .order_by(ChannelIdentity.last_seen_at.desc(), ChannelIdentity.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return account, account.channel, account.user_id, account.id == preferred_id


def _members(
    audience: Subquery, audience_id: ColumnElement[Any], lifecycle: LifecycleColumn, since: datetime
) -> Subquery:
    """Per member of the audience (not erased): consent now and ever, lifecycle group, and
    promotions counted towards the cap since ``since``."""
    recent = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.member_id == Member.id,
            OutboxMessage.promotional.is_(True),
            OutboxMessage.created_at >= since,
            OutboxMessage.status.in_(COUNTED_STATUSES),
        )
        .scalar_subquery()
    )
    ever_agreed = exists().where(
        Consent.member_id == Member.id,
        Consent.purpose == "marketing",
        Consent.granted.is_(True),
    )
    # the lifecycle CASE is computed once per member here, not once per cap comparison
    return (
        select(
            Member.id.label("member_id"),
            Member.marketing_opt_in.label("opt_in"),
            ever_agreed.label("ever_agreed"),
            lifecycle.label("lifecycle"),
            recent.label("recent"),
        )
        .join(audience, audience_id == Member.id)
        .where(Member.erased_at.is_(None))
        .subquery("base")
    )
