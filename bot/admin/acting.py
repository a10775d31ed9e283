"""The signed-in staff member as a :class:`handlers.staff.acting.StaffAct`: the console runs
the chat's own staff functions (segments, campaigns) through it, in the viewer's language,
audited as them with ``channel="web"``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.bootstrap import App
from bot.config import Settings
from bot.core.messages import Button, Reply
from bot.core.ports import QuotaReader
from bot.i18n import t, tn
from shop.console import Viewer
from storage.uow import UnitOfWork


@dataclass
class ConsoleAct:
    uow: UnitOfWork
    app: App
    viewer: Viewer

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def locale(self) -> str:
        return self.viewer.locale

    @property
    def quota_reader(self) -> QuotaReader | None:
        return self.app.bus.quota_reader

    @property
    def now(self) -> datetime:
        return self.app.clock.now()

    @property
    def actor(self) -> str:
        return self.viewer.actor

    @property
    def channel(self) -> str:
        return "web"

    def t(self, key: str, **params: Any) -> str:
        return t(self.locale, key, **params)

    def tn(self, key: str, count: int, **params: Any) -> str:
        return tn(self.locale, key, count, **params)

    def reply(self, key: str, *buttons: Button, **params: Any) -> Reply:
        return Reply(text=self.t(key, **params), buttons=tuple(buttons))

    def wake_outbox(self) -> None:
        """After the commit: queued messages go out now, not at the dispatcher's next poll."""
        if self.uow.outbox.enqueued and self.app.bus.on_commit is not None:
            self.app.bus.on_commit()
