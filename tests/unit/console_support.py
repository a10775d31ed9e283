"""A ``chatcrm chat`` session driven by a test: lines typed while it runs, the screen read."""

from __future__ import annotations

import asyncio
import io
import queue
from collections.abc import Callable
from pathlib import Path

from bot import server
from bot.config import Settings

#: how long a terminal may take to show what the test waits for (a bound, not a measure)
PATIENCE = 120.0
#: a session nobody types into for this long ends (a test that forgot to quit never hangs)
IDLE_END = 300.0


class Keyboard:
    """Lines typed into a running console; read in a worker thread, as from a terminal."""

    def __init__(self) -> None:
        self._lines: queue.Queue[str] = queue.Queue()

    def type(self, line: str) -> None:
        self._lines.put(line + "\n")

    def readline(self) -> str:
        try:
            return self._lines.get(timeout=IDLE_END)
        except queue.Empty:
            return ""  # end of input: the session ends rather than hanging the test

    def isatty(self) -> bool:
        return False


class Terminal:
    """One ``chatcrm chat`` session running as ``user_id``."""

    def __init__(
        self,
        settings: Settings,
        user_id: str,
        media: Path,
        platforms: server.Platforms | None = None,
    ) -> None:
        self.keyboard = Keyboard()
        self.screen = io.StringIO()
        self.task = asyncio.create_task(
            server.chat(
                settings,
                user_id,
                input=self.keyboard,  # type: ignore[arg-type]
                output=self.screen,
                media_dir=media,
                platforms=platforms,
            )
        )

    @property
    def text(self) -> str:
        return self.screen.getvalue()

    async def shows(self, wanted: Callable[[str], bool]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while not wanted(self.text):
            if self.task.done() or loop.time() > deadline:
                raise AssertionError(f"the terminal never showed it; it shows:\n{self.text}")
            await asyncio.sleep(0.05)

    async def quit(self) -> None:
        self.keyboard.type("/quit")
        await asyncio.wait_for(self.task, PATIENCE)
