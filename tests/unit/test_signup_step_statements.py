"""The statements of the sign-up's intermediate steps (the presses ``su:join`` and ``su:mkt:*``,
the name, the phone, the birthday, the gender), pinned so they cannot grow back: together they
are six updates in forty of the realistic mix.

Each is the arrival's statement (the event's id recorded with it; the conversation state read
with it) and the state's one UPSERT (on SQLite sent with the commit). The gender step of a shop
with branches reads the open branches once: to decide whether to ask, and for the buttons.
(The last step's statements: ``test_signup_statements.py``.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.bootstrap import App
from bot.core.messages import Channel, Reply
from bot.i18n import t
from storage.models import ConversationState, Member
from tests.chat import Chat
from tests.unit.journey_support import add_branches, rows
from tests.unit.statement_trace import traced, trips

#: each step as the mix sends it: (how, what), the step it leaves the sign-up at
STEPS: list[tuple[str, str, str]] = [
    ("press", "su:join", "marketing"),
    ("press", "su:mkt:no", "name"),
    ("say", "Ploy", "phone"),
    ("say", "081-234-5678", "birthday"),
    ("say", "01/05/2530", "gender"),
    ("press", "su:g:female", "branch"),
]
#: what the state carries once each step is answered (the consents' times are the clock's)
ANSWERS: dict[str, dict[str, Any]] = {
    "su:join": {"membership_at": True},
    "su:mkt:no": {"marketing": False, "marketing_at": True},
    "Ploy": {"name": "Ploy"},
    "081-234-5678": {"phone": "+66812345678"},
    "01/05/2530": {"birthday": "1987-05-01"},
    "su:g:female": {"gender": "female"},
}


def _pg(app: App) -> bool:
    return app.engine.dialect.name == "postgresql"


def _along(seen: list[tuple[str, str]]) -> list[str]:
    return [" ".join(sql.split()[:3]) for how, sql in seen if how == "along"]


async def _walk(chat: Chat, upto: int) -> None:
    await chat.say("/start")
    for how, what, _ in STEPS[:upto]:
        await getattr(chat, how)(what)


async def _state(app: App, user_id: str) -> ConversationState:
    [state] = await rows(app, ConversationState, ConversationState.user_id == user_id)
    return state


def _expected_data(upto: int, now: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for _, what, _ in STEPS[: upto + 1]:
        data |= ANSWERS[what]
    for key in ("membership_at", "marketing_at"):
        if key in data:
            data[key] = now.isoformat()
    return data


def _texts(replies: list[Reply]) -> list[str]:
    return [reply.text for reply in replies]


@pytest.mark.parametrize("index", range(len(STEPS)), ids=[what for _, what, _ in STEPS])
async def test_an_intermediate_step_is_the_arrival_and_the_state(
    app: App, monkeypatch: pytest.MonkeyPatch, index: int
) -> None:
    branch_ids = await add_branches(app)
    await _walk(Chat(app, channel=Channel.LINE, user_id="U" + "z" * 32), len(STEPS))
    chat = Chat(app, channel=Channel.LINE, user_id="U" + "a" * 32)
    await _walk(chat, index)
    how, what, following = STEPS[index]
    with traced(app, monkeypatch) as seen:
        replies = await getattr(chat, how)(what)

    state = await _state(app, chat.user_id)
    assert (state.flow, state.step) == ("su", following)
    assert state.data == _expected_data(index, app.clock.now())
    assert await rows(app, Member, Member.phone == "+66812345678") == []
    question = t("th", f"signup.ask_{following}")
    if following == "marketing":
        question = t("th", "signup.marketing_notice", version="marketing-v1")
    elif following == "phone":
        question = t("th", "signup.ask_phone_typed")  # LINE: no button to share it
    assert _texts(replies)[-1] == question
    if following == "birthday":
        assert _texts(replies) == [t("th", "signup.phone_noted"), question]
    if following == "branch":  # the open branches offered, and a skip
        shown = [(button.label, button.action) for button in replies[-1].buttons]
        assert shown == [
            ("อโศก", f"su:b:{branch_ids['asoke']}"),
            ("รัชดา", f"su:b:{branch_ids['ratchada']}"),
            (t("th", "signup.skip"), "su:b:skip"),
        ]
    # the arrival; the open branches once (the gender step); the state's UPSERT (SQLite: sent
    # along with the commit)
    branches = ["SELECT"] if following == "branch" else []
    if _pg(app):
        assert trips(seen) == ["WITH", *branches, "INSERT"]
    else:
        assert trips(seen) == ["SELECT", *branches]
        assert _along(seen) == ["INSERT INTO processed_events", "INSERT INTO conversation_states"]


async def test_a_refused_answer_leaves_the_state_and_writes_nothing(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typed gender at the gender step: asked again (the refusal's words, then the question),
    in the arrival's statement and the event's record alone; then answered with the button."""
    await add_branches(app)
    chat = Chat(app, channel=Channel.LINE, user_id="U" + "a" * 32, language_code="en")
    await _walk(chat, 5)
    before = await _state(app, chat.user_id)
    with traced(app, monkeypatch) as seen:
        replies = await chat.say("female")

    after = await _state(app, chat.user_id)
    assert (after.step, after.data, after.updated_at) == ("gender", before.data, before.updated_at)
    assert _texts(replies) == [t("en", "signup.use_buttons"), t("en", "signup.ask_gender")]
    assert trips(seen) == (["WITH"] if _pg(app) else ["SELECT"])
    replies = await chat.press("su:g:female")  # the branches, by their English names
    labels = [button.label for button in replies[-1].buttons]
    assert labels == ["Asoke", "Ratchada", t("en", "signup.skip")]
