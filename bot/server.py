"""Long-running modes: the webhook server, Telegram long polling, the console chat, setup.

Channel modules are imported inside the functions that need them, so that ``chatcrm chat``,
``demo`` and ``db upgrade`` keep working on a machine where a channel cannot be loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, TextIO, TypeVar

from aiohttp import web

from bot.admin.access_log import RedactingAccessLogger
from bot.bootstrap import App, bootstrap
from bot.channels.webhook import WebhookChannel
from bot.config import Settings
from bot.core.messages import Channel
from bot.core.ports import Outbound
from bot.core.quota import BoundedQuota
from bot.serve_checks import (
    StartupError,
    cannot_listen,
    check_listening,
    check_public_url,
    check_serve_settings,
    check_telegram_token,
)
from bot.web import build_web_app
from jobs import scheduler
from jobs.credentials import CredentialWatch
from jobs.dispatcher import OutboxDispatcher
from jobs.leader import lead_when_elected
from jobs.ratelimit import ArrivalWindow, PlatformLimits, SendLimiter, operator_budgets
from jobs.replies import ReplyCourier
from jobs.shared_pace import SharedPace

log = logging.getLogger(__name__)


def build_channels(app: App) -> list[WebhookChannel]:
    """The webhook channels the settings turn on (Telegram: token; LINE: secret + token)."""
    channels: list[WebhookChannel] = []
    try:
        if app.settings.telegram_enabled:
            from bot.channels.telegram import TelegramChannel

            channels.append(TelegramChannel(app.settings, app.bus, app.uow, app.clock))
        if app.settings.line_enabled:
            from bot.channels.line import LineChannel

            line = LineChannel(app.settings, app.bus, app.uow, app.clock)
            # campaign previews show LINE's monthly quota, asked inside their transaction
            app.bus.quota_reader = BoundedQuota(line.quota)
            channels.append(line)
    except ImportError as error:
        raise StartupError(f"a channel could not be loaded: {error}") from error
    return channels


async def check_setup(channels: Sequence[WebhookChannel]) -> None:
    """Each channel's word on its platform's setup, logged before serving (Telegram: is the
    bot's webhook set to this server?); bounded by each channel, never fatal."""
    checks = [check() for c in channels if (check := getattr(c, "check_setup", None))]
    await asyncio.gather(*checks)


async def _until_signalled(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, other threads
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


#: move everything allocated by start-up (modules, routers, pydantic models) out of the cyclic
#: garbage collector's reach (see :func:`freeze_startup_objects`)
FREEZE_AFTER_STARTUP = True


def freeze_startup_objects() -> None:
    """``gc.collect()`` then ``gc.freeze()``: the long-lived start-up objects are never scanned
    again, so the collector's full passes stop walking them while webhooks wait
    (``bench/webhook_ingest.py`` measures the p99 latency with and without)."""
    gc.collect()
    gc.freeze()


#: how long a stopping server lets the dispatcher finish the message it is sending
DISPATCHER_STOP_SECONDS = 10.0


def send_budget(app: App, channels: Mapping[Channel, Outbound]) -> SendLimiter:
    """The one limiter of this process, shared by the outbox dispatcher and the direct
    replies of ``channels`` (``jobs.replies``), so both draw from the same budgets. On
    PostgreSQL, where several processes may serve, the budgets are claimed in the database
    (``jobs.shared_pace``), so they are one for all of them. The adapters' arrival windows
    tell it which sends a stall on the way made late, each costing this process a slot."""
    arrivals = {
        channel: window
        for channel, adapter in channels.items()
        if isinstance(window := getattr(adapter, "arrivals", None), ArrivalWindow)
    }
    limiter: SendLimiter = PlatformLimits.from_settings(app.settings, arrivals)
    if app.engine.dialect.name != "sqlite":
        limiter = SharedPace(operator_budgets(app.settings), app.uow, arrivals=arrivals)
    for channel in channels.values():
        courier = getattr(channel, "replies", None)
        if isinstance(courier, ReplyCourier):
            courier.limiter = limiter
    return limiter


def shared_watch(channels: Mapping[Channel, Outbound]) -> CredentialWatch:
    """One watch of refused credentials for the dispatcher and the direct replies of
    ``channels`` (``jobs.credentials``): a revoked token is named once, whoever meets it."""
    watch = CredentialWatch()
    for channel in channels.values():
        courier = getattr(channel, "replies", None)
        if isinstance(courier, ReplyCourier):
            courier.credentials = watch
    return watch


@contextlib.asynccontextmanager
async def _dispatching(
    app: App,
    channels: Mapping[Channel, Outbound],
    limiter: SendLimiter,
    *,
    report_unrouted: bool = True,
) -> AsyncIterator[None]:
    """Run the outbox dispatcher on ``channels`` while the block runs; the bus wakes it after
    every commit that queued messages, so messages to others go out at once."""
    dispatcher = OutboxDispatcher(
        app.uow,
        app.clock,
        channels,
        limiter=limiter,
        # short enough that rows a killed leader had claimed are sent by its successor soon
        lease=timedelta(seconds=app.settings.outbox_lease_seconds),
        tz=app.settings.tz,
        locale=app.settings.locale,
        report_unrouted=report_unrouted,
    )
    dispatcher.credentials = shared_watch(channels)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop), name="outbox-dispatcher")
    # a console session runs a dispatcher of its own beside the leader's: a commit wakes both
    woken_before = app.bus.on_commit

    def kick() -> None:
        dispatcher.kick()
        if woken_before is not None:
            woken_before()

    app.bus.on_commit = kick
    try:
        yield
    finally:
        app.bus.on_commit = woken_before
        stop.set()
        try:
            await asyncio.wait_for(task, DISPATCHER_STOP_SECONDS)
        except TimeoutError:  # wait_for cancelled it: the row in flight is re-sent after restart
            log.warning("outbox dispatcher did not stop in time; cancelled")


@contextlib.asynccontextmanager
async def _leading(app: App, channels: Mapping[Channel, Outbound]) -> AsyncIterator[None]:
    """While the block runs, run the scheduler and the outbox dispatcher whenever this process
    is the leader (always on SQLite; one of the processes on PostgreSQL, see ``jobs.leader``).
    Webhooks and the console are served by every process regardless, their replies paced by
    the same limiter as the dispatcher."""
    limiter = send_budget(app, channels)

    @contextlib.asynccontextmanager
    async def duties(leader_since: datetime) -> AsyncIterator[None]:
        sending = _dispatching(app, channels, limiter) if channels else contextlib.nullcontext()
        async with scheduler.running(app, leader_since), sending:
            yield

    stop = asyncio.Event()
    task = asyncio.create_task(lead_when_elected(app, stop, duties), name="leader-election")
    try:
        yield
    finally:
        stop.set()
        await task


async def serve(
    settings: Settings,
    stop: asyncio.Event | None = None,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Check the settings and the address, migrate, then serve webhooks, /healthz, /metrics and
    media with the scheduler running, until SIGINT/SIGTERM (or ``stop`` is set); HTTP sessions
    and the engine are closed after. ``on_listening`` is called once the server listens."""
    check_serve_settings(settings)
    await check_listening(settings.host, settings.port)
    app = await bootstrap(settings)
    try:
        channels = build_channels(app)
        runner = web.AppRunner(build_web_app(app, channels), access_log_class=RedactingAccessLogger)
        await runner.setup()  # from here on, runner.cleanup() closes the channels
        try:
            await check_setup(channels)
            site = web.TCPSite(runner, settings.host, settings.port)
            try:
                await site.start()
            except OSError as error:  # taken since check_listening let it go
                raise cannot_listen(settings.host, settings.port, error) from None
            if on_listening is not None:
                on_listening()
            names = ", ".join(channel.channel.value for channel in channels) or "none"
            log.info("serving on http://%s:%s (channels: %s)", settings.host, settings.port, names)
            if FREEZE_AFTER_STARTUP:
                freeze_startup_objects()
            outbounds = {channel.channel: channel for channel in channels}
            async with _leading(app, outbounds):
                await _until_signalled(stop or asyncio.Event())
        finally:
            await runner.cleanup()
    finally:
        await app.close()


async def polling(settings: Settings, on_started: Callable[[], None] | None = None) -> None:
    """Telegram long polling with the scheduler, until SIGINT/SIGTERM (aiogram handles them);
    ``on_started`` is called once the settings were accepted and the database is ready."""
    if not settings.telegram_enabled:
        raise StartupError("TELEGRAM_BOT_TOKEN is not set: polling needs a Telegram bot token")
    check_telegram_token(settings)
    app = await bootstrap(settings)
    try:
        from bot.channels.telegram import TelegramChannel

        channel = TelegramChannel(settings, app.bus, app.uow, app.clock)
        if on_started is not None:
            on_started()
        try:
            async with _leading(app, {channel.channel: channel}):
                await channel.run_polling()
        finally:
            await channel.close()
    finally:
        await app.close()


class _SetUp(Protocol):
    """A channel that can be set up once from the command line, then closed."""

    async def close(self) -> None: ...


_Channel = TypeVar("_Channel", bound=_SetUp)


async def set_up_channel(
    settings: Settings,
    make: Callable[[App], _Channel],
    run: Callable[[_Channel, App], Awaitable[list[str]]],
    refused: tuple[type[Exception], ...] = (),
) -> list[str]:
    """Open the application, build the channel with ``make``, run its setup (``run``) and close
    both; returns what was done. An error of ``refused`` (the channel's word for settings it
    cannot use) becomes a :class:`StartupError`. The database is migrated first, as ``serve``
    does: the README sets a channel up before the first ``serve``, and Telegram's setup reads
    the staff's chats."""
    app = await bootstrap(settings)
    try:
        channel = make(app)
        try:
            return await run(channel, app)
        except refused as error:
            raise StartupError(str(error)) from error
        finally:
            await channel.close()
    finally:
        await app.close()


async def setup_telegram(settings: Settings) -> list[str]:
    """Register the webhook and the command menus; returns what was done, line by line."""
    if not settings.telegram_enabled:
        raise StartupError("TELEGRAM_BOT_TOKEN is not set")
    # the webhook registered here is the one serve would refuse: refuse it before Telegram does
    check_public_url(settings.public_url)
    from bot.channels.telegram import TelegramChannel, TelegramConfigError

    return await set_up_channel(
        settings,
        lambda app: TelegramChannel(settings, app.bus, app.uow, app.clock),
        lambda channel, app: channel.setup(app.bus.router),
        (TelegramConfigError,),
    )


async def setup_line(settings: Settings) -> list[str]:
    """Upload the customer rich menu and make it the default; returns what was done."""
    if not settings.line_enabled:
        raise StartupError("LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN must both be set")
    from bot.channels.line import LineChannel

    return await set_up_channel(
        settings,
        lambda app: LineChannel(settings, app.bus, app.uow, app.clock),
        lambda channel, _app: channel.setup(),
    )


#: what a console session may serve beside its terminal (the demo's simulated platforms)
Platforms = Callable[[App], contextlib.AbstractAsyncContextManager[Mapping[Channel, Outbound]]]


async def chat(
    settings: Settings,
    user_id: str,
    *,
    input: TextIO | None = None,
    output: TextIO | None = None,
    media_dir: Path = Path("chatcrm-media"),
    platforms: Platforms | None = None,
) -> None:
    """The console channel on the configured database, with the scheduler running.

    The terminal's own messages are dispatched by this process whether or not it leads (two
    console users on one PostgreSQL database each get theirs); the scheduler, and the
    ``platforms`` when given, run while it leads."""
    from bot.channels.console import ConsoleChannel

    app = await bootstrap(settings)
    try:
        console = ConsoleChannel(
            app.bus,
            app.clock,
            user_id,
            input=input,
            output=output,
            media_dir=media_dir,
            uow=app.uow,
            locale=settings.locale,
        )
        served = platforms(app) if platforms is not None else _no_platforms()
        async with (
            served as others,
            _dispatching(
                app,
                {console.channel: console},
                send_budget(app, {}),
                report_unrouted=False,
            ),
            _leading(app, others),
        ):
            await console.run()
    finally:
        await app.close()


@contextlib.asynccontextmanager
async def _no_platforms() -> AsyncIterator[Mapping[Channel, Outbound]]:
    yield {}
