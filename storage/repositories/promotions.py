"""Responses to a promotion on its audience row: clicks, claims, the coupon a claim issued,
and finishing a campaign once its messages are out. Never commits: the unit of work does.

Every change is one conditional ``UPDATE`` whose row count says whether this caller made it,
so a double tap or two dispatchers decide once (``shop.campaigns.tracking`` holds the rules).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Update, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.core.keys import CampaignMessageKey
from storage.along import one_trip_driver, send_along
from storage.models import Campaign, CampaignMember, Coupon, OutboxMessage
from storage.repositories.outbox_reads import is_pending
from storage.repositories.outbox_statements import LIKE_ESCAPE, key_prefix_pattern


class Promotions:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def audience_row(self, campaign_id: int, member_id: int) -> CampaignMember | None:
        """The member's row of the campaign's audience snapshot, read afresh."""
        return await self._s.get(CampaignMember, (campaign_id, member_id), populate_existing=True)

    async def mark_clicked(self, campaign_id: int, member_id: int, now: datetime) -> bool:
        """Record the member's first click; True when this call recorded it."""
        cm = CampaignMember
        statement = update(cm).where(*_row(campaign_id, member_id), cm.clicked_at.is_(None))
        return await self._won(statement.values(clicked_at=now))

    async def mark_claimed(self, campaign_id: int, member_id: int, now: datetime) -> bool:
        """Record the member's first claim; True when this call recorded it."""
        cm = CampaignMember
        statement = update(cm).where(*_row(campaign_id, member_id), cm.claimed_at.is_(None))
        return await self._won(statement.values(claimed_at=now))

    async def release_coupon(self, campaign_id: int, member_id: int, coupon_id: int) -> bool:
        """Detach the (used) coupon ``coupon_id`` from the member's row so another may be
        issued; True when this call did it (a second press finds it detached already)."""
        cm = CampaignMember
        statement = update(cm).where(*_row(campaign_id, member_id), cm.coupon_id == coupon_id)
        return await self._won(statement.values(coupon_id=None))

    async def attach_coupon(self, campaign_id: int, member_id: int, coupon_id: int) -> None:
        """Point the member's row at the coupon their claim issued."""
        statement = update(CampaignMember).where(*_row(campaign_id, member_id))
        await self._won(statement.values(coupon_id=coupon_id))

    async def coupons_held(self, campaign_id: int, member_id: int) -> int:
        """How many coupons of the campaign the member was ever issued."""
        held = await self._s.scalar(
            select(func.count(Coupon.id)).where(
                Coupon.campaign_id == campaign_id, Coupon.member_id == member_id
            )
        )
        return int(held or 0)

    async def finish_if_done(self, campaign_id: int, now: datetime) -> bool:
        """Mark a ``sending`` campaign ``sent`` when none of its outbox rows is pending; True
        when this call did it. One conditional update, so concurrent callers finish it once.

        It runs after every campaign row's outcome, so it must cost the same at the millionth
        row as at the first: the campaign's rows are found by their key prefix (``cmp:<id>:``)
        among the *pending* rows (``ix_outbox_pending``), which stops at the first one; going
        through the audience snapshot instead walked past every row already sent (quadratic
        in the audience)."""
        return await self._won(
            _finish(), campaign=campaign_id, finished=now, prefix=_like(campaign_id)
        )

    async def finish_when_done(self, campaign_id: int, now: datetime) -> None:
        """:meth:`finish_if_done` without telling who did it: on SQLite's one-trip driver the
        update goes with the transaction's next statement (often its commit), a trip saved
        after every group of outcomes; elsewhere it runs now."""
        values = {"campaign": campaign_id, "finished": now, "prefix": _like(campaign_id)}
        # the session's own changes first, as its execute would flush them (a row marked sent
        # through the ORM must not count as pending)
        await self._s.flush()
        driver = await one_trip_driver(self._s)
        if driver is None:
            await self._won(_finish(), **values)
        else:
            send_along(driver, _finish(), values)

    async def _won(self, statement: Update, **values: Any) -> bool:
        """Run a conditional update of one row; True when it changed the row."""
        options = {"synchronize_session": False}
        result = await self._s.execute(statement, values or None, execution_options=options)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


_FINISH: list[Update] = []


def _finish() -> Update:
    """``finish_if_done``'s update, built once: it runs after every group of outcomes, and a
    statement built anew is walked for its cache key each time (``outbox_statements``)."""
    if not _FINISH:
        pending = exists().where(
            is_pending(),
            OutboxMessage.dedupe_key.like(bindparam("prefix"), escape=LIKE_ESCAPE),
        )
        _FINISH.append(
            update(Campaign)
            .where(Campaign.id == bindparam("campaign"), Campaign.status == "sending", ~pending)
            .values(status="sent", finished_at=bindparam("finished"))
        )
    return _FINISH[0]


def _like(campaign_id: int) -> str:
    """The LIKE pattern of a campaign's keys."""
    return key_prefix_pattern(CampaignMessageKey.campaign_prefix(campaign_id))


def _row(campaign_id: int, member_id: int) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (CampaignMember.campaign_id == campaign_id, CampaignMember.member_id == member_id)
