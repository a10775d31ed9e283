"""``chatcrm`` (and ``python -m bot``): the command line of SPEC §4.1.

Exit codes: 0 done; 1 the platform refused (setup calls); 2 bad usage or bad configuration,
always as one clear line, never a traceback; 130 interrupted.

Start-up stays cheap: this module imports only the standard library at the top, and a command
group defined elsewhere (:data:`EXTENSIONS`) is imported only when its own command is run, so
``chatcrm --help``, ``staff``, ``import``, ``jobs`` and ``status`` never load the chat SDKs
(aiogram, linebot) or matplotlib. Commands defined here import what they need when they run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bot.core.errors import ChannelError, CommandError, CredentialsRejected

if TYPE_CHECKING:
    from bot.config import Settings

Command = Callable[[argparse.Namespace, "Settings"], Coroutine[Any, Any, int]]

#: command groups defined in other modules: (module, {command: help}). The module's
#: ``add_parser(commands, command)`` adds them for real, imported only when one of its commands
#: is on the command line; otherwise the help line alone is listed.
EXTENSIONS: Final[tuple[tuple[str, dict[str, str]], ...]] = (
    ("bot.cli_staff", {"staff": "staff accounts"}),
    ("bot.cli_branch", {"branch": "the shop's branches"}),
    (
        "bot.import_cli",
        {"import": "bulk import from CSV files", "export": "bulk export to CSV files"},
    ),
    ("bot.cli_jobs", {"jobs": "the scheduled jobs: list them, run one now"}),
    ("bot.cli_status", {"status": "channels, outbox depth, leader and last job runs"}),
    ("simulator.cli", {"simulate": "run a simulated shop and compare /stats with truth"}),
)


class ConfigError(CommandError):
    """The environment or ``.env`` holds a value chatcrm cannot use."""


def load_settings() -> Settings:
    from zoneinfo import ZoneInfoNotFoundError

    from pydantic import ValidationError

    from bot.config import Settings
    from storage.db import url_problem

    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{where}: {first['msg']} (got {first.get('input')!r})") from None
    except ZoneInfoNotFoundError as error:
        raise ConfigError(f"CHATCRM_TIMEZONE: {error.args[0]}") from None
    except ValueError as error:
        raise ConfigError(str(error)) from None
    # before any command opens it: SQLAlchemy's own refusal would be a traceback
    if (problem := url_problem(settings.database_url)) is not None:
        raise ConfigError(f"CHATCRM_DATABASE_URL: {problem}")
    return settings


async def _db_upgrade(_: argparse.Namespace, settings: Settings) -> int:
    from storage.db import create_engine, shown_url
    from storage.migrate import current_revision, upgrade

    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        before = await upgrade(engine)  # read under the migration lock
        after = await current_revision(engine)
    finally:
        await engine.dispose()
    where = shown_url(settings.database_url)
    if before == after:
        print(f"{where}: already at the latest schema (revision {after})")
    else:
        print(f"{where}: upgraded from revision {before or 'none'} to {after}")
    return 0


async def _serve(_: argparse.Namespace, settings: Settings) -> int:
    from bot import server
    from storage.sole_server import sole_server

    def listening() -> None:  # not before: a refused start must not say it serves
        print(
            f"chatcrm serving on http://{settings.host}:{settings.port} (Ctrl-C stops)", flush=True
        )

    with sole_server(settings.database_url):  # a second server on a SQLite file is refused
        await server.serve(settings, on_listening=listening)
    return 0


async def _polling(_: argparse.Namespace, settings: Settings) -> int:
    from bot import server
    from storage.sole_server import sole_server

    def started() -> None:
        print("chatcrm polling Telegram (Ctrl-C stops)", flush=True)

    with sole_server(settings.database_url):
        await server.polling(settings, on_started=started)
    return 0


async def _console_user(args: argparse.Namespace, database_url: str) -> str:
    """The console user to chat as; for a staff role, make sure it is staff (demo shops)."""
    from bot.core.clock import SystemClock
    from bot.demo import DemoError, default_console_user, ensure_console_staff

    user: str = args.user or default_console_user(args.role)
    if args.role != "customer":
        try:
            print(await ensure_console_staff(database_url, user, args.role, SystemClock().now()))
        except DemoError as error:
            raise CommandError(str(error)) from None
    return user


async def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot import server
    from bot.demo import demo_platforms, demo_seed, demo_settings

    user = await _console_user(args, settings.database_url)
    seed = await demo_seed(settings.database_url)
    if seed is None:
        await server.chat(settings, user)
    else:  # a demo shop: its members' platforms are served here too
        shop = demo_settings(settings, settings.database_url)
        await server.chat(shop, user, platforms=demo_platforms(seed))
    return 0


def _summary_table(shop: Any, database: Path) -> Any:
    """What the demo build made, as a rich table."""
    from rich.table import Table

    from bot.demo_history import SHOP_NAME

    summary = shop.summary
    title = "Demo shop (reused)" if shop.reused else "Demo shop"
    table = Table(title=title, show_header=False)
    table.add_column("")
    table.add_column("", justify="right")
    for label, value in (
        ("Shop", " / ".join(SHOP_NAME.values())),
        ("Branches", f"{summary.branches:,}"),
        ("Members", f"{summary.members:,}"),
        ("Sales", f"{summary.sales:,}"),
        ("Points entries", f"{summary.points_entries:,}"),
        ("Lapsed members (60+ days)", f"{summary.lapsed_members:,}"),
        ("Built in", f"{summary.seconds:.1f} s"),
        ("Database", str(database)),
    ):
        table.add_row(label, value)
    if shop.counter is not None:
        table.add_row("Staff (console users)", f"{shop.counter.staff:,}")
        table.add_row("Rewards", f"{shop.counter.rewards:,}")
        table.add_row("Coupons (redeemed)", f"{shop.counter.coupons:,} ({shop.counter.redeemed:,})")
    return table


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from bot import server
    from bot.core.clock import SystemClock
    from bot.demo import DemoError, DemoParams, build_demo, demo_platforms, demo_settings

    console = Console()
    params = DemoParams(members=args.members, months=args.months, seed=args.seed)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(f"Building the demo shop at {args.database}", total=params.members)

        def progress(_stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            shop = await build_demo(
                args.database,
                params,
                now=SystemClock().now(),
                progress=progress,
                reset=args.reset,
            )
        except DemoError as error:
            raise CommandError(str(error)) from None
        bar.update(task, completed=params.members)
    await _show_demo(console, shop, args.database)
    if args.no_chat:
        return 0
    user = await _console_user(args, shop.database_url)
    served = demo_platforms(params.seed)
    await server.chat(demo_settings(settings, shop.database_url), user, platforms=served)
    return 0


async def _show_demo(console: Any, shop: Any, database: Path) -> None:
    """What the demo shop holds, members to try, and how other commands reach it."""
    from rich.table import Table

    from bot.demo import sample_members

    console.print(_summary_table(shop, database))
    samples = Table(title="Members to try /sale, /customer and /redeem with", show_header=True)
    for column in ("name", "phone", "member code", "points"):
        samples.add_column(column)
    for sample in await sample_members(shop.database_url):
        samples.add_row(sample.name, sample.phone, sample.code, f"{sample.points:,}")
    console.print(samples)
    console.print(
        "Other commands on this shop (import, export, staff …): set "
        f"CHATCRM_DATABASE_URL={shop.database_url}",
        soft_wrap=True,
    )


async def _telegram_setup(_: argparse.Namespace, settings: Settings) -> int:
    from bot import server

    for line in await server.setup_telegram(settings):
        print(line)
    return 0


async def _line_setup(_: argparse.Namespace, settings: Settings) -> int:
    from bot import server

    for line in await server.setup_line(settings):
        print(line)
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _wanted(argv: Sequence[str]) -> str | None:
    """The command named on the command line (the top level has no options but --help)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; of the :data:`EXTENSIONS`, only the module of the command in ``argv`` is
    imported (``None``: every module, for a complete parser)."""
    parser = argparse.ArgumentParser(
        prog="chatcrm", description="Chat-native CRM and loyalty bot for LINE and Telegram."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, run: Command, help: str, at: Any = commands) -> Any:
        sub = at.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    command("serve", _serve, "serve the webhooks of every configured channel, with jobs")
    command("polling", _polling, "Telegram long polling instead of a webhook, with jobs")
    chat = command("chat", _chat, "chat with the bot in this terminal (no tokens needed)")
    demo = command("demo", _demo, "build a demo shop, then chat with it as its owner")
    for sub, role in ((chat, "customer"), (demo, "owner")):
        sub.add_argument(
            "--as",
            dest="role",
            default=role,
            choices=("customer", "owner", "manager", "cashier"),
            help=f"who you are in the chat (default {role}; staff roles need a demo shop "
            "or an account claimed with /claim)",
        )
        sub.add_argument(
            "--user",
            help="your console user id (default: console; owner, manager, cashier-asoke for "
            "staff roles)",
        )
    demo.add_argument("--members", type=_positive, default=2000)
    demo.add_argument("--months", type=_positive, default=6)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--database", type=Path, default=Path("chatcrm-demo.db"), metavar="PATH")
    demo.add_argument("--no-chat", action="store_true", help="build the shop, do not chat")
    demo.add_argument(
        "--reset",
        action="store_true",
        help="build the demo shop anew (by default an existing one is reused as it was left)",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    command("upgrade", _db_upgrade, "apply the database migrations", at=db_commands)

    for name, run in (("telegram", _telegram_setup), ("line", _line_setup)):
        label = "Telegram" if name == "telegram" else "LINE"
        platform = commands.add_parser(name, help=f"{label} channel administration")
        actions = platform.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)
        what = "webhook and command menus" if name == "telegram" else "the rich menu"
        command("setup", run, f"register {what}", at=actions)
    wanted = _wanted(argv) if argv is not None else None
    for module, helps in EXTENSIONS:
        if argv is None or wanted in helps:
            importlib.import_module(module).add_parser(commands, command)
        else:
            for name, help in helps.items():
                commands.add_parser(name, help=help, description=help)
    return parser


def _database_failure(error: Exception, settings: Settings | None) -> str | None:
    """One line for a database that cannot be reached or opened, else None (not ours)."""
    dbapi = sys.modules.get("sqlalchemy.exc")  # loaded by any command that opened a database
    wrapped = dbapi is not None and isinstance(error, dbapi.DBAPIError)
    # a host name that does not resolve fails in the resolver, not in a connection
    unreachable = isinstance(error, ConnectionError | socket.gaierror)
    if settings is None or not (wrapped or unreachable):
        return None
    from storage.db import shown_url

    cause = getattr(error, "orig", None) or error
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return f"the database does not answer ({shown_url(settings.database_url)}): {reason}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # usage errors (2) and --help (0) print before raising
        return int(done.code) if isinstance(done.code, int) else 2
    logging.basicConfig(
        level=logging.INFO if args.run in (_serve, _polling) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings: Settings | None = None
    try:
        settings = load_settings()
        if args.run in (_serve, _polling):
            from bot import logging_context

            logging_context.configure(logging.INFO, settings.log_format)
        run: Command = args.run
        return asyncio.run(run(args, settings))
    except CommandError as error:
        print(f"chatcrm: {error}", file=sys.stderr)
        return 2
    except ChannelError as error:
        fix = f" (check {error.setting})" if isinstance(error, CredentialsRejected) else ""
        print(f"chatcrm: the platform refused: {error}{fix}", file=sys.stderr)
        return 1
    except Exception as error:
        if (line := _database_failure(error, settings)) is None:
            raise
        print(f"chatcrm: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
