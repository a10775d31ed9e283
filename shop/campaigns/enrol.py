"""Enrolling members in a campaign: the one path of a campaign's launch and an automation's run.

Every member of the audience gets a ``CampaignMember`` row. The hold-out is picked by a hash of
(campaign id, member id) (:func:`in_holdout`), so a re-run or a recount agrees with the first
run; the contact policy's exclusion reason is recorded for every member, hold-out included, so
that the comparable groups for uplift are *recipients that were sent to* (``group='recipient'
and excluded is null``) against *hold-out members that would have been sent to*
(``group='holdout' and excluded is null``). Only the former get an outbox row, keyed
``cmp:<campaign>:<member>`` unless the caller keys its notices itself.

The message each recipient gets is the caller's: the shop decides who is written to, the
caller's wording what they read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeAlias

from bot.core.keys import CampaignMessageKey
from shop.contact_policy import ContactPolicy, eligibility
from storage.holdout import in_holdout
from storage.models import Campaign
from storage.repositories.audiences import AudienceRow, MemberQuery
from storage.segments import SegmentEnv
from storage.uow import UnitOfWork

#: one outbox message's payload (``bot.core.wire.replies_to_payload`` of its replies)
Payload: TypeAlias = dict[str, Any]
#: the payload one member of the audience is sent
MessageOf = Callable[[AudienceRow], Payload]
#: a recipient's outbox key, by member id
KeyOf = Callable[[int], str]

__all__ = ["Enrolment", "Messages", "enrol", "enrol_staged", "in_holdout", "read_audience"]


class Messages(Protocol):
    """A launch's message: each recipient's payload from their row, or, when it depends on
    nothing of the member but their language, the one payload of everyone reading it."""

    def __call__(self, row: AudienceRow) -> Payload: ...

    def same_for(self, locale: str | None) -> Payload | None: ...


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What one enrolment did: members drawn as recipients and queued, drawn as recipients
    whose key was queued before (``already_queued``: only when ``once``), held out, and left
    out per exclusion reason."""

    queued: int = 0
    already_queued: int = 0
    holdout: int = 0
    excluded: Mapping[str, int] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        """``recipients`` (queued), ``already_queued``, ``holdout`` and one count per
        exclusion reason, the zero ones left out."""
        counts = Counter(self.excluded)
        counts.update(
            recipients=self.queued, already_queued=self.already_queued, holdout=self.holdout
        )
        return +counts


async def read_audience(
    uow: UnitOfWork,
    env: SegmentEnv,
    members: MemberQuery,
    policy: ContactPolicy,
    *,
    promotional: bool = True,
    spend_since: datetime | None = None,
) -> list[AudienceRow]:
    """The members of ``members`` as audience rows, in member id order, each with the first
    exclusion reason of the contact policy that applies (only ``unreachable`` when not
    ``promotional``) and their spend since ``spend_since`` (0 without it)."""
    query = eligibility(env, members, promotional=promotional, policy=policy)
    return await uow.audiences.rows(query, spend_since=spend_since)


async def enrol(
    uow: UnitOfWork,
    campaign: Campaign,
    audience: Sequence[AudienceRow],
    *,
    message: MessageOf,
    now: datetime,
    key_of: KeyOf | None = None,
    promotional: bool = True,
    not_before: datetime | None = None,
    once: bool = False,
) -> Enrolment:
    """Add ``audience`` to the campaign: the hold-out drawn at ``campaign.holdout_pct``, every
    member's exclusion recorded, and an outbox row (``message(row)``) for each recipient, keyed
    ``key_of(member)`` or ``cmp:<campaign>:<member>``, held until ``not_before``.

    ``once=False`` (a launch: the snapshot is new) writes the rows straight in bulk.
    ``once=True`` (an automation's period campaign, added to day by day) writes insert-once:
    a member already in the audience keeps their row, a key queued before queues nothing, and
    each audience row carries ``enrolled_at``. Nothing is committed.
    """
    rows: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    excluded: Counter[str] = Counter()
    holdout = 0
    for row in audience:
        held = in_holdout(campaign.id, row.member_id, campaign.holdout_pct)
        key: str | None = None
        if row.excluded is not None:
            excluded[row.excluded] += 1
        elif held:
            holdout += 1
        else:
            if key_of is None:
                key = CampaignMessageKey(campaign.id, row.member_id).format()
            else:
                key = key_of(row.member_id)
            messages.append(_outbox_row(key, row, message(row), now, promotional, not_before))
        rows.append(
            {
                "campaign_id": campaign.id,
                "member_id": row.member_id,
                "group": "holdout" if held else "recipient",
                "channel": row.channel,
                "excluded": row.excluded,
                "outbox_key": key,
                "enrolled_at": now if once else None,
            }
        )
    if once:
        queued = await _queue_once(uow, messages)
        await uow.campaigns.add_audience_once(rows)
    else:
        await uow.campaigns.add_audience(rows)
        await uow.outbox.add_many(messages)
        queued = len(messages)
    return Enrolment(queued, len(messages) - queued, holdout, dict(excluded))


def _outbox_row(
    key: str,
    row: AudienceRow,
    payload: Payload,
    now: datetime,
    promotional: bool,
    not_before: datetime | None,
) -> dict[str, Any]:
    return {
        "dedupe_key": key,
        "channel": row.channel,
        "user_id": row.user_id,
        "member_id": row.member_id,
        "promotional": promotional,
        "payload": payload,
        "not_before": not_before or now,
        "created_at": now,
    }


async def _queue_once(uow: UnitOfWork, messages: Sequence[dict[str, Any]]) -> int:
    queued = 0
    for m in messages:
        queued += await uow.outbox.enqueue(
            m["dedupe_key"],
            m["channel"],
            m["user_id"],
            m["payload"],
            m["created_at"],
            member_id=m["member_id"],
            promotional=m["promotional"],
            not_before=m["not_before"],
        )
    return queued


async def enrol_staged(
    uow: UnitOfWork,
    campaign: Campaign,
    pages: Sequence[tuple[int, int]],
    *,
    message: Messages,
    now: datetime,
    spend_since: datetime | None = None,
) -> Enrolment:
    """:func:`enrol` (``once=False``, a launch) set-based, for the audience staged in
    ``uow.enrolment`` (its eligibility rows with the hold-out drawn in SQL, the same draw as
    :func:`in_holdout`): the audience rows and the outbox rows written by ``INSERT … SELECT``,
    one statement per language when the message is the same for everyone reading it, else each
    recipient's payload rendered from their row, page by page (``pages``: member id ranges
    ``(after, last]``)."""
    enrolment = uow.enrolment
    staged = await enrolment.staged()
    prefix = CampaignMessageKey.campaign_prefix(campaign.id)
    await enrolment.add_audience(campaign.id, prefix)
    payloads = {locale: message.same_for(locale) for locale in staged.locales}
    queued = 0
    if all(payload is not None for payload in payloads.values()):
        for locale, payload in payloads.items():
            assert payload is not None
            queued += await enrolment.queue_same(
                prefix, locale, payload, now, promotional=True, not_before=now
            )
        uow.outbox.enqueued += queued
        return Enrolment(queued, 0, staged.holdout, dict(staged.excluded))
    for after, last in pages:
        query = enrolment.recipients_query(after, last)
        rows = await uow.audiences.rows(query, spend_since=spend_since)
        messages = [
            _outbox_row(_key(campaign, row), row, message(row), now, True, None) for row in rows
        ]
        await uow.outbox.add_many(messages)
        queued += len(messages)
    return Enrolment(queued, 0, staged.holdout, dict(staged.excluded))


def _key(campaign: Campaign, row: AudienceRow) -> str:
    return CampaignMessageKey(campaign.id, row.member_id).format()
