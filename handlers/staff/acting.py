"""What a staff action needs of its caller, whether the chat or the web console runs it.

:class:`handlers.context.Context` is one; the console builds another for the signed-in staff
member (``bot.admin.acting``), so the console's segments and campaigns go through the same
functions as the chat's commands, with the same checks and the same words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.config import Settings
from bot.core.messages import Button, Reply
from bot.core.ports import QuotaReader
from storage.uow import UnitOfWork


class StaffAct(Protocol):
    @property
    def uow(self) -> UnitOfWork: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def locale(self) -> str: ...

    @property
    def quota_reader(self) -> QuotaReader | None: ...

    @property
    def now(self) -> datetime: ...

    @property
    def actor(self) -> str: ...

    @property
    def channel(self) -> str: ...

    def t(self, key: str, **params: Any) -> str: ...

    def tn(self, key: str, count: int, **params: Any) -> str: ...

    def reply(self, key: str, *buttons: Button, **params: Any) -> Reply: ...
