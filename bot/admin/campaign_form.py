"""A new campaign from the console: the chat wizard's steps on one form (segment, message with
placeholders, offer and its window, button, time, hold-out), each answer checked by the same
functions as the wizard's (``shop.campaigns.drafts``, ``shop.campaigns.offers``,
``shop.campaigns.templates``, the segment engine) and saved by the wizard's own
:func:`handlers.staff.campaigns.wizard.save_draft` as a draft; the browser goes on to its
preview, where the message is shown rendered for a real member, and sends from there.
A bad answer shows the chat's reason and saves nothing.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web
from multidict import MultiDictProxy

from bot.admin.acting import ConsoleAct
from bot.admin.answers import form_text
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.render import page
from bot.core.errors import DomainError
from bot.i18n import t
from handlers.staff.campaigns.wizard import save_draft
from shop.campaigns.drafts import (
    MAX_HOLDOUT,
    MAX_NAME,
    check_branches,
    check_label,
    check_title,
    parse_holdout,
    parse_when,
)
from shop.campaigns.launch import segment_env
from shop.campaigns.offers import (
    KINDS,
    Offer,
    OfferError,
    parse_cost,
    parse_dates,
    parse_value,
    parse_window,
)
from shop.campaigns.templates import validate_template
from storage.segments import BUILTIN_SEGMENTS, audience_size, resolve_segment

FIELDS: Final = (
    "name",
    "segment",
    "message",
    "offer",
    "value",
    "title",
    "dates",
    "window",
    "branches",
    "cost",
    "label",
    "when",
    "holdout",
)
_LIMIT: Final = 2000


def form_values(form: MultiDictProxy[Any]) -> dict[str, str]:
    """The typed answers; "-" skips an optional one, as in the chat."""
    typed = {key: form_text(form, key, _LIMIT).strip() for key in FIELDS}
    return {key: "" if value == "-" else value for key, value in typed.items()}


async def _render(
    request: web.Request, values: dict[str, str], error: str = "", status: int = 200
) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        saved = [segment.name for segment in await uow.segments.all()]
    return page(
        request,
        viewer,
        viewer.locale,
        "campaign_form.html",
        status=status,
        title_key="admin_campaigns.new_title",
        values=values,
        error=error,
        segments=[*saved, *BUILTIN_SEGMENTS],
        kinds=KINDS,
        max_holdout=MAX_HOLDOUT,
    )


async def new_form(request: web.Request) -> web.Response:
    blank = dict.fromkeys(FIELDS, "")
    return await _render(request, blank | {"holdout": "10", "offer": "none"})


async def form_offer(act: ConsoleAct, values: dict[str, str]) -> dict[str, Any] | None:
    """The offer as the wizard keeps it, each part checked as the wizard checks it; None for
    "no offer". A kind the form never lists is refused: saving it as no offer would send a
    promotion without the promotion."""
    kind = values["offer"]
    if kind in ("", "none"):
        return None
    if kind not in KINDS:
        raise OfferError("campaign.offer_kind_unknown", word=kind[:40])
    offer: dict[str, Any] = {"kind": kind, "value": parse_value(kind, values["value"])}
    if values["title"]:
        offer["title_th"] = offer["title_en"] = check_title(values["title"])
    if values["dates"]:
        today = act.now.astimezone(act.settings.tz).date()
        start, end = parse_dates(values["dates"], today)
        offer["valid_from"], offer["valid_until"] = start.isoformat(), end.isoformat()
    if values["window"]:
        weekdays, hours = parse_window(values["window"])
        offer["weekdays"], offer["hours"] = list(weekdays), list(hours) if hours else None
    if values["branches"]:
        offer["branches"] = await check_branches(act.uow, values["branches"])
    offer["cost"] = str(parse_cost(values["cost"])) if values["cost"] else "0"
    Offer.from_json(offer)  # the whole offer must load before it is kept
    return offer


async def _draft(act: ConsoleAct, values: dict[str, str]) -> dict[str, Any]:
    if not values["segment"] or not values["message"]:
        raise DomainError("admin_campaigns.missing")
    env = await segment_env(act.uow, act.now, act.settings.tz)
    rule, members = await resolve_segment(act.uow, values["segment"], env)
    await audience_size(act.uow, members)  # the rule runs: an error shows now, not at the send
    when = parse_when(values["when"], act.now, act.settings.tz) if values["when"] else None
    return {
        "name": values["name"][:MAX_NAME] or values["segment"][:MAX_NAME],
        "segment": values["segment"][:40],
        "rule": rule,
        "message": validate_template(values["message"]),
        "offer": await form_offer(act, values),
        "label": check_label(values["label"]) if values["label"] else None,
        "when": when.isoformat() if when else None,
    }


async def create(request: web.Request) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    values = form_values(await request.post())
    async with app.uow() as uow:
        act = ConsoleAct(uow, app, viewer)
        try:
            data = await _draft(act, values)
            campaign = await save_draft(act, data, parse_holdout(values["holdout"] or "0"))
        except DomainError as error:
            refused = error  # shown once this unit of work has let go of the database
        else:
            await uow.commit()
            raise web.HTTPSeeOther(f"/admin/campaigns/{campaign.id}/preview")
    message = t(viewer.locale, refused.key, **refused.params)
    return await _render(request, values, message, 400)
