"""What the A/B probes (``bench.sale_probe``, ``bench.kind_probe``) share: a child run of the
probe in another checkout, a fresh PostgreSQL database per run, and the min / median / max line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url


def run_child(module: str, checkout: Path, url: str, count: int) -> dict[str, Any]:
    """``python -m MODULE --child URL COUNT`` in ``checkout`` (its code first on the path):
    the JSON object its last line prints."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(  # noqa: S603 - our own module, our own arguments
        [sys.executable, "-m", module, "--child", url, str(count)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


async def fresh_pg(url: str, suffix: str) -> str:
    """A new, empty database ``<url's database>_<suffix>`` (dropped first, with any session
    left on it), as a URL."""
    parsed = make_url(url)
    name = f"{parsed.database}_{suffix}"
    server = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database="postgres"
    )
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()
    return parsed.set(database=name).render_as_string(hide_password=False)


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"
