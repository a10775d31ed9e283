"""The referral bonus of a first purchase that arrived through ``chatcrm import sales``.

After the receipts are committed, every referred member of the file whose first purchase
(their earliest live sale, imported or not) is one the shop pays for gets the bonus, and so
does the friend who invited them, exactly as ``/sale`` pays it
(:func:`shop.referral.pay_referral_if_first_purchase`): the same rules, the same idempotency
keys (a re-run of the file, or of an import interrupted before this step, pays nobody twice),
and the same messages to both members through the outbox. The receipts themselves are not
sent (an import brings old purchases, see :mod:`bot.importing.sales`). One unit of work per
member: the bot's own events wait on SQLite's write lock for one member at most.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from shop.referral import pay_referral_if_first_purchase
from storage.bulk.importing import referred_member_ids
from storage.db import Database, session_factory
from storage.uow import UnitOfWorkFactory
from wording.referral import referral_notices

#: who the audit rows name: the import runs from the command line
IMPORT_ACTOR: Final = "cli"


async def pay_first_purchase_referrals(
    engine: Database, member_ids: Collection[int], now: datetime, tz: ZoneInfo
) -> int:
    """Pay the referral bonuses the first purchases of ``member_ids`` earned; how many."""
    if not member_ids:
        return 0
    async with engine.connect() as connection:
        referred = await referred_member_ids(connection, member_ids)
    units = UnitOfWorkFactory(session_factory(engine))
    paid = 0
    for member_id in referred:
        async with units() as uow:
            member = await uow.members.get(member_id)
            sale = await uow.people.first_purchase(member_id)
            if member is None or sale is None:
                continue
            payout = await pay_referral_if_first_purchase(
                uow, member, sale, now, notices=referral_notices, actor=IMPORT_ACTOR, tz=tz
            )
            if payout is not None:
                await uow.commit()
                paid += 1
    return paid
