"""A job's notice to the shop's staff (a campaign paused, a scheduled one not sent): one
message per reachable staff member of the roles asked, in the language each reads, under a
key per person (:func:`bot.core.keys.staff_message_key`), so a job run again queues nothing
twice and removing the person withdraws it. Handlers have :func:`handlers.notify.notify_staff`."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from bot.core.keys import staff_message_key
from bot.core.messages import Reply
from bot.core.wire import replies_to_payload
from bot.i18n import supported_locale
from storage.repositories.outbox_reads import StaffRecipient
from storage.uow import UnitOfWork


async def tell_staff(
    uow: UnitOfWork,
    roles: Collection[str],
    cause: str,
    text_for: Callable[[str], str],
    now: datetime,
    shop_locale: str,
) -> None:
    """Queue ``text_for(locale)`` to every reachable active staff member with one of
    ``roles``, under ``cause``'s key for that person."""
    for person, locale in await staff_readers(uow, roles, shop_locale):
        await uow.outbox.enqueue(
            staff_message_key(cause, person.staff_id),
            person.channel,
            person.user_id,
            replies_to_payload([Reply(text=text_for(locale))]),
            now,
        )


async def staff_readers(
    uow: UnitOfWork, roles: Collection[str], shop_locale: str
) -> list[tuple[StaffRecipient, str]]:
    """Every reachable active staff member with one of ``roles``, with the language each
    reads: their member profile's, else their chat's, else the shop's."""
    return [
        (person, person.member_locale or supported_locale(person.language_code) or shop_locale)
        for person in await uow.outbox.staff_recipients(roles)
        if person.reachable
    ]
