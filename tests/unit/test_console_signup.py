"""A whole sign-up typed into the console, on the real bus and database."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import App
from bot.channels.console import ConsoleChannel
from storage.models import ChannelIdentity, Member
from storage.raw_session import session_of

#: accept membership, accept marketing, name, phone, birthday (BE), gender, home branch
TYPED = "1\n1\nPloy\n081-234-5678\n01/05/2530\n1\n1\n/quit\n"


async def _chat(app: App, typed: str, tmp_path: Path) -> str:
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


async def test_typing_numbers_and_answers_signs_a_console_user_up(app: App, tmp_path: Path) -> None:
    transcript = await _chat(app, TYPED, tmp_path)
    async with app.uow() as uow:
        member = (await session_of(uow).execute(select(Member))).scalar_one()
        identity = await uow.identities.get("console", "ploy")
    assert (member.name, member.phone, str(member.birthday)) == (
        "Ploy",
        "+66812345678",
        "1987-05-01",
    )
    assert member.marketing_opt_in is True
    assert identity is not None
    assert identity.member_id == member.id
    assert member.member_code in transcript  # the member card was printed
    assert (tmp_path / f"card-{member.member_code}.png").exists()


async def test_a_returning_console_user_is_not_welcomed_as_new(app: App, tmp_path: Path) -> None:
    await _chat(app, TYPED, tmp_path)
    transcript = await _chat(app, "/quit\n", tmp_path)
    assert "ยินดีต้อนรับกลับมาค่ะ" in transcript
    async with app.uow() as uow:
        identities = (await session_of(uow).execute(select(ChannelIdentity))).scalars().all()
    assert len(identities) == 1


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_erasure_empties_the_console_media_folder_of_the_person(
    app: App, tmp_path: Path
) -> None:
    """Issue 15 item 1: the card and the /mydata export saved for them are deleted."""
    await _chat(app, TYPED, tmp_path)
    (tmp_path / "someone-else.png").write_bytes(b"x")
    await _chat(app, "/card\n/mydata\n/mydata\n/quit\n", tmp_path)
    saved = _names(tmp_path)
    assert len([name for name in saved if name.startswith("chatcrm-mydata")]) == 2
    assert any(name.startswith("card-") for name in saved)
    await _chat(app, "/deleteme\n1\n/quit\n", tmp_path)
    assert _names(tmp_path) == ["someone-else.png"]
