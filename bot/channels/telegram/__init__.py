"""The Telegram channel: webhook and long polling in, Bot API out (aiogram 3).

One aiogram ``Dispatcher`` (FSM disabled: conversation state is ours, in the database) turns
each private-chat update into one :class:`Inbound`, hands it to the bus, and delivers the
replies only after the bus has committed. The webhook answers only after that work is done,
so a crash makes Telegram redeliver instead of losing the update; the bus's processed-event
log makes the redelivery harmless.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Sequence
from typing import Final

from aiogram import Dispatcher
from aiogram.enums import ChatType
from aiogram.types import (
    BotCommandScopeDefault,
    ChatMemberUpdated,
    Message,
    TelegramObject,
    Update,
)
from aiogram.utils.token import TokenValidationError, validate_token
from aiohttp import web

from bot import metrics
from bot.channels.telegram.addressee import OwnUsername
from bot.channels.telegram.inbound import inbound_from_update
from bot.channels.telegram.menu import apply_menus, menu_commands, staff_menus
from bot.channels.telegram.outbound import call, send
from bot.channels.telegram.plain import common_update
from bot.channels.telegram.session import arrival_window, make_bot, session_of
from bot.channels.telegram.webhook_check import check_webhook
from bot.config import Settings
from bot.core.capabilities import TELEGRAM_CAPABILITIES
from bot.core.clock import Clock
from bot.core.errors import ChannelError, RecipientUnreachable
from bot.core.messages import Channel, Identity, Inbound, InboundKind, Reply
from bot.core.ports import NextTurn
from bot.i18n import LOCALES
from handlers.bus import Bus
from handlers.router import Router
from jobs.replies import ReplyCourier
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

WEBHOOK_PATH: Final = "/webhook/telegram"
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES: Final = ("message", "callback_query", "my_chat_member")
#: kinds whose replies are not sent: nothing reaches a blocked chat, and an unblock
#: (``my_chat_member`` back to ``member``) is followed by the Telegram app's own ``/start``,
#: which is what greets: answering both would welcome the person twice (issue 15, item 13)
_SILENT: Final = frozenset({InboundKind.UNFOLLOW, InboundKind.FOLLOW})
#: what Telegram accepts as ``secret_token`` (and as a command name)
_SECRET_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramConfigError(RuntimeError):
    """The settings cannot run Telegram the way asked (no token, no webhook secret)."""


#: the refusal of a token that is not shaped like one (never quoting the token: it is a secret)
MISSHAPEN: Final = (
    "TELEGRAM_BOT_TOKEN is not a bot token: @BotFather gives one as digits, a colon and "
    "letters (123456789:AAE…)"
)


def check_token(token: str) -> None:
    """Raises :class:`TelegramConfigError` when ``token`` is not shaped like a bot token."""
    try:
        validate_token(token)
    except TokenValidationError:  # say which setting is wrong, not aiogram's words
        raise TelegramConfigError(MISSHAPEN) from None


async def _private(event: Message | ChatMemberUpdated) -> bool:
    """The update's chat is a private one: ``F.chat.type == ChatType.PRIVATE`` as a coroutine.
    aiogram runs a filter that is not one (a magic filter included) on a worker thread, a
    thread hop for every message."""
    return event.chat.type == ChatType.PRIVATE


class TelegramChannel:
    """Implements :class:`bot.channels.webhook.WebhookChannel` for Telegram private chats.

    ``push`` raises :class:`ChannelError` subclasses; delivery of replies to a webhook update
    never raises (a blocked user is marked unreachable, anything else is logged).
    """

    channel = Channel.TELEGRAM
    capabilities = TELEGRAM_CAPABILITIES

    def __init__(
        self, settings: Settings, bus: Bus[Router], uow: UnitOfWorkFactory, clock: Clock
    ) -> None:
        if not settings.telegram_bot_token:
            raise TelegramConfigError("TELEGRAM_BOT_TOKEN is not set")
        self.settings = settings
        self.bus = bus
        self.uow = uow
        self.clock = clock
        #: direct replies go through the budgets the server shares with the dispatcher
        self.replies = ReplyCourier(uow, clock, kick=self._kick)
        #: when its messages were answered: the limiter gives up a slot for each late one
        self.arrivals = arrival_window(settings.telegram_rate)
        try:
            self.bot = make_bot(
                settings.telegram_bot_token, settings.telegram_api_base, self.arrivals
            )
        except TokenValidationError as error:
            raise TelegramConfigError(MISSHAPEN) from error
        self.session = session_of(self.bot)
        self.username = OwnUsername(self.bot, settings.telegram_bot_username)
        self.dispatcher = Dispatcher(disable_fsm=True)
        self.dispatcher.message.register(self._on_update, _private)
        self.dispatcher.callback_query.register(self._on_update)  # chat checked on conversion
        self.dispatcher.my_chat_member.register(self._on_update, _private)

    # -- inbound ----------------------------------------------------------------------------

    def register(self, app: web.Application) -> None:
        """Route ``POST /webhook/telegram``; refuses to exist without a webhook secret."""
        if not self.settings.telegram_webhook_secret:
            raise TelegramConfigError("TELEGRAM_WEBHOOK_SECRET is required for the webhook")
        app.router.add_post(WEBHOOK_PATH, self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        """401 on a missing/wrong secret, 400 on a body that is not an Update, 500 when the
        bus itself failed (Telegram retries), else 200 once the update is fully handled.

        A private text message or a button press is read straight from its JSON
        (:mod:`~bot.channels.telegram.plain`); every other update goes through aiogram's
        ``Update`` model and dispatcher."""
        if not self._secret_ok(request.headers.get(SECRET_HEADER)):
            metrics.count_update("telegram", "rejected")
            return web.Response(status=401, text="unauthorized")
        update: Update | None = None
        try:
            body = await request.json()
            common = common_update(body, self.clock.now())
            if common is None:
                update = Update.model_validate(body, context={"bot": self.bot})
        except ValueError:  # bad JSON, bad UTF-8, not an Update (pydantic's error is one)
            metrics.count_update("telegram", "invalid")
            return web.Response(status=400, text="not a Telegram update")
        try:
            if update is not None:
                await self.dispatcher.feed_update(self.bot, update)
            elif common is not None:
                await self._handle(common.inbound, common.query_id)
        except Exception:  # the database is down or similar: let Telegram redeliver later
            update_id = update.update_id if update is not None else body["update_id"]
            log.exception("telegram update %s failed", update_id)
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")

    def _secret_ok(self, given: str | None) -> bool:
        expected = self.settings.telegram_webhook_secret
        if not expected or given is None:
            return False
        return hmac.compare_digest(given.encode(), expected.encode())

    async def _on_update(self, _event: TelegramObject, event_update: Update) -> None:
        """Dispatcher handler (aiogram passes the event first, the whole update by name)."""
        query = event_update.callback_query
        inbound = inbound_from_update(event_update, self.clock.now())
        await self._handle(inbound, query.id if query is not None else None)

    async def _handle(self, inbound: Inbound | None, query_id: str | None) -> None:
        """One update → bus → callback answer → replies, delivered after the bus committed."""
        try:
            if inbound is None or await self.username.for_another_bot(inbound):
                metrics.count_update("telegram", "ignored")
                return
            replies = await self.bus.handle(inbound)
        finally:
            if query_id is not None:  # always stop the button's spinner, even on a duplicate
                await self._answer_callback(query_id)
        if inbound.kind not in _SILENT and replies:
            await self.deliver(inbound.identity, replies)

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self.session.post(
                self.bot.token, "answerCallbackQuery", {"callback_query_id": query_id}
            )
        except ChannelError as error:  # an old query (redelivery) cannot be answered: harmless
            log.info("could not answer callback %s: %s", query_id, error)

    # -- outbound ---------------------------------------------------------------------------

    async def push(self, user_id: str, replies: Sequence[Reply]) -> None:
        """Send ``replies`` to a private chat, their messages back to back (outside the send
        budgets: the dispatcher and the replies use :meth:`push_paced`)."""
        await self.push_paced(user_id, replies, None)

    async def push_paced(
        self, user_id: str, replies: Sequence[Reply], next_turn: NextTurn | None
    ) -> None:
        """Send ``replies`` to a private chat, awaiting ``next_turn`` before every message
        after the first (:class:`~bot.core.ports.PacedOutbound`); raises a ChannelError
        subclass on failure.

        A reply whose ``meta`` asks for a command menu (staff after ``/claim``, a removed staff
        member) also sets that chat's menu, after the messages; a menu failure is only logged.
        """
        try:
            await send(self.bot, int(user_id), replies, next_turn)
        except ChannelError as error:
            if error.rest is not None:  # the menus of the replies that went out whole
                whole = replies[: len(replies) - len(error.rest)]
                await apply_menus(
                    self.bot, self.bus.router, int(user_id), whole, self.settings.locale
                )
            raise
        await apply_menus(self.bot, self.bus.router, int(user_id), replies, self.settings.locale)

    async def deliver(self, identity: Identity, replies: Sequence[Reply]) -> None:
        """Replies to an update the bus already committed, one reply at a time through the
        shared budgets (:mod:`jobs.replies`: what cannot go at once is queued, not lost);
        never raises."""
        result = "failed"
        try:
            result = await self.replies.deliver(
                Channel.TELEGRAM,
                identity.user_id,
                [[reply] for reply in replies],
                lambda unit, next_turn: self.push_paced(identity.user_id, unit, next_turn),
            )
        except RecipientUnreachable:
            result = "unreachable"
            await self._mark_unreachable(identity)
        except Exception:  # a bug, or the database down: Telegram must not redeliver a done update
            log.exception("telegram delivery to %s crashed", identity)
        finally:
            if result != "queued":  # the courier counted what it queued
                metrics.count_sends("telegram", "reply", result, len(replies))

    def _kick(self) -> None:
        if self.bus.on_commit is not None:
            self.bus.on_commit()  # the dispatcher, when this process runs it

    async def _mark_unreachable(self, identity: Identity) -> None:
        log.info("%s blocked the bot; marking unreachable", identity)
        try:
            async with self.uow() as uow:
                row = await uow.identities.get(identity.channel.value, identity.user_id)
                if row is not None:
                    row.reachable = False
                    await uow.commit()
        except Exception:
            log.exception("could not mark %s unreachable", identity)

    # -- modes and setup --------------------------------------------------------------------

    async def run_polling(self, polling_timeout: int = 10, handle_signals: bool = True) -> None:
        """Delete any webhook and long-poll with the same dispatcher until stopped.

        Updates are handled one at a time, so one person's messages keep their order.
        """
        await call(self.bot.delete_webhook(drop_pending_updates=False))
        await self.dispatcher.start_polling(
            self.bot,
            polling_timeout=polling_timeout,
            handle_as_tasks=False,
            allowed_updates=list(ALLOWED_UPDATES),
            handle_signals=handle_signals,
            close_bot_session=False,
        )

    async def stop_polling(self) -> None:
        await self.dispatcher.stop_polling()

    async def setup(self, router: Router) -> list[str]:
        """Register the webhook (when ``CHATCRM_PUBLIC_URL`` is set), the customer command
        menus (default language, plus one per other locale) and each Telegram staff member's
        own chat menu; returns what it did."""
        done: list[str] = []
        public_url = self.settings.public_url
        if public_url:
            secret = self.settings.telegram_webhook_secret
            if not secret or _SECRET_SHAPE.fullmatch(secret) is None:
                raise TelegramConfigError(
                    "TELEGRAM_WEBHOOK_SECRET must be set to 1-256 characters of A-Z a-z 0-9 _ - "
                    "before a webhook is registered"
                )
            url = f"{public_url}{WEBHOOK_PATH}"
            await call(
                self.bot.set_webhook(
                    url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
                )
            )
            done.append(f"webhook set to {url}")
        else:
            done.append("CHATCRM_PUBLIC_URL is not set: no webhook (use `chatcrm polling`)")
        default = self.settings.locale
        for locale in (default, *(code for code in LOCALES if code != default)):
            commands = menu_commands(router, locale)
            language_code = None if locale == default else locale
            await call(
                self.bot.set_my_commands(
                    commands=commands, scope=BotCommandScopeDefault(), language_code=language_code
                )
            )
            done.append(
                f"customer menu ({language_code or 'default'}, {locale}): {len(commands)} commands"
            )
        done += await staff_menus(self.bot, router, self.uow, default)
        return done

    async def check_setup(self) -> None:
        """Warn (in the log) when Telegram sends this bot's updates elsewhere (``serve``'s start;
        :mod:`bot.channels.telegram.webhook_check`)."""
        public_url = self.settings.public_url
        expected = f"{public_url}{WEBHOOK_PATH}" if public_url else None
        await check_webhook(self.session, self.bot.token, expected)

    async def close(self) -> None:
        await self.bot.session.close()
