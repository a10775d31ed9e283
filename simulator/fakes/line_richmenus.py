"""The rich-menu endpoints of the fake LINE API (create, list, image, default, per user,
delete), as LINE answers them; :class:`~simulator.fakes.line_api.FakeLineApi` mixes them in."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from simulator.fakes.line_api import Call


class RichMenuRoutes:
    """Rich menus by id, their images, the default menu and per-user links."""

    rich_menus: dict[str, dict[str, Any]]
    rich_menu_images: dict[str, bytes]
    default_rich_menu: str | None
    user_rich_menus: dict[str, str]

    if TYPE_CHECKING:

        async def _gate(
            self, request: web.Request, endpoint: str
        ) -> tuple[Call, web.Response | None]: ...

        @staticmethod
        def _answer(call: Call, status: int, body: Any, **headers: str) -> web.Response: ...

        def _error(
            self, call: Call, status: int, message: str, details: list[Any] | None = None
        ) -> web.Response: ...

    async def _create_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "richmenu_create")
        if refused is not None:
            return refused
        menu = call.json if isinstance(call.json, dict) else {}
        size = menu.get("size", {})
        areas = menu.get("areas", [])
        if (
            size.get("width") != 2500
            or size.get("height") not in {843, 1686}
            or not 1 <= len(menu.get("chatBarText", "")) <= 14
            or not 1 <= len(areas) <= 20
        ):
            return self._error(call, 400, "A rich menu object is invalid")
        menu_id = f"richmenu-{secrets.token_hex(16)}"
        self.rich_menus[menu_id] = menu
        return self._answer(call, 200, {"richMenuId": menu_id})

    async def _list_rich_menus(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "richmenu_list")
        if refused is not None:
            return refused
        menus = [{"richMenuId": menu_id, **menu} for menu_id, menu in self.rich_menus.items()]
        return self._answer(call, 200, {"richmenus": menus})

    async def _delete_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "richmenu_delete")
        if refused is not None:
            return refused
        menu_id = request.match_info["menu_id"]
        if self.rich_menus.pop(menu_id, None) is None:
            return self._error(call, 404, "Not found")
        self.rich_menu_images.pop(menu_id, None)
        if self.default_rich_menu == menu_id:  # LINE unlinks a deleted default menu
            self.default_rich_menu = None
        for user_id in [u for u, m in self.user_rich_menus.items() if m == menu_id]:
            del self.user_rich_menus[user_id]
        return self._answer(call, 200, {})

    async def _rich_menu_content(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "richmenu_content")
        if refused is not None:
            return refused
        menu_id = request.match_info["menu_id"]
        if menu_id not in self.rich_menus:
            return self._error(call, 404, "Not found")
        if request.content_type not in {"image/png", "image/jpeg"} or not call.body:
            return self._error(call, 400, "Unsupported image")
        self.rich_menu_images[menu_id] = call.body
        return self._answer(call, 200, {})

    async def _default_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "richmenu_default")
        if refused is not None:
            return refused
        menu_id = request.match_info["menu_id"]
        if menu_id not in self.rich_menu_images:  # LINE refuses a menu without an image
            return self._error(call, 400, "must upload richmenu image before applying it")
        self.default_rich_menu = menu_id
        return self._answer(call, 200, {})

    async def _user_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self._gate(request, "richmenu_user")
        if refused is not None:
            return refused
        menu_id = request.match_info["menu_id"]
        if menu_id not in self.rich_menu_images:
            return self._error(call, 400, "must upload richmenu image before applying it")
        self.user_rich_menus[request.match_info["user_id"]] = menu_id
        return self._answer(call, 200, {})
