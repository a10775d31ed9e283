"""The post-purchase feedback job: ask members how their visit was, N hours after the sale.

Setting ``feedback`` (shop settings): ``{"enabled": true, "after_hours": 3}``. A sale is asked
about once (``Feedback.sale_id`` is unique; the row and its outbox message, key
``feedback:<sale id>``, are written in one transaction), never when voided, never for an erased
member, and never during the quiet hours: a question that falls due then is queued for the end
of the quiet hours. Sales older than :data:`LOOKBACK` past their due time are left alone (a
shop switching feedback on is not asked about last year's visits).

It is a service message about a visit the member made, not marketing: no marketing consent is
needed (members who used /stop still get it), but only members are asked and an unreachable
chat account gets nothing (``notify_member``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from bot.bootstrap import App
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import t
from handlers.customer.feedback import ACTIONS
from handlers.router import action_button
from storage.contact_policy import load_policy, next_send_time
from storage.models import Branch, Member, Sale

SETTINGS_KEY: Final = "feedback"
DEFAULT_AFTER_HOURS: Final = 3
LOOKBACK: Final = timedelta(days=2)


def settings_of(value: dict[str, Any] | None) -> tuple[bool, timedelta]:
    value = value or {}
    hours = float(value.get("after_hours", DEFAULT_AFTER_HOURS))
    return bool(value.get("enabled", True)), timedelta(hours=hours)


def question(locale: str, feedback_id: int, branch: Branch) -> list[Reply]:
    name = branch.name_th if locale == "th" else branch.name_en
    stars = tuple(action_button("★" * n, ACTIONS, str(feedback_id), str(n)) for n in range(1, 6))
    return [Reply(text=t(locale, "feedback.ask", branch=name), buttons=stars)]


async def run_feedback(app: App) -> dict[str, int]:
    """Queue the question for every sale that has come due; idempotent (see module doc)."""
    now = app.clock.now()
    async with app.uow() as uow:
        enabled, after = settings_of(await uow.settings.get(SETTINGS_KEY))
        if not enabled:
            return {"asked": 0, "skipped": 0}
        policy = await load_policy(uow.settings)
        due = await uow.feedback.due_sales(now - after - LOOKBACK, now - after)
    asked = skipped = 0
    send_at = next_send_time(now, app.settings.tz, policy)
    for sale_id in due:
        async with app.uow() as uow:
            sale = await uow.session.get(Sale, sale_id)
            if sale is None or sale.member_id is None or sale.voided_at is not None:
                continue
            member = await uow.session.get(Member, sale.member_id)
            branch = await uow.session.get(Branch, sale.branch_id)
            identity = await uow.identities.preferred(sale.member_id)
            feedback = await uow.feedback.create(sale, send_at)
            if feedback is None or member is None or branch is None:
                continue
            if identity is None:
                skipped += 1  # the row records that this sale was dealt with
            else:
                await uow.outbox.enqueue(
                    f"feedback:{sale.id}",
                    identity.channel,
                    identity.user_id,
                    replies_to_payload(question(member.locale, feedback.id, branch)),
                    now,
                    member_id=member.id,
                    not_before=send_at,
                )
                asked += 1
            await uow.commit()
    if asked and app.bus.on_commit is not None:
        app.bus.on_commit()  # wake the dispatcher
    return {"asked": asked, "skipped": skipped}
