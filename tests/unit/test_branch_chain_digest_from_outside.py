"""The daily digests of a chain, from outside: each branch manager's sales line is the owner's
line for that branch, with a voided sale, a member buying away from home and a branch closed
since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.bootstrap import App
from bot.core.clock import FrozenClock
from bot.i18n import format_baht, t
from jobs.digest import run_digest
from shop.branches import set_open
from tests.unit.inbox_support import add_sale
from tests.unit.sales_support import queued, texts
from tests.unit.staff_support import ensure_branches, make_member, staff_chat

YESTERDAY = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 12:00 in Bangkok on 2 March
DIGEST_TIME = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 08:00 in Bangkok on 3 March
NAMES = {"asoke": "Asoke", "sukhumvit": "Sukhumvit", "dindaeng": "Din Daeng"}


async def test_each_manager_s_digest_is_the_owner_s_line_for_their_branch(
    app: App, clock: FrozenClock
) -> None:
    await ensure_branches(app)
    people = [await staff_chat(app, "own", "owner", language_code="en")]
    for code in NAMES:
        people.append(await staff_chat(app, f"m-{code}", "manager", code, language_code="en"))
    for person in people:
        await person.say("/help")  # each has spoken to the bot in English
    clock.set(YESTERDAY)
    ploy = await make_member(app, "Ploy", "081-111-0001", home_branch_code="asoke")
    await add_sale(app, ploy.id, "asoke", YESTERDAY, "120.00")
    await add_sale(app, ploy.id, "sukhumvit", YESTERDAY, "80.00")
    later = YESTERDAY + timedelta(minutes=5)
    await add_sale(app, ploy.id, "sukhumvit", later, "45.00", voided=True)
    await add_sale(app, ploy.id, "dindaeng", YESTERDAY, "300.00")
    async with app.uow() as uow:
        await set_open(uow, "dindaeng", False, "t", clock.now())
        await uow.commit()
    clock.set(DIGEST_TIME)
    assert await run_digest(app) == {"queued": 4}
    digests = {row.user_id: texts(row) for row in await queued(app, "digest:2026-03-02:")}
    owner = digests["own"].split("\n")
    assert t("en", "digest.sales", n=3, total=format_baht(Decimal("500.00"), "en")) in owner
    for code, name in NAMES.items():
        own = [line for line in owner if line.startswith(f"  • {name}:")]
        [line] = own
        n, total = line.split(": ", 1)[1].split(", ", 1)
        mine = digests[f"m-{code}"].split("\n")
        assert t("en", "digest.sales", n=int(n), total=total) in mine, (code, mine)
