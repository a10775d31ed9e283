"""``chatcrm status``: which channels are on, the outbox per channel, the leader, the jobs.

It reads the database the configured ``serve`` uses, so it describes that installation from any
shell (``--json`` prints what ``/healthz`` adds for the status token).
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from bot.cli_jobs import list_lines, local

if TYPE_CHECKING:
    from bot.config import Settings
    from jobs.status import Leadership, Status


def add_parser(commands: Any, command: Any) -> None:
    """Add ``status`` (``command`` is cli's helper)."""
    what = "channels, outbox depth, leader and last job runs"
    status = command("status", run_status, what)
    status.add_argument("--json", action="store_true", help="print it as JSON")


def _leader_line(leader: Leadership, settings: Settings) -> str:
    if not leader.elected:
        return "leader: no election on SQLite (the one `chatcrm serve` process runs the jobs)"
    if leader.holder is None:
        return "leader: none (no `chatcrm serve` holds the lock: jobs and sending are stopped)"
    holder = leader.holder
    where = f" from {holder.address}" if holder.address else ""
    since = local(holder.since, settings.tz)
    return f"leader: {holder.name or 'pid ' + str(holder.backend_pid)}{where}, since {since}"


def status_lines(status: Status, settings: Settings) -> list[str]:
    on = [name for name, connected in status.channels.items() if connected]
    off = [name for name, connected in status.channels.items() if not connected]
    lines = [
        f"channels on: {', '.join(on) or 'none'}"
        + (f" (not connected: {', '.join(off)})" if off else ""),
        "outbox (due now / deferred / failed):",
    ]
    if not status.outbox:
        lines.append("  empty")
    for depth in status.outbox:
        lines.append(f"  {depth.channel}: {depth.due} / {depth.deferred} / {depth.failed}")
    lines.append(_leader_line(status.leader, settings))
    lines.append("jobs:")
    lines.extend(f"  {line}" for line in list_lines(status.jobs, settings.tz))
    return lines


async def run_status(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from jobs.scheduler import JOBS
    from jobs.status import read_status, status_dict
    from storage.sqlite_file import require_shop_file

    require_shop_file(settings.database_url)  # not a new, empty shop at a wrong path
    app = await bootstrap(settings)
    try:
        status = await read_status(app, JOBS)
    finally:
        await app.close()
    if args.json:
        print(json.dumps(status_dict(status), ensure_ascii=False, indent=2))
        return 0
    for line in status_lines(status, settings):
        print(line)
    return 0
