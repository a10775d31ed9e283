"""The SQLite file of a running ``serve`` deleted under it (an ``rm`` in the wrong directory, a
clean-up script, a volume re-mounted): ``serve`` keeps writing to the deleted file, which is gone
at the next restart. ``/healthz`` should say so, and a webhook must not be answered 200 for an
update that is then lost (the platform would not deliver it again). A full disk: webhooks are
refused 500 (LINE delivers them again once there is room), and ``/healthz`` should say so. A
command that only reads the shop, pointed at a path with no file, must not make a new one."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.core.messages import Channel
from simulator.fakes.line_api import CHANNEL_SECRET, FakeLineApi
from tests.e2e.operator_month_support import (
    Serve,
    points_event,
    post_line,
    seed_member,
    start_serve,
    stop_serve,
    until,
)
from tests.e2e.operator_support import chatcrm, sqlite_url

pytestmark = pytest.mark.e2e

LINE_USER = "U1b2c3d4e5f60718293a4b5c6d7e8f901"
#: /healthz's public answer when the database cannot serve (README, Monitoring)
UNAVAILABLE = {"status": "error", "database": "unavailable"}


def _delete(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


async def _healthz(port: int) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as answer,
    ):
        return answer.status, json.loads(await answer.read())


async def test_healthz_says_so_when_the_database_file_is_deleted(tmp_path: Path) -> None:
    serve = await start_serve(tmp_path, CHATCRM_DATABASE_URL=sqlite_url(tmp_path / "shop.db"))
    try:
        assert await _healthz(serve.port) == (200, {"status": "ok"})
        _delete(tmp_path / "shop.db")
        answer = await _healthz(serve.port)
    finally:
        await stop_serve(serve)
    assert answer == (503, UNAVAILABLE)


async def test_a_webhook_is_not_answered_200_into_a_deleted_database_file(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    await seed_member(database, Channel.LINE, LINE_USER, points=120)
    api = FakeLineApi()
    async with api.running():
        serve = await start_serve(
            tmp_path,
            CHATCRM_DATABASE_URL=sqlite_url(database),
            LINE_CHANNEL_SECRET=CHANNEL_SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=api.access_token,
            LINE_API_BASE=api.base_url,
            LINE_DATA_API_BASE=api.base_url,
        )
        try:
            _delete(database)
            event = points_event(LINE_USER, api.issue_reply_token(LINE_USER))
            status = await post_line(serve.port, [event], CHANNEL_SECRET)
        finally:
            await stop_serve(serve)
    assert status >= 500  # LINE redelivers what was not answered 2xx


@pytest.mark.parametrize(
    "argv", [("export", "members", "members.csv"), ("status",)], ids=["export", "status"]
)
def test_a_command_that_reads_the_shop_does_not_make_a_new_empty_one(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    moved = tmp_path / "moved" / "shop.db"  # the shop moved; this path now holds nothing
    moved.parent.mkdir()
    done = chatcrm(tmp_path, *argv, CHATCRM_DATABASE_URL=sqlite_url(moved))
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert not moved.exists()
    assert done.returncode == 2
    assert str(moved) in done.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs of its own (root only: skipped where mounting is not allowed)."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(  # noqa: S603 (fixed arguments)
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("this machine does not let the test mount a small disk")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)  # noqa: S603, S607


def _fill(disk: Path) -> None:
    with contextlib.suppress(OSError), (disk / "filler").open("wb") as filler:
        while True:
            filler.write(b"\0" * 65536)
            filler.flush()


async def _full_disk_shop(disk: Path, api: FakeLineApi) -> Serve:
    database = disk / "shop.db"
    await seed_member(database, Channel.LINE, LINE_USER, points=120)
    return await start_serve(
        disk.parent,
        CHATCRM_DATABASE_URL=sqlite_url(database),
        LINE_CHANNEL_SECRET=CHANNEL_SECRET,
        LINE_CHANNEL_ACCESS_TOKEN=api.access_token,
        LINE_API_BASE=api.base_url,
        LINE_DATA_API_BASE=api.base_url,
    )


async def test_on_a_full_disk_webhooks_are_refused_and_redelivered_once_space_is_back(
    small_disk: Path,
) -> None:
    api = FakeLineApi()
    async with api.running():
        serve = await _full_disk_shop(small_disk, api)
        try:
            _fill(small_disk)
            event = points_event(LINE_USER, api.issue_reply_token(LINE_USER))
            refused = [await post_line(serve.port, [event], CHANNEL_SECRET) for _ in range(3)]
            (small_disk / "filler").unlink()
            again = {**event, "deliveryContext": {"isRedelivery": True}}
            again["replyToken"] = api.issue_reply_token(LINE_USER)
            assert await post_line(serve.port, [again], CHANNEL_SECRET) == 200
            await until(lambda: api.messages_to(LINE_USER), "the answer")
        finally:
            await stop_serve(serve)
    assert all(status >= 500 for status in refused), refused  # LINE delivers them again
    assert len(api.messages_to(LINE_USER)) == 1


async def test_healthz_says_so_when_the_disk_is_full(small_disk: Path) -> None:
    api = FakeLineApi()
    async with api.running():
        serve = await _full_disk_shop(small_disk, api)
        try:
            _fill(small_disk)
            event = points_event(LINE_USER, api.issue_reply_token(LINE_USER))
            assert await post_line(serve.port, [event], CHANNEL_SECRET) >= 500
            health = await _healthz(serve.port)
        finally:
            await stop_serve(serve)
    assert health == (503, UNAVAILABLE)
