"""The set-based launch against the per-member path it replaced: the same hold-out draw, the
same exclusions, the same audience and outbox rows, on SQLite and PostgreSQL; and a launch that
fails part-way, started again, enrols each member once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Integer, delete, literal, select, update

from bot.bootstrap import App
from bot.core.messages import Channel
from shop.campaigns import launch
from shop.campaigns.enrol import enrol, read_audience
from shop.campaigns.launch import segment_env
from shop.contact_policy import eligibility, load_policy
from shop.loyalty import add_months, load_rules
from storage.holdout import bucket_sql, holdout_bucket
from storage.models import CampaignMember, Member, OutboxMessage
from storage.raw_session import session_of
from tests.domain.campaign_support import StagingKilled, launch_now, make_campaign
from tests.unit.staff_support import block_chat, make_member
from wording.campaigns import CampaignWording

#: one message the same for everyone of a language, one rendered member by member
UNIFORM = "{coupon} at {shop}, today only"
PERSONAL = "Khun {name}, you have {points} points: {coupon}"


async def test_sql_holdout_draw_is_the_python_draw(app: App) -> None:
    numbers = select(literal(1, Integer).label("id")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.id + 1).where(numbers.c.id < 3000))
    async with app.uow() as uow:
        session = session_of(uow)
        dialect = session.get_bind().dialect.name
        for campaign_id in (1, 7, 4242, 2**31 - 1):
            rows = await session.execute(
                select(numbers.c.id, bucket_sql(dialect, campaign_id, numbers.c.id))
            )
            found = {int(m): int(b) for m, b in rows.all()}
            assert len(found) == 3000
            assert found == {m: holdout_bucket(campaign_id, m) for m in range(1, 3001)}


async def _population(app: App) -> list[int]:
    """Members covering every exclusion reason, both channels and languages, two accounts."""
    ids = []
    for n in range(24):
        channel = Channel.LINE if n % 3 else Channel.TELEGRAM
        member = await make_member(
            app, f"M{n}", f"08{n:08d}", user_id=f"u{n}", channel=channel, points=n,
            locale="en" if n % 2 else "th", marketing=n % 7 != 3,
        )  # fmt: skip
        ids.append(member.id)
    unreachable = await make_member(app, "Gone", "0899999990", user_id=None)
    blocked = await make_member(app, "Blocked", "0899999991", user_id="blocked")
    stopped = await make_member(app, "Stopped", "0899999992", user_id="stopped")
    capped = await make_member(app, "Capped", "0899999993", user_id="capped")
    two = await make_member(app, "Two", "0899999994", user_id="two-tg")
    erased = await make_member(app, "Erased", "0899999995", user_id="erased")
    now = app.clock.now()
    async with app.uow() as uow:
        session = session_of(uow)
        await session.execute(
            update(Member).where(Member.id == stopped.id).values(marketing_opt_in=False)
        )
        await session.execute(update(Member).where(Member.id == erased.id).values(erased_at=now))
        line = await uow.identities.touch("line", "two-line", now + timedelta(minutes=5), "Two")
        line.member_id = two.id
        for k in range(3):
            await uow.outbox.enqueue(
                f"test:{capped.id}:{k}", "telegram", "capped", {"v": 1, "replies": []}, now,
                member_id=capped.id, promotional=True,
            )  # fmt: skip
        await uow.commit()
    await block_chat(app, "blocked")
    return [*ids, unreachable.id, blocked.id, stopped.id, capped.id, two.id, erased.id]


async def _snapshot(app: App, campaign_id: int) -> tuple[list[Any], list[Any]]:
    async with app.uow() as uow:
        session = session_of(uow)
        audience = await session.execute(
            select(
                CampaignMember.member_id,
                CampaignMember.group,
                CampaignMember.channel,
                CampaignMember.excluded,
                CampaignMember.outbox_key,
                CampaignMember.enrolled_at,
            )
            .where(CampaignMember.campaign_id == campaign_id)
            .order_by(CampaignMember.member_id)
        )
        box = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.startswith(f"cmp:{campaign_id}:"))
            .order_by(OutboxMessage.member_id)
        )
        messages = []
        for m in box.scalars():
            # the LINE sender derives each request's X-Line-Retry-Key from it
            assert uuid.UUID(str(m.retry_key)).int != 0
            messages.append(
                (m.dedupe_key, m.channel, m.user_id, m.member_id, m.promotional, m.payload,
                 m.status, m.attempts, m.not_before, m.created_at, m.priority, m.sent_at)
            )  # fmt: skip
    return [tuple(row) for row in audience.all()], messages


async def _forget(app: App, campaign_id: int) -> None:
    async with app.uow() as uow:
        session = session_of(uow)
        await session.execute(
            delete(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(f"cmp:{campaign_id}:"))
        )
        await session.execute(
            delete(CampaignMember).where(CampaignMember.campaign_id == campaign_id)
        )
        await uow.commit()


async def _per_member(app: App, campaign_id: int, page_size: int) -> dict[str, Any]:
    """The launch's enrolment as it was before it was set-based: the audience read page by
    page into Python, each member's draw and rows built there (:func:`enrol`)."""
    now = app.clock.now()
    counts: dict[str, Any] = {"queued": 0, "holdout": 0, "excluded": {}}
    async with app.uow() as uow:
        campaign = await uow.campaigns.get(campaign_id)
        assert campaign is not None
        env = await segment_env(uow, now, app.settings.tz)
        _, members = await launch.resolve_segment(uow, campaign.rule, env)
        policy, rules = await load_policy(uow.settings), await load_rules(uow)
        messages = CampaignWording().for_campaign(campaign, rules, now, env.tz)
        since = add_months(now, -rules.tier_window_months) if messages.needs_spend else None
        last = 0
        while ids := await uow.audiences.page(members, last, page_size):
            last = ids[-1]
            page = await read_audience(
                uow, env, uow.audiences.members(ids), policy, spend_since=since
            )
            done = await enrol(uow, campaign, page, message=messages, now=now)
            counts["queued"] += done.queued
            counts["holdout"] += done.holdout
            for reason, n in done.excluded.items():
                counts["excluded"][reason] = counts["excluded"].get(reason, 0) + n
        await uow.commit()
    return counts


@pytest.mark.parametrize("message", [UNIFORM, PERSONAL])
async def test_set_based_launch_writes_what_the_per_member_path_writes(
    app: App, message: str
) -> None:
    ids = await _population(app)
    campaign = await make_campaign(app, holdout_pct=30, message=message)
    result = await launch_now(app, campaign.id, batch_size=7)
    audience, messages = await _snapshot(app, campaign.id)
    await _forget(app, campaign.id)
    before = await _per_member(app, campaign.id, page_size=5)
    assert (audience, messages) == await _snapshot(app, campaign.id)
    # the population covers every reason, both groups, both channels and languages
    assert {row[3] for row in audience} == {
        None, "no_consent", "stopped", "unreachable", "frequency_cap"
    }  # fmt: skip
    assert {row[1] for row in audience} == {"holdout", "recipient"}
    assert {row[2] for row in audience if row[2]} == {"line", "telegram"}
    assert len({str(m[5]) for m in messages}) >= 2
    assert [row[0] for row in audience] == ids[:-1]  # the erased member is nobody's audience
    two = next(row for row in audience if row[0] == ids[-2])
    assert two[2] == "line"  # the account seen last
    assert result.started
    assert (result.queued, result.holdout) == (before["queued"], before["holdout"])
    assert dict(result.excluded) == before["excluded"]
    assert result.queued == len(messages)


async def test_a_launch_failing_part_way_then_started_again_enrols_each_member_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(12):
        await make_member(app, f"M{n}", f"08{n:08d}", user_id=f"u{n}")
    campaign = await make_campaign(app, holdout_pct=20, message=UNIFORM)
    killed = StagingKilled(monkeypatch, 3, "killed")
    with pytest.raises(RuntimeError):
        await launch_now(app, campaign.id, batch_size=5)
    assert killed.pages == 3
    killed.heal()
    assert (await launch_now(app, campaign.id, batch_size=5)).started
    assert not (await launch_now(app, campaign.id, batch_size=5)).started
    audience, messages = await _snapshot(app, campaign.id)
    assert len(audience) == len({row[0] for row in audience}) == 12
    recipients = [row[0] for row in audience if row[1] == "recipient"]
    assert sorted(m[3] for m in messages) == recipients


async def test_each_members_account_is_the_same_looked_up_or_ranked(app: App) -> None:
    ids = await _population(app)
    async with app.uow() as uow:
        env = await segment_env(uow, app.clock.now(), app.settings.tz)
        policy = await load_policy(uow.settings)
        members = select(Member.id).where(Member.id.in_(ids))
        found = []
        for lookup in (False, True):
            query = eligibility(env, members, policy=policy, lookup=lookup)
            rows = await session_of(uow).execute(query.order_by(query.selected_columns[0]))
            found.append([tuple(row) for row in rows.all()])
    assert found[0] == found[1]
    assert len(found[0]) == len(ids) - 1  # the erased member is in neither
