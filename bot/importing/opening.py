"""Opening points balances of the members an import creates.

The balance is written with the member's own ``INSERT`` and its ledger entry (``import``, key
``import:<phone>``, earned at the import) in the same transaction, so the cached balance is the
sum of the member's entries from the start, without the ``UPDATE`` per member that
:func:`storage.bulk.points.credit_many` needs for members who already exist (on PostgreSQL that
``UPDATE`` cost more than the member inserts). A phone's balance is opened at most once: a key
already in the ledger (an erased member's phone imported again) opens nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from storage.bulk.points import enter_openings, used_keys
from storage.db import DatabaseConnection

REASON: Final = "import"


def opening_key(phone: str) -> str:
    return f"import:{phone}"


async def unopened(connection: DatabaseConnection, wanted: Mapping[str, int]) -> dict[str, int]:
    """Of ``wanted`` (phone -> points), the positive balances whose key is unused: one query."""
    positive = {phone: points for phone, points in wanted.items() if points > 0}
    if not positive:
        return {}
    used = await used_keys(connection, [opening_key(phone) for phone in positive])
    return {phone: points for phone, points in positive.items() if opening_key(phone) not in used}


async def record_openings(
    connection: DatabaseConnection,
    openings: Mapping[str, int],
    member_ids: Mapping[str, int],
    now: datetime,
) -> None:
    """The ledger entries of ``openings`` (phone -> points), whose members were inserted with
    these balances: one bulk insert (:func:`storage.bulk.points.enter_openings`)."""
    if not openings:
        return
    await enter_openings(
        connection,
        [(member_ids[phone], points, opening_key(phone)) for phone, points in openings.items()],
        REASON,
        now,
    )
