"""The customer rich menu of ``chatcrm line setup``: its areas (postbacks) and its image.

The postbacks are what matter (they press the same commands as the buttons: ``cmd:<name>``);
the image only has to be legible. Thai labels are drawn when a font with Thai glyphs is
installed, English labels otherwise (a missing font must not make setup fail).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Final

import aiohttp
from linebot.v3.messaging import (
    ApiException,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    RichMenuRequest,
)
from PIL import Image, ImageDraw, ImageFont

from bot.channels.line.send import channel_error
from bot.core.errors import TransientChannelError
from bot.core.keys import CommandAction

#: how ``line setup`` recognises the menus it made before (and replaces them)
MENU_NAME: Final = "chatcrm customer menu"
WIDTH: Final = 2500
HEIGHT: Final = 843

#: (command, Thai label, English label), left to right
ITEMS: Final = (
    ("card", "บัตรสมาชิก", "Card"),
    ("points", "แต้มสะสม", "Points"),
    ("history", "ประวัติ", "History"),
    ("profile", "ข้อมูลของฉัน", "Profile"),
    ("help", "ช่วยเหลือ", "Help"),
)

#: fonts with Thai glyphs on common Linux distributions (Noto, TLWG)
THAI_FONTS: Final = (
    "/usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansThai-Regular.ttf",
    "/usr/share/fonts/noto/NotoSansThai-Regular.ttf",
    "/usr/share/fonts/truetype/tlwg/Loma.ttf",
    "/usr/share/fonts/truetype/tlwg/Garuda.ttf",
    "/usr/share/fonts/truetype/tlwg/Sawasdee.ttf",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def rich_menu_request(chat_bar_text: str = "เมนู") -> dict[str, Any]:
    """The rich menu object (one row of equal areas, each a postback pressing a command)."""
    column = WIDTH // len(ITEMS)
    areas = [
        {
            "bounds": {"x": i * column, "y": 0, "width": column, "height": HEIGHT},
            "action": {
                "type": "postback",
                "label": english,
                "data": CommandAction(command).format(),
            },
        }
        for i, (command, _thai, english) in enumerate(ITEMS)
    ]
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,
        "name": MENU_NAME,
        "chatBarText": chat_bar_text[:14],
        "areas": areas,
    }


def _thai_font(size: int) -> ImageFont.FreeTypeFont | None:
    for path in THAI_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return None


def _centered(
    draw: ImageDraw.ImageDraw, box: tuple[int, int], y: int, text: str, font: Font
) -> None:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    x = box[0] + (box[1] - box[0] - (right - left)) // 2
    draw.text((x, y), text, font=font, fill="#FFFFFF")


def rich_menu_image() -> bytes:
    """A PNG of WIDTH×HEIGHT with one labelled tile per area."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "#06C755")
    draw = ImageDraw.Draw(image)
    thai = _thai_font(110)
    english = ImageFont.load_default(size=80 if thai else 110)
    column = WIDTH // len(ITEMS)
    for i, (_command, thai_label, english_label) in enumerate(ITEMS):
        left, right = i * column, (i + 1) * column
        if i:
            draw.line([(left, 80), (left, HEIGHT - 80)], fill="#FFFFFF", width=6)
        if thai is not None:
            _centered(draw, (left, right), 260, thai_label, thai)
            _centered(draw, (left, right), 450, english_label, english)
        else:
            _centered(draw, (left, right), 360, english_label, english)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def install(api: AsyncMessagingApi, blob_api: AsyncMessagingApiBlob) -> list[str]:
    """Create the customer rich menu, upload its image, make it the default for everyone,
    then delete the menus earlier runs made (found by name): one menu however many runs.
    The new one is the default before the old ones go, so nobody is left without one."""
    try:
        earlier = [
            menu.rich_menu_id
            for menu in (await api.get_rich_menu_list()).richmenus
            if menu.name == MENU_NAME
        ]
        created = await api.create_rich_menu(RichMenuRequest.from_dict(rich_menu_request()))
        menu_id = created.rich_menu_id
        await blob_api.set_rich_menu_image(
            menu_id, rich_menu_image(), _headers={"Content-Type": "image/png"}
        )
        await api.set_default_rich_menu(menu_id)
        for old_id in earlier:
            await api.delete_rich_menu(old_id)
    except ApiException as error:
        raise channel_error(error) from error
    except (aiohttp.ClientError, TimeoutError) as error:
        raise TransientChannelError(f"LINE setup failed: {error!r}") from error
    return [
        f"rich menu created: {menu_id}",
        "rich menu image uploaded (2500×843 PNG)",
        "rich menu set as the default for all users",
        *(f"earlier rich menu deleted: {old_id}" for old_id in earlier),
    ]
