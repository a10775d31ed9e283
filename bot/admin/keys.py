"""Keys the console's modules share (the app, the request's viewer and session)."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from bot.bootstrap import App
from shop.console import Viewer

PREFIX: Final = "/admin/"
ADMIN_APP: Final = web.AppKey("chatcrm_admin", App)
VIEWER: Final = web.RequestKey("viewer", Viewer)
SESSION_ID: Final = web.RequestKey("session_id", str)
#: the longest sign-in token read from a link or a form (a real one is much shorter)
MAX_TOKEN: Final = 100
