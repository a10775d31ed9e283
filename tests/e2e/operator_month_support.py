"""An operator's month on a running shop, from outside: ``python -m bot serve`` as an asyncio
subprocess (so the platform fakes keep answering on the test's own event loop), signed LINE
webhooks and Telegram updates over real HTTP, and the shop seeded once through the product's own
unit of work before ``serve`` opens the file."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.core.messages import Channel
from simulator.fakes.line_webhooks import signed_webhook, text_event
from tests.e2e.operator_support import TIMEOUT, environment, free_port, sqlite_url
from tests.unit.staff_support import make_member


@dataclass
class Serve:
    """One running ``serve`` and the file its output goes to."""

    process: asyncio.subprocess.Process
    port: int
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")


async def start_serve(cwd: Path, name: str = "serve", **variables: str) -> Serve:
    """``python -m bot serve`` in ``cwd`` with only ``variables`` of ours set; waits until
    ``/healthz`` answers (the process ending first fails the test with its log)."""
    port = free_port()
    log = cwd / f"{name}.log"
    with log.open("w") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            cwd=cwd,
            env=environment(CHATCRM_PORT=str(port), **variables),
            stdout=out,
            stderr=out,
        )
    serve = Serve(process, port, log)
    deadline = time.monotonic() + TIMEOUT
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"serve ended with {process.returncode}: {serve.text()}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    await answer.read()
                    return serve
            except aiohttp.ClientError:
                await asyncio.sleep(0.2)
    raise AssertionError(f"serve never answered /healthz: {serve.text()}")


async def stop_serve(serve: Serve) -> None:
    if serve.process.returncode is None:
        serve.process.kill()
        await serve.process.wait()


async def run_cli(cwd: Path, *argv: str, **variables: str) -> tuple[int, str, str]:
    """``python -m bot ARGV`` to the end without blocking the loop the fakes answer on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *argv,
        cwd=cwd,
        env=environment(**variables),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    return int(process.returncode or 0), out.decode(), err.decode()


async def post_line(port: int, events: list[dict[str, Any]], secret: str) -> int:
    body, signature = signed_webhook(events, secret=secret)
    headers = {"X-Line-Signature": signature, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/webhook/line", data=body, headers=headers) as answer,
    ):
        await answer.read()
        return answer.status


async def post_telegram(port: int, update: dict[str, Any], secret: str) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    url = f"http://127.0.0.1:{port}/webhook/telegram"
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as a:
        await a.read()
        return a.status


async def seed_member(database: Path, channel: Channel, user_id: str, points: int) -> None:
    """One signed-up member on ``channel`` with ``points``, written by the product's unit of
    work (the schema migrated as ``serve`` would), the engine closed before ``serve`` starts."""
    settings = Settings(CHATCRM_DATABASE_URL=sqlite_url(database), _env_file=None)  # type: ignore[call-arg]
    app = await bootstrap(settings=settings)
    try:
        await make_member(app, "Ploy", user_id=user_id, channel=channel, points=points)
    finally:
        await app.engine.dispose()


def points_event(user_id: str, reply_token: str) -> dict[str, Any]:
    """The member asks for their points, as LINE delivers it (the word works without a slash)."""
    return text_event(user_id, "points", reply_token, datetime.now(UTC))


async def until(condition: Any, what: str) -> None:
    """Poll ``condition()`` up to the generous :data:`TIMEOUT` (a hang bound, never asserted)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: never happened")
