"""The console's settings page: the shop's name and LINE price, the branches, the contact
policy, the automations' switches and numbers, the tiers' display names. Owners change them,
like the chat's ``/settings``; a manager reads the same values with nothing to press.

Every change calls the setter the chat's ``/settings`` calls (:mod:`shop.profile`,
:mod:`shop.branches`, :mod:`shop.settings_changes`, :mod:`shop.automation_settings`): the same
parsing, the same refusal texts (in the viewer's language; the page is shown again with the
message and nothing changed), the same ``settings.changed``/``branch.*`` audit with the staff
member as actor. A manager's POST is refused (403, "only the owner can change these settings")
whatever the form says; a cashier has no console at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import Final

from aiohttp import web

from bot.admin.acting import ConsoleAct
from bot.admin.answers import done, done_word, forbidden, form_text, is_owner, not_found, refused
from bot.admin.auto_preview import automation_previews
from bot.admin.inbox import CHANNEL
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.render import page
from bot.admin.settings_values import settings_view
from bot.core.errors import DomainError
from bot.i18n import t
from shop import branches, profile
from shop.automation_settings import BY_NAME, set_gift, set_number, set_text, switch_to
from shop.campaigns.offers import KINDS
from shop.campaigns.templates import PLACEHOLDERS
from shop.loyalty_settings import FIELDS as RULE_FIELDS
from shop.loyalty_settings import set_rule
from shop.settings_changes import (
    LABEL_LOCALES,
    POLICY_FIELDS,
    ChangedBy,
    set_contact_policy,
    set_tier_label,
)
from shop.settings_values import CAP_GROUPS
from storage.uow import UnitOfWork

LOCATION: Final = "/admin/settings"
#: who reads the settings page (an owner's has forms, a manager's only the values)
READERS: Final = frozenset({"owner", "manager"})
Change = Callable[[UnitOfWork, ChangedBy, Mapping[str, object], web.Request], Awaitable[bool]]


async def render(
    request: web.Request, *, status: int = 200, error: str | None = None
) -> web.Response:
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    async with app.uow() as uow:
        view = await settings_view(uow)
        previews = await automation_previews(ConsoleAct(uow, app, viewer), viewer.branch_id)
    return page(
        request,
        viewer,
        viewer.locale,
        "settings.html",
        status=status,
        title_key="admin_settings.title",
        view=view,
        readonly=not is_owner(viewer),
        done=done_word(request),
        error=error,
        zone=str(app.settings.tz),
        offer_kinds=KINDS,
        placeholders=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
        auto_previews=previews,
    )


async def show(request: web.Request) -> web.Response:
    if request[VIEWER].role not in READERS:
        return forbidden(request)
    return await render(request)


def owner_only(request: web.Request) -> web.Response:
    """A change asked by anyone but the owner: refused, saying who may make it."""
    return refused(request, 403, "prefs.read_only")


def change(apply: Change) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A settings form's handler: owner only; ``apply`` parses and saves in one unit of work
    (False: the thing it names does not exist); a refused value shows the chat's message."""

    @wraps(apply)
    async def handler(request: web.Request) -> web.Response:
        app, viewer = request.app[ADMIN_APP], request[VIEWER]
        if not is_owner(viewer):
            return owner_only(request)
        form = await request.post()
        by = ChangedBy(viewer.actor, CHANNEL, app.clock.now())
        try:
            async with app.uow() as uow:
                if not await apply(uow, by, form, request):
                    return not_found(request)
                await uow.commit()
        except DomainError as refused:
            message = t(viewer.locale, refused.key, **refused.params)
            return await render(request, status=400, error=message)
        return done(LOCATION, "saved")

    return handler


@change
async def shop_name(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], _: web.Request
) -> bool:
    name_th, name_en = form_text(form, "name_th", 200), form_text(form, "name_en", 200)
    await profile.set_shop_name(uow, name_th, name_en or None, by.actor, by.now, by.channel)
    return True


@change
async def line_price(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], _: web.Request
) -> bool:
    price = profile.parse_price(form_text(form, "price", 40))
    await profile.set_line_price(uow, price, by.actor, by.now, by.channel)
    return True


@change
async def policy(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], _: web.Request
) -> bool:
    field, group = form_text(form, "field", 10), form_text(form, "group", 20)
    if field not in POLICY_FIELDS or (field == "cap" and group not in CAP_GROUPS):
        return False
    await set_contact_policy(uow, by, field, group, form_text(form, "value", 40))
    return True


@change
async def tier_label(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], _: web.Request
) -> bool:
    locale = form_text(form, "locale", 5)
    if locale not in LABEL_LOCALES:
        return False
    tier, text = form_text(form, "tier", 50), form_text(form, "value", 200)
    return await set_tier_label(uow, by, tier, locale, text)


@change
async def automation_switch(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], request: web.Request
) -> bool:
    automation = BY_NAME.get(request.match_info["name"])
    if automation is None:
        return False
    await switch_to(uow, by, automation, switched_to(form))
    return True


def switched_to(form: Mapping[str, object]) -> bool:
    """The state a switch's form sets (its hidden ``on``: ``1`` on, else off), never the
    opposite of what it finds: a stale tab or a second click does not undo a change. A form
    without it (a page rendered before switches named their state) is read as off: a stale
    page never turns anything on."""
    return form_text(form, "on", 1) == "1"


@change
async def automation_number(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], request: web.Request
) -> bool:
    automation = BY_NAME.get(request.match_info["name"])
    field = form_text(form, "field", 30)
    if automation is None or field not in automation.fields:
        return False
    await set_number(uow, by, automation, field, form_text(form, "value", 40))
    return True


@change
async def automation_text(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], request: web.Request
) -> bool:
    name, locale = request.match_info["name"], form_text(form, "locale", 5)
    text = form_text(form, "value", 4000)
    # an emptied box asks for the built-in wording, as "-" does in the chat
    return await set_text(uow, by, name, locale, text if text.strip() else "-")


@change
async def automation_gift(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], request: web.Request
) -> bool:
    name, kind = request.match_info["name"], form_text(form, "kind", 30)
    return await set_gift(uow, by, name, kind, form_text(form, "value", 100))


@change
async def loyalty_rule(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], _: web.Request
) -> bool:
    field = form_text(form, "field", 30)
    if field not in RULE_FIELDS:
        return False
    await set_rule(uow, by, field, form_text(form, "value", 1000))
    return True


@change
async def branch_add(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], _: web.Request
) -> bool:
    code, name_th = form_text(form, "code", 40), form_text(form, "name_th", 200)
    name_en = form_text(form, "name_en", 200) or None
    await branches.add_branch(uow, code, name_th, name_en, by.actor, by.now, by.channel)
    return True


@change
async def branch_rename(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], request: web.Request
) -> bool:
    code = request.match_info["code"]
    name_th, name_en = form_text(form, "name_th", 200), form_text(form, "name_en", 200) or None
    await branches.rename_branch(uow, code, name_th, name_en, by.actor, by.now, by.channel)
    return True


@change
async def branch_open(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], request: web.Request
) -> bool:
    is_open = form_text(form, "open", 1) == "1"
    await branches.set_open(uow, request.match_info["code"], is_open, by.actor, by.now, by.channel)
    return True
