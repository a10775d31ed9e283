"""What ``serve`` and ``polling`` check before they open the database, so that a start they
refuse says in one line which setting to fix and leaves no database behind.

The channel modules are imported only when their channel is configured (``chatcrm serve``
without Telegram never loads aiogram).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket
from urllib.parse import urlsplit

from bot.config import Settings
from bot.core.errors import CommandError


class StartupError(CommandError):
    """The settings cannot run the requested mode; the message says what to set."""


def is_loopback(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1: a URL only this machine can reach."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_public_url(public_url: str | None) -> None:
    """An ``https://`` public URL, or ``http://`` on a loopback address for development."""
    if not public_url:
        return
    parts = urlsplit(public_url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return
    raise StartupError(
        f"CHATCRM_PUBLIC_URL must be an https:// address (got {public_url!r}): LINE fetches "
        "images and files only over https, and Telegram refuses a webhook that is not https. "
        "Plain http:// is accepted only for a loopback address (localhost, 127.0.0.1, ::1) "
        "while developing"
    )


def check_telegram_token(settings: Settings) -> None:
    """A set ``TELEGRAM_BOT_TOKEN`` has the shape of a bot token (``123456:ABC…``)."""
    if not settings.telegram_bot_token:
        return
    from bot.channels.telegram import TelegramConfigError, check_token

    try:
        check_token(settings.telegram_bot_token)
    except TelegramConfigError as error:
        raise StartupError(str(error)) from None


def check_line_pair(settings: Settings) -> None:
    """LINE needs its secret and its token: one without the other is a mistake, not a wish to
    serve without LINE (LINE would otherwise be silently off)."""
    pair = {
        "LINE_CHANNEL_SECRET": settings.line_channel_secret,
        "LINE_CHANNEL_ACCESS_TOKEN": settings.line_channel_access_token,
    }
    missing = [name for name, value in pair.items() if not value]
    if len(missing) == 1:
        (given,) = set(pair) - set(missing)
        raise StartupError(
            f"{missing[0]} is not set: LINE needs both LINE_CHANNEL_SECRET and "
            f"LINE_CHANNEL_ACCESS_TOKEN (set it, or unset {given} to serve without LINE)"
        )


def check_serve_settings(settings: Settings) -> None:
    check_public_url(settings.public_url)
    if settings.telegram_enabled and not settings.telegram_webhook_secret:
        raise StartupError(
            "TELEGRAM_WEBHOOK_SECRET is not set: serve will not accept Telegram webhooks "
            "without a secret (set it, or use `chatcrm polling` for local development)"
        )
    check_telegram_token(settings)
    check_line_pair(settings)


def cannot_listen(host: str, port: int, error: OSError) -> StartupError:
    """The one line for a failure to listen on ``host:port``, naming the setting to change."""
    # asyncio's own words repeat the address; the system's name for the error is enough
    code = None if isinstance(error, socket.gaierror) else error.errno
    reason = os.strerror(code) if code else error.strerror or str(error)
    if isinstance(error, socket.gaierror):
        return StartupError(
            f"CHATCRM_HOST {host!r} is not an address or a host name this machine resolves "
            f"({reason}): use one of its addresses, e.g. 127.0.0.1, 0.0.0.0 or ::"
        )
    if error.errno == errno.EADDRINUSE:
        return StartupError(
            f"CHATCRM_PORT {port} is already in use on {host} (another program, or another "
            "chatcrm serve, listens there): stop it or choose another port"
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return StartupError(
            f"CHATCRM_HOST {host!r} is not an address of this machine ({reason}): use one of "
            "its addresses, e.g. 127.0.0.1, 0.0.0.0 or ::"
        )
    return StartupError(f"cannot listen on {host}:{port} (CHATCRM_HOST, CHATCRM_PORT): {reason}")


async def check_listening(host: str, port: int) -> None:
    """Listen on ``host:port`` for a moment, as the web server will, and let go: a port in use
    or an address this machine lacks is refused before the database is touched. (Another
    program may still take the port in between; the server's own start says so the same way.)
    """
    loop = asyncio.get_running_loop()
    try:
        probe = await loop.create_server(asyncio.Protocol, host, port)
    except OSError as error:
        raise cannot_listen(host, port, error) from None
    probe.close()
    await probe.wait_closed()
