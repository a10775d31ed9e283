"""The console's own words (card title, saved files, goodbye) follow the person's /language,
in this session and the next, like the replies they frame."""

from __future__ import annotations

import io
from pathlib import Path

from bot.bootstrap import App
from bot.channels.console import ConsoleChannel
from bot.i18n import t

#: accept membership, accept marketing, name, phone, birthday (BE), gender, home branch
SIGN_UP = "1\n1\nPloy\n081-234-5678\n01/05/2530\n1\n1\n"


async def _session(app: App, typed: str, tmp_path: Path) -> str:
    out = io.StringIO()
    console = ConsoleChannel(
        app.bus,
        app.clock,
        "ploy",
        input=io.StringIO(typed),
        output=out,
        media_dir=tmp_path,
        uow=app.uow,
        locale="th",
    )
    await console.run()
    return out.getvalue()


async def test_the_console_speaks_the_chosen_language_now_and_next_time(
    app: App, tmp_path: Path
) -> None:
    transcript = await _session(app, SIGN_UP + "/language\n2\n/card\n/quit\n", tmp_path)
    after = transcript.split(t("en", "language.changed"), 1)[1]
    assert t("en", "console.card_title") in after
    assert t("th", "console.card_title") not in after
    assert t("en", "console.bye") in after
    again = await _session(app, "/quit\n", tmp_path)
    assert t("en", "console.welcome_back") in again
    assert t("th", "console.welcome_back") not in again


async def test_the_console_asks_for_a_typed_phone_without_a_share_button(
    app: App, tmp_path: Path
) -> None:
    transcript = await _session(app, "1\n1\nPloy\n/quit\n", tmp_path)
    assert t("th", "signup.ask_phone_typed") in transcript
    assert t("th", "signup.share_phone") not in transcript
