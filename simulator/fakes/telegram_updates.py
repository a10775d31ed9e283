"""Updates as Telegram sends them (a webhook body, or one item of ``getUpdates``)."""

from __future__ import annotations

import time
from typing import Any


def _user(user_id: int, first_name: str = "Ploy", language_code: str = "th") -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "last_name": "S.",
        "language_code": language_code,
    }


def _private_message(update_id: int, user_id: int, **content: Any) -> dict[str, Any]:
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "Ploy"},
        "from": _user(user_id),
        **content,
    }
    return {"update_id": update_id, "message": message}


def text_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """A typed message; a leading ``/word`` carries a ``bot_command`` entity as Telegram's."""
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        length = len(text.split(" ", 1)[0].encode("utf-16-le")) // 2
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return _private_message(update_id, user_id, **content)


def contact_update(
    update_id: int, user_id: int, phone: str, owner_id: int | None = None
) -> dict[str, Any]:
    """A shared contact; ``owner_id`` is the contact's user (the sender's own when omitted)."""
    contact: dict[str, Any] = {"phone_number": phone, "first_name": "Ploy"}
    owner = user_id if owner_id is None else owner_id
    if owner:
        contact["user_id"] = owner
    return _private_message(update_id, user_id, contact=contact)


def sticker_update(update_id: int, user_id: int) -> dict[str, Any]:
    sticker = {
        "file_id": "s1",
        "file_unique_id": "su1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    return _private_message(update_id, user_id, sticker=sticker)


def callback_update(update_id: int, user_id: int, data: str) -> dict[str, Any]:
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "text": "…",
    }
    query = {
        "id": f"cq{update_id}",
        "from": _user(user_id),
        "chat_instance": "ci1",
        "data": data,
        "message": message,
    }
    return {"update_id": update_id, "callback_query": query}


def member_update(update_id: int, user_id: int, old: str, new: str) -> dict[str, Any]:
    """A ``my_chat_member`` change in the private chat (``kicked`` = the user blocked the bot)."""
    bot_user = {"id": 123456789, "is_bot": True, "first_name": "Shop", "username": "shop_bot"}

    def status(name: str) -> dict[str, Any]:
        extra = {"until_date": 0} if name == "kicked" else {}
        return {"status": name, "user": bot_user, **extra}

    change = {
        "chat": {"id": user_id, "type": "private"},
        "from": _user(user_id),
        "date": int(time.time()),
        "old_chat_member": status(old),
        "new_chat_member": status(new),
    }
    return {"update_id": update_id, "my_chat_member": change}


def group_text_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    update = text_update(update_id, user_id, text)
    update["message"]["chat"] = {"id": -100123, "type": "group", "title": "Staff"}
    return update
