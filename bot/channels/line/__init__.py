"""The LINE channel: signed webhooks in, replies and pushes out (line-bot-sdk v3, async).

``POST /webhook/line`` contract:

- the ``X-Line-Signature`` header must be base64(HMAC-SHA256(channel secret, raw body)); a
  missing or forged signature is answered **401** with nothing stored and nothing sent;
- a body that is not UTF-8 JSON, or events line-bot-sdk cannot validate (no
  ``webhookEventId`` / ``deliveryContext`` / ``mode``), is answered **400**;
- a body of common events (one-to-one texts, postbacks, follows, unfollows) is read from its
  JSON (:mod:`~bot.channels.line.plain`), any other by line-bot-sdk's parser, the signature
  checked first either way (:mod:`~bot.channels.line.events`);
- ``{"events": []}`` (LINE's URL check) is answered 200;
- an event stamped more than ``MAX_EVENT_AGE`` (7 days) ago, or ahead of our clock by more
  than a few minutes, is refused by its timestamp (a replay of a signed body: it is skipped,
  stored nowhere, and answered 200 like the rest so LINE does not retry it); so is one whose
  id is longer than the event log holds (no LINE id is: a body that failed the same way at
  every redelivery);
- each event is handled inline (one unit of work in the bus, then delivery) and 200 is
  answered when all are done; an unexpected crash answers 500 so LINE redelivers, and the bus's
  event log makes the redelivery harmless for the events already handled. A failed delivery is
  logged, not answered 500: the event is committed, a redelivery would be skipped anyway.

Events that are not from a one-to-one chat (groups, rooms) and unknown event types are skipped.
Events in ``standby`` mode (another channel module owns the chat) go through the bus, so state
and inbox stay right, but the bot keeps quiet. Stickers and photos get a one-line hint through
the free reply token (never a paid push, never for a redelivery).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp
from aiohttp import web
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
)
from linebot.v3.webhooks import MessageEvent

from bot import metrics
from bot.channels.line.client import api_client
from bot.channels.line.events import Events
from bot.channels.line.inbound import (
    event_key,
    event_time,
    has_storable_id,
    is_standby,
    to_inbound,
    user_of,
    within_replay_window,
)
from bot.channels.line.render import MAX_MESSAGES_PER_REQUEST, LineMessage, LineRenderer
from bot.channels.line.richmenu import install
from bot.channels.line.send import (
    DEFAULT_RETRY_DELAYS,
    LineSender,
    batch_retry_key,
    batches,
    channel_error,
)
from bot.config import Settings
from bot.core.capabilities import LINE_CAPABILITIES
from bot.core.clock import Clock
from bot.core.errors import ChannelError, TransientChannelError
from bot.core.messages import Channel, InboundKind, Reply
from bot.core.resume import marked, sent_before
from bot.i18n import supported_locale, t
from handlers.bus import Bus, answered_in
from handlers.router import Router
from jobs.replies import ReplyCourier
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

WEBHOOK_PATH: Final = "/webhook/line"
#: a reply token lives ``LINE_CAPABILITIES.reply_token_lifetime`` (about a minute); past this
#: age we push instead of wasting a call on a token that may expire on the way
REPLY_TOKEN_FRESHNESS: Final = timedelta(seconds=50)
#: the profile lookup on follow must not eat LINE's 2-second webhook budget
PROFILE_TIMEOUT: Final = 1.5
#: ``Reply.meta`` key on a call's first reply: how many of the call's messages went out before
SENT_META: Final = "line.sent"


class LineChannel:
    """The LINE Official Account as a :class:`bot.channels.webhook.WebhookChannel`."""

    channel = Channel.LINE
    capabilities = LINE_CAPABILITIES

    def __init__(
        self, settings: Settings, bus: Bus[Router], uow: UnitOfWorkFactory, clock: Clock
    ) -> None:
        if not settings.line_channel_secret or not settings.line_channel_access_token:
            raise ValueError("LINE needs LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN")
        self.settings = settings
        self._bus = bus
        self._uow = uow
        self._clock = clock
        self._events = Events(settings.line_channel_secret)
        self._token = settings.line_channel_access_token
        # the SDK opens an aiohttp session in its constructor: build clients inside the loop
        self._client: AsyncApiClient | None = None
        self._blob_client: AsyncApiClient | None = None
        self._sender: LineSender | None = None
        #: waits before retrying a failed push (tests set zeros)
        self.retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
        #: direct replies go through the budgets the server shares with the dispatcher
        self.replies = ReplyCourier(uow, clock, kick=self._kick)

    def _kick(self) -> None:
        if self._bus.on_commit is not None:
            self._bus.on_commit()  # the dispatcher, when this process runs it

    # -- clients ---------------------------------------------------------------------------

    @property
    def api(self) -> AsyncMessagingApi:
        if self._client is None:
            self._client = api_client(self.settings.line_api_base, self._token)
        return AsyncMessagingApi(self._client)

    @property
    def blob_api(self) -> AsyncMessagingApiBlob:
        if self._blob_client is None:
            self._blob_client = api_client(self.settings.line_data_api_base, self._token)
        return AsyncMessagingApiBlob(self._blob_client)

    @property
    def sender(self) -> LineSender:
        if self._sender is None:
            self._sender = LineSender(self.api, self.retry_delays)
        return self._sender

    async def close(self) -> None:
        for client in (self._client, self._blob_client):
            if client is not None:
                await client.close()
        self._client = self._blob_client = None
        self._sender = None

    # -- webhook ---------------------------------------------------------------------------

    def register(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get("X-Line-Signature", "")
        if not signature:
            metrics.count_update("line", "rejected")
            return web.Response(status=401, text="missing signature")
        try:
            events = self._events(body, signature)
        except InvalidSignatureError:
            log.warning("LINE webhook with a forged signature rejected")
            metrics.count_update("line", "rejected")
            return web.Response(status=401, text="bad signature")
        except (ValueError, KeyError, TypeError) as error:  # bad UTF-8, JSON or event shape
            log.warning("LINE webhook body rejected: %s", str(error)[:200])
            metrics.count_update("line", "invalid")
            return web.Response(status=400, text="invalid body")
        for event in events:
            try:
                await self.handle_event(event)
            except Exception:
                log.exception("LINE event handling failed; asking LINE to redeliver")
                return web.Response(status=500, text="retry later")
        return web.Response(text="ok")

    async def handle_event(self, event: Any) -> None:
        """Turn one event (the SDK's model, or a :class:`~bot.channels.line.plain.PlainEvent`
        read from the JSON) into an Inbound, run it through the bus, deliver.

        An event stamped outside the replay window (see ``MAX_EVENT_AGE``) is refused unread.
        """
        if not within_replay_window(event, self._clock.now()):
            log.warning(
                "LINE event %s refused: stamped %s ms",
                str(event.webhook_event_id)[:40],
                str(event.timestamp)[:40],
            )
            metrics.count_update("line", "replay")
            return
        if not has_storable_id(event):
            log.warning("LINE event refused: its id is too long (%s…)", event_key(event)[:40])
            metrics.count_update("line", "invalid")
            return
        inbound = await to_inbound(event, self._clock.now(), self._profile)
        if inbound is None:
            metrics.count_update("line", "ignored")
            await self._hint_unsupported(event)
            return
        replies = await self._bus.handle(inbound)
        if not replies or inbound.kind is InboundKind.UNFOLLOW:
            return
        if is_standby(event):
            log.info("standby event %s: replies not sent", inbound.event_id)
            return
        user_id, token, at = inbound.identity.user_id, inbound.reply_token, event_time(event)
        key, result = str(uuid.uuid4()), "failed"  # the key: pushed now or queued, the same
        try:  # what cannot go now is queued for the dispatcher (``jobs.replies``), not lost
            result = await self.replies.deliver(
                Channel.LINE,
                user_id,
                [replies],
                lambda unit, _next_turn: self.deliver(user_id, unit, token, at, key),
                retry_key=key,
            )
        except ChannelError:
            log.exception("LINE delivery to %s failed", inbound.identity)
        finally:
            if result != "queued":  # the courier counted what it queued
                metrics.count_sends("line", "reply", result, len(replies))

    async def _profile(self, user_id: str) -> tuple[str | None, str | None]:
        try:
            profile = await self.api.get_profile(user_id, _request_timeout=PROFILE_TIMEOUT)
        except (ApiException, aiohttp.ClientError, TimeoutError) as error:
            log.info("no LINE profile for %s: %r", user_id, error)
            return None, None
        return profile.display_name, profile.language

    async def _hint_unsupported(self, event: Any) -> None:
        """Stickers, photos and the like: a free, one-line hint in the sender's language, never
        a paid push."""
        user_id = user_of(event)
        if not isinstance(event, MessageEvent) or user_id is None or is_standby(event):
            return
        token = event.reply_token
        if not token or event.delivery_context.is_redelivery or not self._fresh(event_time(event)):
            return
        text = t(await self._locale(user_id), "line.unsupported_message")
        try:
            await self.sender.reply(token, [{"type": "text", "text": text}])
        except ChannelError:
            log.info("could not send the unsupported-message hint", exc_info=True)

    # -- delivery --------------------------------------------------------------------------

    def _fresh(self, happened_at: datetime) -> bool:
        return self._clock.now() - happened_at <= REPLY_TOKEN_FRESHNESS

    async def deliver(
        self,
        user_id: str,
        replies: Sequence[Reply],
        reply_token: str | None,
        happened_at: datetime,
        retry_key: str | None = None,
    ) -> None:
        """Send replies: the free reply token for the first 5 messages while it is fresh, push
        for the rest, or for all when the token is absent, stale or refused (see :meth:`push`
        for ``retry_key``)."""
        await self.push(
            user_id, replies, retry_key, reply_token=reply_token, reply_token_at=happened_at
        )

    async def push(
        self,
        user_id: str,
        replies: Sequence[Reply],
        retry_key: str | None = None,
        *,
        reply_token: str | None = None,
        reply_token_at: datetime | None = None,
    ) -> None:
        """Push replies to a LINE user (counts against the monthly quota).

        ``retry_key`` (a UUID) makes a repeat of this call by the caller safe: each request
        derives its ``X-Line-Retry-Key`` from it. Raises a :class:`ChannelError`. A user who
        blocked the bot gets a 200 from LINE: blocks are only known from unfollow events.

        With ``reply_token`` (issued at ``reply_token_at``) the first 5 messages go out free
        with the token while it is fresh; a stale or refused token falls back to push. The
        token is single-use, and a push without ``retry_key`` has a key of its own: a failure
        after some messages went out carries the replies still to send as its ``rest``
        (:mod:`bot.core.resume`), whose pushes keep the keys of their place in the whole.
        """
        skip = sent_before(replies[0], SENT_META) if replies else 0
        groups = batches((await self.render(user_id, replies))[skip:])
        first, sent = skip // MAX_MESSAGES_PER_REQUEST, 0

        def fresh() -> bool:  # asked again before the token is tried again
            return reply_token_at is not None and self._fresh(reply_token_at)

        try:
            token = reply_token if groups and fresh() else None
            if token and await self.sender.reply(token, groups[0], fresh):
                sent = len(groups[0])
            for index in range(1 if sent else 0, len(groups)):
                key = batch_retry_key(retry_key, first + index)
                await self.sender.push(user_id, groups[index], key)
                sent += len(groups[index])
        except ChannelError as error:
            if sent:
                error.rest = [marked(replies[0], SENT_META, skip + sent), *replies[1:]]
            raise

    async def multicast(
        self, user_ids: Sequence[str], replies: Sequence[Reply], retry_key: str
    ) -> None:
        """Send the same ``replies`` to up to 500 users in one multicast per 5 messages.

        Each request's ``X-Line-Retry-Key`` is derived from ``retry_key``, so the caller
        repeating this call for the same recipients (after a crash) is answered 409, not sent
        twice. Counts one quota unit per recipient. Texts are rendered once, in the first
        recipient's language: callers group only identical payloads.
        """
        messages = await self.render(user_ids[0], replies, shared=True)
        for index, group in enumerate(batches(messages)):
            await self.sender.multicast(user_ids, group, batch_retry_key(retry_key, index))

    async def render(
        self, user_id: str, replies: Sequence[Reply], *, shared: bool = False
    ) -> list[LineMessage]:
        """LINE messages for ``replies`` to ``user_id``; media they carry is stored as that
        person's (erasing them deletes it) unless ``shared`` by many recipients."""

        async def locale() -> str:
            return await self._locale(user_id)

        owner = None if shared else f"{Channel.LINE.value}:{user_id}"

        async def publish(
            filename: str,
            mime_type: str,
            content: bytes,
            ttl: timedelta,
            *,
            until: datetime | None = None,
            coupon_id: int | None = None,
        ) -> str | None:
            expires = until or self._clock.now() + ttl
            return await self._publish(filename, mime_type, content, expires, owner, coupon_id)

        return await LineRenderer(publish, self.settings.shop_name).render(replies, locale)

    async def _locale(self, user_id: str) -> str:
        """The member's language (falling back to the platform hint, then the shop's); the
        one the bus just answered this user in, when these are the replies to their event."""
        if (known := answered_in.get()) is not None and known[:2] == ("line", user_id):
            return known[2]
        async with self._uow() as u:
            identity = await u.identities.get(Channel.LINE.value, user_id)
            member = (
                await u.members.get(identity.member_id) if identity and identity.member_id else None
            )
        if member is not None and member.locale:
            return str(member.locale)
        if identity is None:
            return self.settings.locale
        chosen = identity.chosen_locale  # picked with /language, member or not
        return chosen or supported_locale(identity.language_code) or self.settings.locale

    async def _publish(
        self,
        filename: str,
        mime_type: str,
        content: bytes,
        expires: datetime,
        owner: str | None,
        coupon_id: int | None,
    ) -> str | None:
        """Store media in its own short transaction and return its public URL (None: no URL)."""
        if not self.settings.public_url:
            return None
        async with self._uow() as u:
            token = await u.media.put(
                filename, mime_type, content, expires, owner=owner, coupon_id=coupon_id
            )
            await u.commit()
        return f"{self.settings.public_url}/media/{token}/{filename}"

    # -- setup and quota -------------------------------------------------------------------

    async def setup(self) -> list[str]:
        """Install the customer rich menu (:func:`~bot.channels.line.richmenu.install`)."""
        return await install(self.api, self.blob_api)

    async def quota(self) -> tuple[int | None, int]:
        """(monthly message limit or None when unlimited, messages used this month)."""
        try:
            limit = await self.api.get_message_quota()
            used = await self.api.get_message_quota_consumption()
        except ApiException as error:
            raise channel_error(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientChannelError(f"LINE quota failed: {error!r}") from error
        value = None if str(limit.type.value) == "none" else int(limit.value or 0)
        metrics.set_line_quota(value, int(used.total_usage))
        return value, int(used.total_usage)
