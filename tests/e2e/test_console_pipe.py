"""``chatcrm chat`` in a pipe ends without a traceback: when its input ends, and when the
reader of its output goes away (``chatcrm chat | head``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120


def _environment(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATCRM_")}
    environment["CHATCRM_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    return environment


def _chat(tmp_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_the_end_of_the_input_ends_the_chat(tmp_path: Path) -> None:
    chat = _chat(tmp_path)
    out, err = chat.communicate(b"/help\n", timeout=TIMEOUT)
    assert chat.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert out  # it answered before it ended


def test_a_reader_that_goes_away_ends_the_chat_quietly(tmp_path: Path) -> None:
    chat = _chat(tmp_path)
    assert chat.stdout is not None
    assert chat.stdin is not None
    assert chat.stderr is not None
    assert chat.stdout.readline()  # the first line, then the reader is gone (`| head -1`)
    chat.stdout.close()
    try:
        chat.stdin.write(b"/help\n/help\n/card\n")
        chat.stdin.close()
    except BrokenPipeError:  # it may have ended already: that is fine too
        pass
    err = chat.stderr.read()
    chat.wait(timeout=TIMEOUT)
    assert b"Traceback" not in err, err.decode()
    assert b"BrokenPipeError" not in err, err.decode()
    assert chat.returncode == 0
