"""Replies → LINE message objects (the JSON of the Messaging API), within LINE's limits.

What LINE cannot show is degraded here, never in handlers:

- text longer than 5,000 characters is split (at a line break when there is one);
- buttons of the *last* reply become quick replies (LINE shows quick replies only under the
  newest message, and at most 13); buttons of an earlier reply, or more than 13 buttons, become
  a Flex bubble of postback buttons instead — those stay pressable in the chat history and need
  no "type the number" state on our side;
- labels are cut with "…" to fit LINE's limit in characters and in UTF-16 units (an emoji
  counts twice in the second), never inside a grapheme;
- share-contact buttons are dropped (LINE has no contact sharing; the handler's text already
  says "or type your number");
- a member card becomes a Flex bubble, with the QR as an image when there is a public URL for
  media, else the member code in large type;
- an image becomes an image message by URL, a document a download link; without a public URL
  an image becomes a line of text and a document its own text content.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from bot.channels.text import fit, split
from bot.core.capabilities import LINE_CAPABILITIES
from bot.core.keys import card_filename
from bot.core.messages import Attachment, Button, ButtonKind, MemberCardView, Reply
from bot.i18n import format_points, t

LineMessage = dict[str, Any]

MAX_MESSAGES_PER_REQUEST: Final = LINE_CAPABILITIES.messages_per_request
MAX_TEXT: Final = LINE_CAPABILITIES.text_max
MAX_QUICK_REPLIES: Final = 13
#: LINE counts label lengths in UTF-16 units as well as characters: both must fit
MAX_LABEL: Final = 20
MAX_BUTTON_LABEL: Final = 40  # a Flex button's label
MAX_ALT_TEXT: Final = 400
MAX_DISPLAY_TEXT: Final = 300

#: the member-card QR stays in the chat history, so its image must outlive a day
CARD_IMAGE_TTL: Final = timedelta(days=30)
IMAGE_TTL: Final = timedelta(days=7)
#: what the /mydata download link promises the customer
DOCUMENT_TTL: Final = timedelta(hours=24)


class MediaPublisher(Protocol):
    """Stores bytes and returns their public URL, or ``None`` when there is no public URL."""

    async def __call__(
        self,
        filename: str,
        mime_type: str,
        content: bytes,
        ttl: timedelta,
        *,
        until: datetime | None = None,
        coupon_id: int | None = None,
    ) -> str | None:
        """``until`` replaces ``ttl`` when given; ``coupon_id``: the link ends with the coupon."""
        ...


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most ``limit`` characters as LINE counts them (UTF-16 units), cut at a
    line break or space where possible and never inside a grapheme (see
    :func:`bot.channels.text.split`)."""
    return split(text, limit)


def shorten(text: str, limit: int) -> str:
    """``text`` cut with "…" to at most ``limit`` code points *and* UTF-16 units, between
    graphemes (see :func:`bot.channels.text.fit`)."""
    return fit(text, limit)


def _button_action(button: Button, label_limit: int = MAX_LABEL) -> dict[str, Any]:
    label = shorten(button.label, label_limit) or "…"
    if button.kind is ButtonKind.URL:
        return {"type": "uri", "label": label, "uri": button.url}
    # displayText echoes the press into the chat, so the history reads like a conversation
    return {
        "type": "postback",
        "label": label,
        "data": button.action,
        "displayText": shorten(button.label, MAX_DISPLAY_TEXT) or label,
    }


def quick_reply(buttons: Sequence[Button]) -> dict[str, Any]:
    return {"items": [{"type": "action", "action": _button_action(b)} for b in buttons]}


def button_bubble(buttons: Sequence[Button], alt_text: str) -> LineMessage:
    contents = [
        {
            "type": "button",
            "style": "secondary",
            "height": "sm",
            "action": _button_action(b, MAX_BUTTON_LABEL),
        }
        for b in buttons
    ]
    return {
        "type": "flex",
        "altText": shorten(alt_text, MAX_ALT_TEXT),
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": contents},
        },
    }


def _row(label: str, value: str) -> dict[str, Any]:
    return {
        "type": "box",
        "layout": "horizontal",
        "contents": [
            {"type": "text", "text": label, "size": "sm", "color": "#888888", "flex": 2},
            {"type": "text", "text": value, "size": "sm", "weight": "bold", "flex": 3},
        ],
    }


def card_bubble(card: MemberCardView, qr_url: str | None, locale: str, shop: str) -> LineMessage:
    """The member card as a Flex bubble; the code is large when there is no QR image."""
    body: list[dict[str, Any]] = [
        {"type": "text", "text": card.name or "-", "weight": "bold", "size": "xl", "wrap": True},
        _row(t(locale, "line.card_tier"), card.tier or "-"),
        _row(t(locale, "line.card_points"), format_points(card.points)),
        {"type": "separator", "margin": "md"},
        {"type": "text", "text": t(locale, "line.card_code"), "size": "xs", "color": "#888888"},
        {
            "type": "text",
            "text": card.member_code,
            "size": "lg" if qr_url else "xxl",
            "weight": "bold",
            "align": "center",
        },
    ]
    bubble: dict[str, Any] = {
        "type": "bubble",
        "header": {
            "type": "box",
            "layout": "vertical",
            "backgroundColor": "#06C755",
            "contents": [
                {"type": "text", "text": shop or "-", "color": "#FFFFFF", "weight": "bold"}
            ],
        },
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
    }
    if qr_url:
        bubble["hero"] = {
            "type": "image",
            "url": qr_url,
            "size": "full",
            "aspectRatio": "1:1",
            "aspectMode": "fit",
            "animated": False,  # the SDK's default, which it writes into the body
        }
    alt = t(locale, "line.card_alt", name=card.name, points=format_points(card.points))
    return {"type": "flex", "altText": shorten(alt, MAX_ALT_TEXT), "contents": bubble}


class LineRenderer:
    """Turns the replies to one event (or one push) into LINE messages, in order.

    ``locale`` is asked for (once) only when the adapter adds words of its own (card labels,
    alt texts, fallbacks): most replies need no lookup of the member's language.
    """

    def __init__(self, publish: MediaPublisher, shop_name: str) -> None:
        self._publish = publish
        self._shop = shop_name

    async def render(
        self, replies: Sequence[Reply], locale: str | Callable[[], Awaitable[str]]
    ) -> list[LineMessage]:
        resolved: list[str] = [locale] if isinstance(locale, str) else []

        async def get_locale() -> str:
            if not resolved:
                assert not isinstance(locale, str)
                resolved.append(await locale())
            return resolved[0]

        messages: list[LineMessage] = []
        for index, reply in enumerate(replies):
            is_last = index == len(replies) - 1
            messages.extend(await self._render_one(reply, is_last, get_locale))
        return messages

    async def _render_one(
        self, reply: Reply, is_last: bool, get_locale: Callable[[], Awaitable[str]]
    ) -> list[LineMessage]:
        messages: list[LineMessage] = [{"type": "text", "text": p} for p in split_text(reply.text)]
        if reply.card is not None:
            messages.append(await self._card(reply.card, await get_locale()))
        if reply.attachment is not None:
            messages.extend(await self._attachment(reply.attachment, get_locale))
        buttons = [b for b in reply.buttons if b.kind is not ButtonKind.SHARE_CONTACT]
        if not buttons:
            return messages
        if is_last and messages and len(buttons) <= MAX_QUICK_REPLIES:
            messages[-1]["quickReply"] = quick_reply(buttons)
        else:
            alt = reply.meta.get("alt_text") or reply.text or t(await get_locale(), "line.choose")
            messages.append(button_bubble(buttons, alt))
        return messages

    async def _card(self, card: MemberCardView, locale: str) -> LineMessage:
        url = None
        if card.qr_png:
            url = await self._publish(
                card_filename(card.member_code), "image/png", card.qr_png, CARD_IMAGE_TTL
            )
        return card_bubble(card, url, locale, card.shop or self._shop)

    async def _attachment(
        self, attachment: Attachment, get_locale: Callable[[], Awaitable[str]]
    ) -> list[LineMessage]:
        ttl = IMAGE_TTL if attachment.is_image else DOCUMENT_TTL
        url = await self._publish(
            attachment.filename,
            attachment.mime_type,
            attachment.content,
            ttl,
            until=attachment.valid_until,
            coupon_id=attachment.coupon_id,
        )
        if attachment.is_image:
            if url is None:
                text = t(await get_locale(), "line.image_unavailable")
                return [{"type": "text", "text": text}]
            return [{"type": "image", "originalContentUrl": url, "previewImageUrl": url}]
        if url is not None:
            text = t(await get_locale(), "line.download", url=url, filename=attachment.filename)
            return [{"type": "text", "text": text}]
        content = attachment.content.decode("utf-8", errors="replace")
        return [{"type": "text", "text": piece} for piece in split_text(content)]
