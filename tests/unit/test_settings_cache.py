"""Shop settings are cached per process, and the cache never serves a value that has changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from bot.bootstrap import App
from bot.core.messages import Channel, Identity, Inbound, InboundKind
from storage.uow import UnitOfWorkFactory
from tests.unit.staff_support import make_member


@contextmanager
def _statements(app: App) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(app.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", record)


async def _put(factory: UnitOfWorkFactory, app: App, value: dict[str, Any]) -> None:
    async with factory() as uow:
        await uow.settings.put("loyalty", value, app.clock.now())
        await uow.commit()


async def _get(factory: UnitOfWorkFactory) -> dict[str, Any] | None:
    async with factory() as uow:
        return await uow.settings.get("loyalty")


def _other_process(app: App) -> UnitOfWorkFactory:
    """Another process on the same database: a cache of its own."""
    return UnitOfWorkFactory(app.uow.sessions)


async def test_a_setting_read_again_is_served_without_a_query(app: App) -> None:
    await _put(app.uow, app, {"welcome_points": 10})
    async with app.uow() as uow:
        await uow.identities.arrive("line", "U1", app.clock.now())  # as the bus does
        await uow.settings.get("loyalty")
    async with app.uow() as uow:
        arrival = await uow.identities.arrive("line", "U1", app.clock.now())
        uow.settings.seen_version(arrival.settings_version)
        with _statements(app) as seen:
            value = await uow.settings.get("loyalty")

    assert value == {"welcome_points": 10}
    assert not [sql for sql in seen if "shop_settings" in sql]


async def test_a_write_in_another_process_is_seen_by_the_next_event(app: App) -> None:
    await _put(app.uow, app, {"welcome_points": 10})
    assert await _get(app.uow) == {"welcome_points": 10}  # cached here

    await _put(_other_process(app), app, {"welcome_points": 25})

    async with app.uow() as uow:
        arrival = await uow.identities.arrive("line", "U1", app.clock.now())
        uow.settings.seen_version(arrival.settings_version)
        assert await uow.settings.get("loyalty") == {"welcome_points": 25}


async def test_a_write_in_another_process_is_seen_without_the_bus(app: App) -> None:
    assert await _get(app.uow) is None  # "no setting" is cached too
    await _put(_other_process(app), app, {"welcome_points": 25})

    assert await _get(app.uow) == {"welcome_points": 25}


async def test_a_rolled_back_write_is_never_served(app: App) -> None:
    await _put(app.uow, app, {"welcome_points": 10})
    async with app.uow() as uow:
        await uow.settings.put("loyalty", {"welcome_points": 99}, app.clock.now())
        assert await uow.settings.get("loyalty") == {"welcome_points": 99}  # its own write
        # no commit: rolled back

    assert await _get(app.uow) == {"welcome_points": 10}
    assert await _get(_other_process(app)) == {"welcome_points": 10}


async def test_a_write_in_this_process_is_seen_by_the_next_unit_of_work(app: App) -> None:
    await _put(app.uow, app, {"welcome_points": 10})
    assert await _get(app.uow) == {"welcome_points": 10}

    await _put(app.uow, app, {"welcome_points": 11})

    assert await _get(app.uow) == {"welcome_points": 11}


async def test_changing_a_value_read_does_not_change_the_cached_one(app: App) -> None:
    await _put(app.uow, app, {"tiers": [{"name": "gold"}]})
    first = await _get(app.uow)
    assert first is not None
    first["tiers"][0]["name"] = "changed by a caller"

    assert await _get(app.uow) == {"tiers": [{"name": "gold"}]}


async def test_points_follow_a_loyalty_rule_changed_by_another_process(app: App) -> None:
    """End to end: the bus serves /points from the cache, and a change elsewhere reaches it."""
    await make_member(app, user_id="500", channel=Channel.TELEGRAM)
    tiers = [{"name": "member", "min_spend": 0}, {"name": "gold", "min_spend": 1}]

    def points(n: int) -> Inbound:
        return Inbound(
            identity=Identity(Channel.TELEGRAM, "500"),
            kind=InboundKind.TEXT,
            received_at=datetime(2026, 3, 3, tzinfo=UTC),
            event_id=f"tg:{n}",
            text="/points",
        )

    before = await app.bus.handle(points(1))
    await _put(_other_process(app), app, {"tiers": tiers})
    after = await app.bus.handle(points(2))

    assert before != after  # the next tier reads differently once the rule changed
