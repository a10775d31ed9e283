"""The reward catalog on the console's settings page (owners only): add a reward with the
chat wizard's answers on one form, change a reward's cost or stock, switch it on or off — the
same parsers and savers as the chat (:mod:`shop.settings_input`, :mod:`shop.reward_settings`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from bot.admin.answers import form_text
from bot.admin.keys import ADMIN_APP
from bot.admin.settings import change, switched_to
from bot.core.errors import InvalidInput
from shop.reward_settings import (
    DEFAULT_VALID_DAYS,
    MAX_VALID_DAYS,
    NUMBER_COLUMNS,
    create_reward,
    parse_number,
    parse_until,
    set_active,
    set_number,
)
from shop.settings_changes import ChangedBy
from shop.settings_input import parse_day, parse_int, parse_name
from storage.uow import UnitOfWork


async def _branch_codes(uow: UnitOfWork, form: Mapping[str, object]) -> list[str]:
    """The ticked branches (none: every branch); each must be an open branch."""
    ticked = form.getall("branch", []) if isinstance(form, MultiMapping) else []
    open_codes = {branch.code for branch in await uow.branches.active()}
    codes = [code for code in ticked if isinstance(code, str)]
    for code in codes:
        if code not in open_codes:
            raise InvalidInput("error.unknown_branch", code=code[:32])
    return codes


async def _answers(uow: UnitOfWork, form: Mapping[str, object]) -> dict[str, Any]:
    """The add form as the chat wizard's answers, each checked by the wizard's parser."""
    starts_text, ends_text = form_text(form, "starts", 20).strip(), form_text(form, "ends", 20)
    starts = parse_day(starts_text).isoformat() if starts_text else None
    stock, days = form_text(form, "stock", 20).strip(), form_text(form, "days", 20).strip()
    return {
        "name_th": parse_name(form_text(form, "name_th", 200)),
        "name_en": parse_name(form_text(form, "name_en", 200)),
        "points_cost": parse_number("cost", form_text(form, "cost", 20)),
        "stock": parse_number("stock", stock) if stock else None,
        "starts_at": starts,
        "ends_at": parse_until(ends_text, starts) if ends_text.strip() else None,
        "branch_codes": await _branch_codes(uow, form),
        "valid_days": parse_int(days, 1, MAX_VALID_DAYS) if days else DEFAULT_VALID_DAYS,
    }


@change
async def add(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], request: web.Request
) -> bool:
    answers = await _answers(uow, form)
    await create_reward(uow, by, request.app[ADMIN_APP].settings.tz, answers)
    return True


@change
async def number(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], request: web.Request
) -> bool:
    field, text = form_text(form, "field", 10), form_text(form, "value", 20).strip()
    if field not in NUMBER_COLUMNS:
        return False
    value = None if field == "stock" and not text else parse_number(field, text)
    return await set_number(uow, by, int(request.match_info["reward_id"][:12]), field, value)


@change
async def switch(
    uow: UnitOfWork, by: ChangedBy, form: Mapping[str, object], request: web.Request
) -> bool:
    return await set_active(uow, by, int(request.match_info["reward_id"][:12]), switched_to(form))
