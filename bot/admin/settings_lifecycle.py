"""The lifecycle thresholds on the console's settings page (owners change them): like the chat, a
typed threshold is not saved at once — the owner first sees how many members each group would
hold with it against today's counts, then saves (the value is parsed again on save, by the same
:func:`shop.settings_values.apply_lifecycle`, and checked against the others)."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from bot.admin.answers import form_text, is_owner, not_found
from bot.admin.keys import ADMIN_APP, VIEWER
from bot.admin.render import page
from bot.admin.settings import change, owner_only, render
from bot.admin.settings_values import typed
from bot.core.errors import InvalidInput
from bot.i18n import format_baht, t
from shop.lifecycle_settings import current_rules, impact, save_threshold
from shop.settings_changes import ChangedBy
from shop.settings_values import LIFECYCLE_FIELDS, apply_lifecycle, lifecycle_value
from storage.segments.lifecycle import LifecycleRules
from storage.uow import UnitOfWork


def shown(rules: LifecycleRules, field: str, locale: str) -> str:
    """A threshold as people read it: 45, ฿5,000, 50%."""
    value = getattr(rules, field)
    kind = LIFECYCLE_FIELDS[field][0]
    if kind == "baht":
        return format_baht(value, locale)
    if kind == "percent":
        return f"{typed(rules, field)}%"
    return f"{value:,}"


async def preview(request: web.Request) -> web.Response:
    """The counts with the typed threshold, and a Save button; nothing stored yet."""
    app, viewer = request.app[ADMIN_APP], request[VIEWER]
    if not is_owner(viewer):
        return owner_only(request)
    form = await request.post()
    field, text = form_text(form, "field", 30), form_text(form, "value", 40)
    if field not in LIFECYCLE_FIELDS:
        return not_found(request)
    try:
        async with app.uow() as uow:
            rules = await current_rules(uow)
            changed = apply_lifecycle(rules, field, text)
            counts = await impact(uow, app.clock.now(), app.settings.tz, rules, changed)
    except InvalidInput as refused:
        message = t(viewer.locale, refused.key, **refused.params)
        return await render(request, status=400, error=message)
    return page(
        request,
        viewer,
        viewer.locale,
        "settings_lifecycle.html",
        title_key="admin_settings.lifecycle",
        field=field,
        value=text,
        before=shown(rules, field, viewer.locale),
        after=shown(changed, field, viewer.locale),
        counts=counts,
    )


@change
async def save(uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], _: web.Request) -> bool:
    field = form_text(form, "field", 30)
    if field not in LIFECYCLE_FIELDS:
        return False
    changed = apply_lifecycle(await current_rules(uow), field, form_text(form, "value", 40))
    await save_threshold(uow, by, field, lifecycle_value(changed, field))
    return True
