"""Pages from the Jinja2 templates, in the viewer's language (texts: ``[admin]`` in bot/i18n).

Autoescaping is on for every template: a member's name is text, never markup.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import jinja2
from aiohttp import web

from bot.admin.keys import ADMIN_APP
from bot.core.graphemes import fit
from bot.i18n import format_baht, format_date, format_datetime, format_points, t
from shop.console import Viewer


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.admin", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    # a preview of what a person wrote, cut between graphemes with "…" (bot.core.graphemes)
    env.filters["fit"] = fit
    return env


def page(
    request: web.Request,
    viewer: Viewer | None,
    locale: str,
    template: str,
    *,
    status: int = 200,
    **values: Any,
) -> web.Response:
    """The rendered ``template`` (which extends ``base.html``) as an HTML answer."""
    tz = request.app[ADMIN_APP].settings.tz

    def tr(key: str, **params: Any) -> str:
        return t(locale, key, **params)

    def when(value: date | datetime | None) -> str:
        if value is None:
            return t(locale, "admin.none")
        if isinstance(value, datetime):
            return format_datetime(value, locale, tz)
        return format_date(value, locale)

    html = (
        environment()
        .get_template(template)
        .render(
            t=tr,
            locale=locale,
            viewer=viewer,
            baht=lambda amount: format_baht(Decimal(amount), locale),
            points=format_points,
            when=when,
            **values,
        )
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)
