"""The aiohttp application of ``chatcrm serve``: webhooks, health, metrics, media and the
web console (``bot.admin``, under ``/admin/``)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import metrics as app_metrics
from bot.admin import PREFIX as ADMIN_PREFIX
from bot.admin import build_admin, headers_middleware
from bot.bootstrap import App
from bot.channels.webhook import WebhookChannel
from bot.core.messages import Channel
from jobs.scheduler import JOBS
from jobs.status import read_status, status_dict
from storage.db import ping
from storage.disk_full import disk_full_problem
from storage.sqlite_file import shop_file_problem

log = logging.getLogger(__name__)

APP_KEY = web.AppKey("chatcrm", App)
#: a health check that hangs is as bad as a failing one (the balancer's own timeout is longer)
HEALTH_TIMEOUT = 5.0
#: what the public learns of a database failure (the details are logged)
UNAVAILABLE: Final = "unavailable"

Detail = dict[str, object]


class OneCheck:
    """The database check of ``/healthz``, answered within its bound even when the check
    itself cannot be stopped, and never more than one running at a time.

    Cancelling a statement does not end it at once: SQLite's driver runs it on a thread that
    ``interrupt()`` does not wake while it waits for a lock (the busy timeout, 30 s), and the
    connection cannot go back to the pool before it returns; a timeout around the check only
    ended after that. Here the check runs as a task of its own and the caller stops waiting at
    the bound; the task ends when the database lets it, and the checks that come meanwhile
    wait for that same task instead of taking another connection each."""

    def __init__(self) -> None:
        self._running: asyncio.Future[Detail] | None = None

    async def within(self, check: Callable[[], Awaitable[Detail]], seconds: float) -> Detail:
        """What the running check (else a new ``check()``) gives; TimeoutError after ``seconds``."""
        running = self._running
        if running is None or running.done():
            running = self._running = asyncio.ensure_future(check())
            # its failure goes to the callers that wait (and are logged there); one that ends
            # after every caller gave up was reported as no answer
            running.add_done_callback(lambda done: done.cancelled() or done.exception())
        finished, _ = await asyncio.wait({running}, timeout=seconds)
        if not finished:
            raise TimeoutError
        return running.result()


#: one running check for the public answer, one for the status token's
HEALTH_KEY = web.AppKey("chatcrm_health", dict[bool, OneCheck])


def _status_token(request: web.Request, expected: str | None) -> bool | None:
    """None: no token sent; True: the configured status token; False: any other."""
    sent = request.headers.get("Authorization")
    if sent is None:
        return None
    if expected is None or not sent.startswith("Bearer "):
        return False
    return hmac.compare_digest(sent.removeprefix("Bearer ").encode(), expected.encode())


async def healthz(request: web.Request) -> web.Response:
    """200 ``{"status": "ok"}`` when the database answers ``SELECT 1``, on SQLite its file can
    keep what is written (:mod:`storage.sqlite_file`), and no write failed for a full disk in
    the last minute (:mod:`storage.disk_full`); else 503 with a generic reason (load balancers
    take the process out of rotation). The database's own error text goes to the log only: it
    can name hosts, users and files, and the endpoint is public (the status token's answer adds
    the file's or the disk's problem as ``reason``).

    With ``Authorization: Bearer <CHATCRM_STATUS_TOKEN>`` the answer adds what ``chatcrm
    status`` shows (channels, outbox depth, leader, job runs): operational detail, so the
    public never sees it; a wrong token is 401."""
    app = request.app[APP_KEY]
    authorised = _status_token(request, app.settings.status_token)
    if authorised is False:
        return web.json_response({"status": "unauthorized"}, status=401)
    detailed = authorised is True
    if (problem := shop_file_problem(app.engine) or disk_full_problem(app.engine)) is not None:
        # SELECT 1 would still answer: from the file it holds open, or the full disk's reads
        log.warning("/healthz: %s", problem)
        return web.json_response(
            {
                "status": "error",
                "database": UNAVAILABLE,
                **({"reason": problem} if detailed else {}),
            },
            status=503,
        )

    async def check() -> Detail:
        await ping(app.engine)
        return status_dict(await read_status(app, JOBS)) if detailed else {}

    try:
        detail = await request.app[HEALTH_KEY][detailed].within(check, HEALTH_TIMEOUT)
    except TimeoutError:
        log.warning("/healthz: the database gave no answer within %g s", HEALTH_TIMEOUT)
        return web.json_response({"status": "error", "database": UNAVAILABLE}, status=503)
    except Exception:  # any database failure makes the process unhealthy
        log.warning("/healthz: the database does not answer", exc_info=True)
        return web.json_response({"status": "error", "database": UNAVAILABLE}, status=503)
    return web.json_response({"status": "ok", **detail})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text of :mod:`bot.metrics`; the outbox depth is read from the database now
    (a database that does not answer leaves the last value and is logged, not a 500)."""
    app = request.app[APP_KEY]
    try:
        async with app.uow.reading() as uow:  # beside the writer: a scrape waits for no lock
            for channel in Channel:
                count = await uow.outbox.pending_count(channel.value)
                app_metrics.set_outbox_pending(channel.value, count)
    except Exception:  # /metrics must answer while the database is down: /healthz says why
        log.warning("outbox depth not read for /metrics", exc_info=True)
    body = generate_latest(app_metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def media(request: web.Request) -> web.Response:
    """Images and files for channels that take them by URL (LINE): unguessable, short-lived."""
    app = request.app[APP_KEY]
    token = request.match_info["token"]
    async with app.uow() as uow:
        item = await uow.media.get(token, app.clock.now())
    if item is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=item.content,
        content_type=item.mime_type,
        headers={
            "Content-Disposition": f'inline; filename="{item.filename}"',
            "Cache-Control": "private, max-age=3600",
        },
    )


def build_web_app(app: App, channels: Sequence[WebhookChannel]) -> web.Application:
    # the console's headers also go on its 404s, which the outer app answers
    web_app = web.Application(client_max_size=1024**2, middlewares=[headers_middleware])
    web_app[APP_KEY] = app
    web_app[HEALTH_KEY] = {False: OneCheck(), True: OneCheck()}
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    web_app.router.add_get("/media/{token}/{filename}", media)
    web_app.add_subapp(ADMIN_PREFIX, build_admin(app))  # the owner's web console
    for channel in channels:
        channel.register(web_app)

    async def _close_channels(_: web.Application) -> None:
        for channel in channels:
            await channel.close()

    web_app.on_cleanup.append(_close_channels)
    return web_app
