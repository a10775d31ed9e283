"""The operator's side of chatcrm: the command line run as a subprocess in its own directory,
with an environment holding only what the test sets (no ``CHATCRM_``, ``TELEGRAM_`` or ``LINE_``
variable of the machine leaks in, and no ``.env`` but the test's own)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

#: generous: a command on a busy 2-core machine (never asserted as a duration)
TIMEOUT = 120
OURS = ("CHATCRM_", "TELEGRAM_", "LINE_")


def environment(**variables: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    clean.update(variables)
    return clean


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def chatcrm(cwd: Path, *argv: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGV`` to the end, in ``cwd``."""
    return subprocess.run(  # noqa: S603 (this interpreter, the test's own arguments)
        [sys.executable, "-m", "bot", *argv],
        cwd=cwd,
        env=environment(**variables),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def start(cwd: Path, *argv: str, **variables: str) -> subprocess.Popen[str]:
    """``python -m bot ARGV`` left running; its output goes to ``cwd/<argv[0]>.log``."""
    log = (cwd / f"{argv[0]}.log").open("w")
    return subprocess.Popen(  # noqa: S603 (this interpreter, the test's own arguments)
        [sys.executable, "-m", "bot", *argv],
        cwd=cwd,
        env=environment(**variables),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(port: int, path: str, timeout: float = 30) -> tuple[int, str] | None:
    """``GET path``'s status and body, or None when nothing answers (within ``timeout``)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()
    except OSError:
        return None


def wait_serving(process: subprocess.Popen[str], port: int) -> None:
    """Until ``/healthz`` answers (the process ending first fails the test with its log)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve ended with {process.returncode} before it answered")
        if get(port, "/healthz") is not None:
            return
        time.sleep(0.2)
    raise AssertionError("serve never answered /healthz")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=TIMEOUT)


def scalar(database: Path, sql: str) -> object:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchone()[0]
