"""The console's inbox: open threads, a thread's page, reply (the chat's own answer, through
the outbox), close, and the refusals (another branch's thread, a forged form, a cashier)."""

from __future__ import annotations

from bot.bootstrap import App
from bot.i18n import t
from tests.unit.admin_support import console_client, signed_in
from tests.unit.inbox_support import dispatcher, thread_messages, threads
from tests.unit.sales_support import queued, texts
from tests.unit.staff_support import audit_rows, member_chat, staff_chat


async def test_an_owner_lists_reads_answers_and_closes_a_thread(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    chat, member = await member_chat(app, name="Ploy Chaiyo")
    await chat.say("What time do you open tomorrow?")
    [thread] = await threads(app)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        listing = await (await browser.get("/admin/inbox")).text()
        assert f'href="/admin/inbox/{thread.id}"' in listing
        assert "Ploy Chaiyo" in listing
        page = await (await browser.get(f"/admin/inbox/{thread.id}")).text()
        assert "What time do you open tomorrow?" in page
        answered = await browser.post(
            f"/admin/inbox/{thread.id}/reply", {"text": "We open at 10 ✨"}
        )
        assert answered.status == 303
        assert answered.headers["Location"] == f"/admin/inbox/{thread.id}?done=sent"
        after = await (await browser.get(answered.headers["Location"])).text()
        assert t("en", "admin_inbox.done_sent") in after
        assert "We open at 10 ✨" in after
        closed = await browser.post(f"/admin/inbox/{thread.id}/close", {})
        assert closed.status == 303
        assert "No open conversations." in await (await browser.get("/admin/inbox")).text()
    # the customer's answer is the chat's own: the shop's name, in their language (Thai)
    [answer] = await queued(app, f"inbox:{thread.id}:r")
    assert answer.user_id == "m1"
    assert answer.member_id == member.id
    assert texts(answer) == t(
        "th", "inbox2.from_shop", shop=app.settings.shop_name, text="We open at 10 ✨"
    )
    disp, telegram, _ = dispatcher(app)
    await disp.drain_once()
    assert any("We open at 10 ✨" in str(p) for p in telegram.pushes)
    [stored] = await threads(app)
    assert stored.status == "closed"
    assert stored.first_response_at is not None
    messages = await thread_messages(app, thread.id)
    assert [m.direction for m in messages] == ["in", "out"]
    [replied] = await audit_rows(app, "inbox.replied")
    [closed_row] = await audit_rows(app, "inbox.closed")
    assert replied.actor == closed_row.actor == f"staff:{stored.closed_by_staff_id}"
    assert replied.channel == "web"


async def test_a_closed_thread_takes_no_answer_and_an_empty_answer_sends_nothing(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    chat, _ = await member_chat(app)
    await chat.say("hello")
    [thread] = await threads(app)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        await browser.get(f"/admin/inbox/{thread.id}")
        empty = await browser.post(f"/admin/inbox/{thread.id}/reply", {"text": "   "})
        assert empty.headers["Location"].endswith("done=empty")
        await browser.post(f"/admin/inbox/{thread.id}/close", {})
        late = await browser.post(f"/admin/inbox/{thread.id}/reply", {"text": "hi"})
        assert late.headers["Location"].endswith("done=closed")
        page = await (await browser.get(f"/admin/inbox/{thread.id}")).text()
        assert 'action="/admin/inbox/' not in page  # no reply form on a closed thread
    assert await queued(app, f"inbox:{thread.id}:r") == []


async def test_a_manager_of_another_branch_cannot_open_or_answer_the_thread(app: App) -> None:
    await staff_chat(app, "o1", "owner")
    other = await staff_chat(app, "m2", "manager", "ratchada", language_code="en")
    ours = await staff_chat(app, "m1", "manager", "asoke", language_code="en")
    chat, _ = await member_chat(app, home_branch_code="asoke")
    await chat.say("hello asoke")
    [thread] = await threads(app)
    async with console_client(app) as client:
        theirs = await signed_in(client, other)
        assert f"/admin/inbox/{thread.id}" not in await (await theirs.get("/admin/inbox")).text()
        assert (await theirs.get(f"/admin/inbox/{thread.id}")).status == 404
        forged = await theirs.post(f"/admin/inbox/{thread.id}/reply", {"text": "not mine"})
        assert forged.status == 404
        assert (await theirs.post(f"/admin/inbox/{thread.id}/close", {})).status == 404
        mine = await signed_in(client, ours)
        assert (await mine.get(f"/admin/inbox/{thread.id}")).status == 200
    assert await queued(app, f"inbox:{thread.id}:r") == []
    [stored] = await threads(app)
    assert stored.status == "open"


async def test_a_forged_form_changes_nothing(app: App) -> None:
    owner = await staff_chat(app, "o1", "owner")
    chat, _ = await member_chat(app)
    await chat.say("hello")
    [thread] = await threads(app)
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        no_token = await browser.post(f"/admin/inbox/{thread.id}/reply", {"text": "x"}, csrf=False)
        assert no_token.status == 403
        wrong = await browser.post(
            f"/admin/inbox/{thread.id}/close", {"csrf": "forged"}, csrf=False
        )
        assert wrong.status == 403
    assert await queued(app, f"inbox:{thread.id}:r") == []
    [stored] = await threads(app)
    assert stored.status == "open"


async def test_nobody_signed_out_reaches_the_inbox(app: App) -> None:
    async with console_client(app) as client:
        assert (await client.get("/admin/inbox")).status == 401
        assert (await client.post("/admin/inbox/1/close", data={})).status == 401


async def test_an_answer_the_outbox_refuses_says_so_and_keeps_nothing(app: App) -> None:
    """The answer's outbox key was queued before (it cannot be on a sound database: this
    stands for any refusal): the page says nothing was sent, and no answer is kept."""
    owner = await staff_chat(app, "o1", "owner", language_code="en")
    chat, _ = await member_chat(app, name="Ploy")
    await chat.say("Do you deliver?")
    [thread] = await threads(app)
    [asked] = await thread_messages(app, thread.id)
    async with app.uow() as uow:
        taken = f"inbox:{thread.id}:r{asked.id + 1}"
        assert await uow.outbox.enqueue(taken, "telegram", "someone", {"v": 1}, app.clock.now())
        await uow.commit()
    async with console_client(app) as client:
        browser = await signed_in(client, owner)
        answered = await browser.post(f"/admin/inbox/{thread.id}/reply", {"text": "Yes"})
        assert answered.status == 303
        assert answered.headers["Location"] == f"/admin/inbox/{thread.id}?done=not_queued"
        after = await (await browser.get(answered.headers["Location"])).text()
        assert t("en", "admin_inbox.done_not_queued") in after
    assert [m.direction for m in await thread_messages(app, thread.id)] == ["in"]
    assert [row.user_id for row in await queued(app, f"inbox:{thread.id}:r")] == ["someone"]
    assert await audit_rows(app, "inbox.replied") == []
