"""The shop's name and the price of one LINE message, as the owner sets them in the chat.

The name (Thai, and English for English readers) goes into welcome messages, campaign
texts (``{shop}``) and replies from the inbox; until the owner names the shop the
``CHATCRM_SHOP_NAME`` setting stands in. The LINE price is what one pushed LINE message costs
the shop (LINE bills messages past the plan's free quota); a campaign takes the price current
when it is created, so its cost in ``/stats`` does not move when the price changes later.
Every change is audited as ``settings.changed`` with before and after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Final

from bot.core.errors import InvalidInput
from shop.inputs import thai_digits_to_ascii
from storage.uow import UnitOfWork

SHOP_KEY: Final = "shop"
CAMPAIGN_KEY: Final = "campaign"
PRICE_FIELD: Final = "line_message_price"
NAME_MAX: Final = 60
#: a LINE message costs well under a baht; 100 baht a message is surely a typo
PRICE_MAX: Final = Decimal(100)
_PRICE: Final = re.compile(r"[0-9]{1,3}(\.[0-9]{1,4})?")


@dataclass(frozen=True, slots=True)
class ShopName:
    th: str | None
    en: str | None

    def shown(self, locale: str, default: str) -> str:
        """The name for a reader of ``locale``: their language's, else the other, else
        ``default``."""
        first, second = (self.en, self.th) if locale == "en" else (self.th, self.en)
        return first or second or default


@dataclass(frozen=True, slots=True)
class ShopNames:
    """The shop's name for each reader: the owner's names, else ``default``
    (``CHATCRM_SHOP_NAME``). A campaign's ``{shop}`` reads it in each recipient's language."""

    name: ShopName = field(default_factory=lambda: ShopName(None, None))
    default: str = ""

    def shown(self, locale: str) -> str:
        return self.name.shown(locale, self.default)


def parse_shop_name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX:
        raise InvalidInput("shopset.bad_name", max=NAME_MAX)
    return name


def parse_price(text: str) -> Decimal:
    """Baht per message, 0 to 100 with up to four decimals (``0.04``); Thai digits accepted."""
    plain = thai_digits_to_ascii(text).strip().replace(",", ".")
    try:
        value = Decimal(plain) if _PRICE.fullmatch(plain) else None
    except InvalidOperation:
        value = None
    if value is None or value > PRICE_MAX:
        raise InvalidInput("shopset.bad_price", high=f"{PRICE_MAX}")
    return value


async def shop_name(uow: UnitOfWork) -> ShopName:
    stored = await uow.settings.get(SHOP_KEY) or {}
    return ShopName(stored.get("name_th") or None, stored.get("name_en") or None)


async def shop_names(uow: UnitOfWork, default: str) -> ShopNames:
    return ShopNames(await shop_name(uow), default)


async def shown_shop_name(uow: UnitOfWork, locale: str, default: str) -> str:
    return (await shop_name(uow)).shown(locale, default)


async def set_shop_name(
    uow: UnitOfWork,
    name_th: str,
    name_en: str | None,
    actor: str,
    now: datetime,
    channel: str | None = None,
) -> ShopName:
    """Name the shop (an empty English name clears it: English readers then see the Thai)."""
    th = parse_shop_name(name_th)
    en = parse_shop_name(name_en) if name_en and name_en.strip() else None
    stored = await uow.settings.get(SHOP_KEY) or {}
    before = {"name_th": stored.get("name_th"), "name_en": stored.get("name_en")}
    stored.update(name_th=th, name_en=en)
    await uow.settings.put(SHOP_KEY, stored, now)
    await uow.audit.record(
        actor,
        "settings.changed",
        now,
        channel=channel,
        key=SHOP_KEY,
        field="name",
        before=before,
        after={"name_th": th, "name_en": en},
    )
    return ShopName(th, en)


async def line_price(uow: UnitOfWork) -> Decimal:
    stored = await uow.settings.get(CAMPAIGN_KEY) or {}
    return Decimal(str(stored.get(PRICE_FIELD, "0")))


async def set_line_price(
    uow: UnitOfWork, price: Decimal, actor: str, now: datetime, channel: str | None = None
) -> None:
    stored = await uow.settings.get(CAMPAIGN_KEY) or {}
    before = stored.get(PRICE_FIELD)
    stored[PRICE_FIELD] = str(price)
    await uow.settings.put(CAMPAIGN_KEY, stored, now)
    await uow.audit.record(
        actor,
        "settings.changed",
        now,
        channel=channel,
        key=CAMPAIGN_KEY,
        field=PRICE_FIELD,
        before=before,
        after=str(price),
    )
