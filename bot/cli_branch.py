"""``chatcrm branch add CODE "ชื่อ" ["English name"]`` and ``chatcrm branch list``.

For operators setting up a shop from a shell, and before an import (``chatcrm import sales``
matches a file's branch cells against the codes and names listed here). The rules are the
chat's (:mod:`shop.branches`): a short slug as code, unique, a Thai name, the English one
optional. Refusals are one line in English with exit code 2. The change is audited with the
actor ``cli``. Only the database is opened: no channel, no chat handler is loaded.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from bot.config import Settings
from bot.core.errors import CommandError

if TYPE_CHECKING:  # the database layer is imported only when the command runs
    from storage.uow import UnitOfWorkFactory

Work = Callable[["UnitOfWorkFactory", datetime], Awaitable[list[str]]]

CLI_ACTOR: Final = "cli"


class BranchError(CommandError):
    """The branch cannot be added as asked; the message says why (exit code 2)."""


def add_parser(commands: Any, command: Any) -> None:
    """Add ``branch add|list`` to the top-level subparsers (``command`` is cli's helper)."""
    branch = commands.add_parser("branch", help="the shop's branches")
    actions = branch.add_subparsers(dest="branch_command", metavar="ACTION", required=True)
    add = command("add", run_add, "add a branch (code, Thai name, English name)", at=actions)
    add.add_argument("code", metavar="CODE", help="2-20 of a-z, 0-9 and -, like asoke")
    add.add_argument("name_th", metavar="THAI_NAME")
    add.add_argument("name_en", metavar="ENGLISH_NAME", nargs="?", default=None)
    command("list", run_list, "list the branches, open and closed", at=actions)


def _english(error: Exception) -> str:
    from bot.core.errors import DomainError
    from bot.i18n import t

    if isinstance(error, DomainError):
        return t("en", error.key, **error.params)
    raise error


async def add_lines(
    uow_factory: UnitOfWorkFactory, now: datetime, code: str, name_th: str, name_en: str | None
) -> list[str]:
    """Add the branch; what to print. Raises :class:`BranchError` on a refused value."""
    from bot.core.errors import DomainError
    from shop.branches import add_branch

    async with uow_factory() as uow:
        try:
            added = await add_branch(uow, code, name_th, name_en, CLI_ACTOR, now)
        except DomainError as error:
            raise BranchError(_english(error)) from None
        await uow.commit()
    return [f"Added branch {added.code}: {added.name_th} / {added.name_en}"]


async def list_lines(uow_factory: UnitOfWorkFactory) -> list[str]:
    from shop.branches import list_branches

    async with uow_factory() as uow:
        every = await list_branches(uow)
    if not every:
        return ['No branches yet. Add one: chatcrm branch add CODE "ชื่อ" "English name"']
    width = max(len(branch.code) for branch in every)
    return [
        f"{b.code:<{width}}  {'open  ' if b.is_open else 'closed'}  {b.name_th} / {b.name_en}"
        for b in every
    ]


async def _with_database(settings: Settings, work: Work) -> list[str]:
    from bot.core.clock import SystemClock
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade
    from storage.uow import UnitOfWorkFactory

    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        await upgrade(engine)  # a fresh database gets its tables, as `serve` would give them
        lines = await work(UnitOfWorkFactory(session_factory(engine)), SystemClock().now())
    finally:
        await engine.dispose()
    return lines


async def run_add(args: argparse.Namespace, settings: Settings) -> int:
    async def work(factory: UnitOfWorkFactory, now: datetime) -> list[str]:
        return await add_lines(factory, now, args.code, args.name_th, args.name_en)

    for line in await _with_database(settings, work):
        print(line)
    return 0


async def run_list(_: argparse.Namespace, settings: Settings) -> int:
    async def work(factory: UnitOfWorkFactory, _now: datetime) -> list[str]:
        return await list_lines(factory)

    for line in await _with_database(settings, work):
        print(line)
    return 0
