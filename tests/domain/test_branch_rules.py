"""The branch rules: the code's shape, unique codes, names, and what closing keeps."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.core.errors import Conflict, InvalidInput, NotFound
from shop import branches
from tests.unit.staff_support import audit_rows


@pytest.mark.parametrize(
    ("typed", "code"),
    [("asoke", "asoke"), ("Siam-2", "siam-2"), ("  ratchada ", "ratchada"), ("b1", "b1")],
)
def test_a_short_slug_is_a_code(typed: str, code: str) -> None:
    assert branches.parse_code(typed) == code


@pytest.mark.parametrize(
    "typed",
    ["", "a", "x" * 21, "-asoke", "อโศก", "asoke 2", "asoke_2", "asoke!", "åsoke", "a/b"],
)
def test_anything_else_is_refused_with_the_rule(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        branches.parse_code(typed)
    assert refused.value.key == "branches.bad_code"
    assert refused.value.params == {"low": 2, "high": 20}


def test_twenty_characters_is_the_longest_code() -> None:
    assert branches.parse_code("a" * 20) == "a" * 20


@pytest.mark.parametrize("typed", ["", "   ", "x" * 101])
def test_a_name_is_one_to_a_hundred_characters(typed: str) -> None:
    with pytest.raises(InvalidInput):
        branches.parse_name(typed)


async def test_adding_stores_the_branch_and_audits_it(app: App) -> None:
    async with app.uow() as uow:
        added = await branches.add_branch(uow, "Asoke", "อโศก", None, "cli", app.clock.now())
        await uow.commit()
    assert (added.code, added.name_th, added.name_en, added.is_open) == (
        "asoke",
        "อโศก",
        "อโศก",  # no English name: the Thai one stands in
        True,
    )
    [audit] = await audit_rows(app, "branch.added")
    assert audit.details["before"] is None
    assert audit.details["after"]["code"] == "asoke"


async def test_a_code_is_unique_even_once_its_branch_is_closed(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        await branches.add_branch(uow, "asoke", "อโศก", "Asoke", "cli", now)
        await branches.set_open(uow, "asoke", False, "cli", now)
        with pytest.raises(Conflict) as refused:
            await branches.add_branch(uow, "ASOKE", "อโศก 2", None, "cli", now)
        assert refused.value.key == "branches.duplicate"
        await uow.commit()
    async with app.uow() as uow:
        [only] = await branches.list_branches(uow)
        assert not only.is_open


async def test_closing_and_reopening_are_audited_once_each(app: App) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        await branches.add_branch(uow, "asoke", "อโศก", "Asoke", "cli", now)
        await branches.set_open(uow, "asoke", False, "cli", now)
        await branches.set_open(uow, "asoke", False, "cli", now)  # already closed: no change
        await branches.set_open(uow, "asoke", True, "cli", now)
        await uow.commit()
    closed = await audit_rows(app, "branch.closed")
    reopened = await audit_rows(app, "branch.reopened")
    assert [(a.details["before"], a.details["after"]) for a in closed] == [
        ({"open": True}, {"open": False})
    ]
    assert len(reopened) == 1


async def test_renaming_an_unknown_branch_is_not_found(app: App) -> None:
    async with app.uow() as uow:
        with pytest.raises(NotFound):
            await branches.rename_branch(uow, "nowhere", "x", None, "cli", app.clock.now())
