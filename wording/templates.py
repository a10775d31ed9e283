"""A campaign message for one member: the owner's template with its placeholders filled in.

The template was checked when it was saved (``shop.campaigns.templates``); here each
placeholder becomes the member's or the offer's value, or a default word when there is none.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.i18n import t
from shop.campaigns.templates import Placeholder, template_tokens


def default_value(name: str, locale: str) -> str:
    """What a placeholder shows when the member or offer has no value for it."""
    return t(locale, f"campaign.default_{name}")


def render_template(text: str, values: Mapping[str, str | None], locale: str = "th") -> str:
    """The message for one member: each placeholder replaced by ``values[name]`` as plain text
    (a value is never parsed again), or by its default when missing or empty."""
    out: list[str] = []
    for token in template_tokens(text):
        if isinstance(token, Placeholder):
            value = values.get(token.name)
            out.append(value if value else default_value(token.name, locale))
        else:
            out.append(token)
    return "".join(out)
