"""Ids typed into staff commands that no row can have: a number past 64 bits (a slip of the
finger on a long receipt-like number) or a digit Python's ``str.isdigit`` accepts but ``int``
does not (``²``). The commands answer with their own refusal (not found, not startable…),
never with the shop's internal-error message."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.i18n import t
from tests.unit.staff_support import staff_chat

TOO_BIG = "9" * 20


async def test_ids_that_can_be_rows_are_refused_plainly(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    for command in ("/campaign preview 7", "/campaign send 7", "/stats 7", "/staff revoke 7"):
        await owner.say(command)
        assert owner.text() != t("en", "error.internal"), command


@pytest.mark.parametrize(
    "command",
    [
        f"/campaign preview {TOO_BIG}",
        "/campaign send \u00b2",
        f"/stats {TOO_BIG}",
        f"/stats #{TOO_BIG}",
    ],
)
async def test_an_id_no_row_can_have_is_refused_plainly(app: App, command: str) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    await owner.say(command)
    assert owner.text() != t("en", "error.internal")
