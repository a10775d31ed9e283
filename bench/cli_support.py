"""The command line the database benchmarks share: which databases, which shop, and printing.

:mod:`bench.bigshop`, :mod:`bench.segment_count`, :mod:`bench.loop_lag` and
:mod:`bench.bulk_import` all take ``--quick`` and repeatable ``--database-url`` (default: a
SQLite file and the local PostgreSQL server), skip a server that does not answer, and print each
target as it is measured. The three that run on the big shop also take its size.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Final

from bench.data_shop import DEFAULT_PG, DEFAULT_SQLITE, ShopSize, reachable
from bench.report import Target
from storage.db import is_sqlite

#: the quick form only proves the scripts run end to end and print every target (CI, under
#: three minutes for all benchmarks), so its shop is small; the full form is the issue's shop
QUICK_MEMBERS: Final = 2_000
FULL_MEMBERS: Final = 1_000_000


def database_parser(
    module: str, description: str | None, quick_help: str
) -> argparse.ArgumentParser:
    """A parser with ``--quick`` and ``--database-url`` for ``python -m bench.<module>``."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--database-url", action="append", help="repeat for several")
    return parser


def shop_parser(module: str, description: str | None) -> argparse.ArgumentParser:
    """:func:`database_parser` plus the shop's size (``--members``, ``--sales-per-member``)."""
    parser = database_parser(module, description, f"a {QUICK_MEMBERS:,}-member shop")
    parser.add_argument("--members", type=int, help=f"default {FULL_MEMBERS:,}")
    parser.add_argument("--sales-per-member", type=float, default=10.0)
    return parser


def shop_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parsed arguments, ``members`` filled in from the form when not given."""
    args = parser.parse_args(argv)
    if args.members is None:
        args.members = QUICK_MEMBERS if args.quick else FULL_MEMBERS
    return args


def shop_size(args: argparse.Namespace) -> ShopSize:
    return ShopSize(args.members, args.sales_per_member)


async def databases(args: argparse.Namespace) -> AsyncIterator[tuple[str, str]]:
    """(base URL, dialect name) of each database to run on that answers; the others are
    reported as skipped (PostgreSQL may not run everywhere)."""
    urls: list[str] = args.database_url or [DEFAULT_SQLITE, DEFAULT_PG]
    for base_url in urls:
        if not await reachable(base_url):
            print(f"  skipped (not reachable): {base_url}")
            continue
        yield base_url, "sqlite" if is_sqlite(base_url) else "postgresql"


def shown(targets: Iterable[Target]) -> list[Target]:
    """``targets``, each printed as soon as it is known (a long run shows progress)."""
    found = list(targets)
    for target in found:
        print("  " + target.line(), flush=True)
    return found
