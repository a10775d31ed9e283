"""Engines for the two supported stores.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every transaction starts
with ``BEGIN IMMEDIATE``: each webhook event writes (at least its event id), and taking the write
lock up front turns SQLite's lock-upgrade failures into an orderly wait (a connection marked
:data:`READ_ONLY` starts with a plain ``BEGIN`` and reads beside the writer). PostgreSQL is
reached through asyncpg with ``CHATCRM_DATABASE_URL``; libpq's ``options`` parameter works there too
(``?options=-csearch_path%3Dshop_a`` keeps a shop in schema ``shop_a``, see :func:`create_engine`).
A PostgreSQL on the same small machine gets fewer parallel workers (:func:`parallel_workers`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, Final, TypeAlias

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.disk_full import watch_postgres_disk
from storage.holdout import register_sqlite_functions
from storage.name_search import register_name_key
from storage.sqlite_driver import OneTripConnection, connector
from storage.sqlite_file import watch_shop_file
from storage.zone_shift import register_zone_shift

#: the database of the shop (its pool of connections), as the layers above name it
Database: TypeAlias = AsyncEngine
#: one connection of :data:`Database`, for the bulk paths that drive their own transactions
DatabaseConnection: TypeAlias = AsyncConnection

#: how long a SQLite statement waits for another connection's lock before it fails; a SQLite
#: URL's ``timeout`` parameter (seconds, as ``sqlite3.connect`` takes it) sets another
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: execution option of a connection that only reads: on SQLite its transaction starts with a
#: plain ``BEGIN``, not ``BEGIN IMMEDIATE`` (see :func:`create_engine`)
READ_ONLY: Final = "chatcrm_read_only"
_PING: Final = text("SELECT 1")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


#: the stores chatcrm runs on, and the asynchronous driver it ships for each
DRIVERS: Final = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_EXAMPLES: Final = "sqlite+aiosqlite:///./chatcrm.db or postgresql+asyncpg://user@host/dbname"


def url_problem(url: str) -> str | None:
    """Why :func:`create_engine` cannot use ``url`` (not a URL, a store other than SQLite or
    PostgreSQL, a driver that is unknown or not asynchronous), as a sentence; None if it can."""
    try:
        parsed = make_url(url)
    except ArgumentError:  # not echoed: it may hold a password
        return f"not a database URL; use one like {_EXAMPLES}"
    backend = parsed.get_backend_name()
    if backend not in DRIVERS:
        return f"{backend!r} is not a store chatcrm runs on; use {_EXAMPLES}"
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return f"unknown driver {parsed.drivername!r}; use {DRIVERS[backend]}://…"
    if not dialect.is_async:
        return (
            f"{parsed.drivername!r} is not an asynchronous driver; begin the URL with "
            f"{DRIVERS[backend]}:// instead"
        )
    if backend == "sqlite":
        try:
            _busy_timeout_ms(parsed)
        except ValueError as refused:
            return str(refused)
    return None


def shown_url(url: str) -> str:
    """``url`` with its password masked, fit for a message or a log."""
    return make_url(url).render_as_string(hide_password=True)


async def ping(database: Database) -> None:
    """Return when the database answers ``SELECT 1`` on a connection of the pool; raises what
    connecting or the query raised (a health check reports it). A read: on SQLite its
    transaction starts with a plain ``BEGIN``, so another process holding the write lock (an
    import, a long write) does not keep it waiting for the busy timeout."""
    async with database.connect() as connection:
        await connection.execution_options(**{READ_ONLY: True})
        await connection.execute(_PING)


def server_options(options: str) -> dict[str, str]:
    """libpq's ``options`` (``-c name=value``, ``-cname=value`` or ``--name=value``, several
    separated by spaces) as server settings; raises ValueError for anything else."""
    settings: dict[str, str] = {}
    words = iter(options.split())
    for word in words:
        if word == "-c":
            word = next(words, "")
        elif word.startswith(("-c", "--")):
            word = word[2:]
        else:
            raise ValueError(f"unsupported connection option {word!r} (use -c name=value)")
        name, equals, value = word.partition("=")
        if not name or not equals:
            raise ValueError(f"connection option {word!r} is not name=value")
        settings[name.replace("-", "_")] = value
    return settings


def asyncpg_options(url: URL) -> tuple[URL, dict[str, str]]:
    """``url`` without libpq's ``options`` parameter, and the server settings it asked for.

    asyncpg has no ``options`` parameter (SQLAlchemy would pass it on and asyncpg refuse it), so
    on asyncpg URLs it becomes ``server_settings``; other drivers understand it themselves.
    """
    options = url.query.get("options")
    if url.get_driver_name() != "asyncpg" or options is None:
        return url, {}
    text = options if isinstance(options, str) else " ".join(options)
    return url.difference_update_query(["options"]), server_options(text)


LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})
PARALLEL = "max_parallel_workers_per_gather"


def parallel_workers(url: URL, cpus: int | None) -> str | None:
    """PostgreSQL's parallel workers per query for our connections, when the server shares a
    small machine with us: a report's query with its 2 default workers takes every core of a
    2-core machine from the bot, and webhooks wait; with fewer workers a big query takes a
    little longer and the event loop stays responsive (``bench/loop_lag.py``).
    Leaves one core free where that means fewer than the default 2 workers; None elsewhere
    (a remote server, or 4 cores and more), and ``options=-cmax_parallel_workers_per_gather=N``
    in the URL wins."""
    host = url.host or ""
    if (host not in LOCAL_HOSTS and not host.startswith("/")) or cpus is None or cpus >= 4:
        return None
    return str(max(0, cpus - 2))


#: statements each asyncpg connection keeps prepared (SQLAlchemy's default: 100). The server's
#: texts number more than that — a bound list's length or a batch's savepoint name makes a text
#: of its own — and a statement that fell out is prepared again, one more trip
PREPARED: Final = "prepared_statement_cache_size"
PREPARED_STATEMENTS: Final = 500


#: connections the pool keeps open on PostgreSQL, and how many more it opens at a peak (closed
#: again as they come back). SQLAlchemy's 5 kept are fewer than a busy ``serve`` uses at once
#: (the bus's :data:`~handlers.group_commit.PG_RUNNERS` batches, the send pace's claims, the
#: dispatcher, the web console): the connections over 5 were opened and closed all the time,
#: each a login, the JSON codecs' type look-ups and every statement prepared anew. The ceiling
#: stays SQLAlchemy's 15, so several processes on one server use no more connections than before
POOL_SIZE: Final = 10
POOL_OVERFLOW: Final = 5


def _postgres_engine(url: str, kwargs: dict[str, Any]) -> AsyncEngine:
    # No ping before every checkout: it is a round trip per unit of work, on a server that
    # is usually local. A connection that went stale (the server restarted) fails its first
    # statement instead; SQLAlchemy then drops the pool's connections and the bus runs that
    # event once more on a fresh one (see ``Bus._handle_reconnecting``).
    kwargs.setdefault("pool_pre_ping", False)
    if "poolclass" not in kwargs:  # a pool of another class may take no size
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    bare, settings = asyncpg_options(make_url(url))
    workers = parallel_workers(bare, os.cpu_count())
    if workers is not None and bare.get_driver_name() == "asyncpg":
        settings = {PARALLEL: workers, **settings}
    connect_args = dict(kwargs.get("connect_args") or {})
    if settings:  # explicit connect_args win over the URL
        connect_args["server_settings"] = {
            **settings,
            **(connect_args.get("server_settings") or {}),
        }
    if bare.get_driver_name() == "asyncpg" and PREPARED not in bare.query:
        connect_args.setdefault(PREPARED, PREPARED_STATEMENTS)
    if connect_args:
        kwargs["connect_args"] = connect_args
    engine = create_async_engine(bare, **kwargs)
    if engine.dialect.name == "postgresql":
        _postgres_savepoints(engine)
        watch_postgres_disk(engine)
    return engine


#: the page cache of a SQLite connection's temporary tables (a launch's stage), KiB: they are
#: written once and read in order, so their pages go to the temporary file through a small
#: cache instead of one as large as the database's (2 MiB) that the connection keeps while it
#: lives
SQLITE_TEMP_CACHE_KIB: Final = 256

#: SQLite's ``synchronous`` values we offer (``CHATCRM_SQLITE_SYNCHRONOUS``)
SQLITE_SYNCHRONOUS: Final = frozenset({"normal", "full"})


def _busy_timeout_ms(url: URL) -> int:
    """The URL's ``timeout`` (seconds) in milliseconds, else :data:`SQLITE_BUSY_TIMEOUT_MS`."""
    given = url.query.get("timeout")
    if given is None:
        return SQLITE_BUSY_TIMEOUT_MS
    try:
        seconds = float(given if isinstance(given, str) else given[-1])
    except ValueError:
        seconds = math.nan  # refused below, with the same sentence
    if not 0 <= seconds < 2**31 / 1000:  # SQLite takes a 32-bit count of milliseconds
        raise ValueError(f"a SQLite URL's timeout must be 0 to 2147483 seconds (got {given!r})")
    return round(seconds * 1000)


def create_engine(url: str, *, sqlite_synchronous: str = "normal", **kwargs: Any) -> AsyncEngine:
    """An engine for ``url``. On SQLite (WAL) ``sqlite_synchronous="normal"`` syncs the WAL only
    at checkpoints: a committed transaction survives the process crashing but may be lost when
    the machine loses power or the OS crashes (the file stays consistent); ``"full"`` syncs the
    WAL at every commit, so what was answered 200 survives a power cut too."""
    if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"sqlite synchronous must be one of {sorted(SQLITE_SYNCHRONOUS)}")
    kwargs.setdefault("hide_parameters", True)  # errors name SQL, not a member's words (PDPA)
    if not is_sqlite(url):
        return _postgres_engine(url, kwargs)

    parsed = make_url(url)
    if parsed.get_driver_name() == "aiosqlite":
        args, connect_kwargs = parsed.get_dialect()().create_connect_args(parsed)
        connect_kwargs.update(kwargs.pop("connect_args", None) or {})
        kwargs.setdefault("async_creator", connector(args, connect_kwargs))
    engine = create_async_engine(url, **kwargs)
    in_memory = parsed.database in (None, "", ":memory:")
    busy_ms = _busy_timeout_ms(parsed)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that "begin" below decides how to start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous.upper()}")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # an erased member's deleted rows would otherwise stay readable in the file's free
        # pages and the WAL (PDPA erasure): deleted content is overwritten with zeros
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA temp.cache_size=-{SQLITE_TEMP_CACHE_KIB}")
        cursor.close()
        # the launch's hold-out draw and retry keys in SQL (PostgreSQL has its own)
        register_sqlite_functions(dbapi_connection)
        # each stored time's own offset in a zone with daylight saving (storage.zone_shift)
        register_zone_shift(dbapi_connection)
        register_name_key(dbapi_connection)  # member search's keys (storage.name_search)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A reader that takes the write lock holds off every writer, and every other reader
        # starting a transaction, for as long as it reads (a count over a million members);
        # in WAL mode a plain BEGIN reads its snapshot beside the one writer.
        begin = "BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
        driver = connection.connection.driver_connection
        if isinstance(driver, OneTripConnection):
            # sent in the same trip to the database thread as the transaction's first statement
            # (every unit of work starts here); its errors are that statement's
            driver.begin_with_next_statement(begin)
            return
        # an engine given another driver: SQLAlchemy's ordinary path
        connection.exec_driver_sql(begin)

    _savepoints_to_driver(engine)
    if not in_memory and not parsed.query.get("uri"):
        watch_shop_file(engine, str(parsed.database), READ_ONLY)
    return engine


def _savepoints_to_driver(engine: AsyncEngine) -> None:
    """A savepoint taken or released on a :class:`OneTripConnection` goes to it as text,
    to travel with the next statement, instead of through SQLAlchemy's statement execution.

    The bus takes one per event of a batch (``handlers/group_commit.py``): compiling and
    executing the two statements cost more than the rest of the savepoint's bookkeeping. The
    SQL is what SQLAlchemy's SQLite compiler writes; a rollback to a savepoint, which needs a
    trip of its own, goes the ordinary way. Another driver keeps SQLAlchemy's path.
    """
    dialect = engine.sync_engine.dialect
    quote = dialect.identifier_preparer.quote

    def to_driver(verb: str, ordinary: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
        def run(connection: Any, name: str) -> None:
            driver = connection.connection.driver_connection
            if isinstance(driver, OneTripConnection):
                driver.with_next_statement(f"{verb} {quote(name)}")
            else:
                ordinary(connection, name)

        return run

    # per engine: SQLAlchemy calls ``engine.dialect.do_savepoint`` and has no hook to replace it
    dialect.do_savepoint = to_driver("SAVEPOINT", dialect.do_savepoint)  # type: ignore[method-assign, assignment]
    dialect.do_release_savepoint = to_driver(  # type: ignore[method-assign, assignment]
        "RELEASE SAVEPOINT", dialect.do_release_savepoint
    )


#: savepoints a PostgreSQL transaction leaves open, unreleased, before it releases them again
#: (:func:`_postgres_savepoints`): under the 64 subtransactions a backend tracks without spilling
OPEN_SAVEPOINTS: Final = 32
_OPEN: Final = "chatcrm_open_savepoints"


def _postgres_savepoints(engine: AsyncEngine) -> None:
    """PostgreSQL: a savepoint is taken as its SQL text, and the first
    :data:`OPEN_SAVEPOINTS` of a transaction are never released.

    SQLAlchemy compiles ``SAVEPOINT name`` anew each time (the statement has no cache key), and
    the bus takes one per event of a batch (``handlers/group_commit.py``); the text goes
    through the driver's path as it is. Releasing one is a trip that changes nothing the
    transaction keeps: a savepoint left open commits with the transaction, and a rollback to a
    later one undoes only what followed that one. A transaction that takes more (a loop of
    savepoints) releases the rest as usual, so it never holds more than that many open.
    """
    dialect = engine.sync_engine.dialect
    quote = dialect.identifier_preparer.quote
    release = dialect.do_release_savepoint

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.info[_OPEN] = 0

    def take(connection: Any, name: str) -> None:
        connection.exec_driver_sql(f"SAVEPOINT {quote(name)}")

    def keep(connection: Any, name: str) -> None:
        held = connection.info.get(_OPEN, OPEN_SAVEPOINTS)
        if held >= OPEN_SAVEPOINTS:
            release(connection, name)
            return
        connection.info[_OPEN] = held + 1

    dialect.do_savepoint = take  # type: ignore[method-assign]
    dialect.do_release_savepoint = keep  # type: ignore[method-assign]


def _truncate_wal(connection: Any) -> None:
    # on the driver's connection, outside SQLAlchemy's transaction (a checkpoint inside
    # ``BEGIN IMMEDIATE`` is refused); it waits at most the busy timeout for readers
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        cursor.close()


async def forget_wal(database: Database) -> None:
    """On SQLite, copy the WAL into the database file and empty it: the WAL keeps old copies
    of changed pages (an erased member's rows) until it is restarted. Nothing elsewhere."""
    if database.dialect.name != "sqlite":
        return
    async with database.connect() as connection:
        await connection.run_sync(_truncate_wal)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
