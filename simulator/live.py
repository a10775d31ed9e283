"""The demo's customers, live: what the shop sends them is answered while the demo runs.

In ``chatcrm demo`` (and ``chatcrm chat`` on a demo shop) the members' Telegram and LINE
accounts are served by the in-process platform fakes (:class:`simulator.inprocess.Recorder`):
the dispatcher delivers to them as it would to the platforms, so a campaign the owner sends in
the console is delivered, finished (``sent``) and measured. :class:`LiveShop` then plays the
recipients, as the simulator does but on the wall clock and in seconds: a member presses the
offer's button (the claim gives them a coupon) with their own propensity, and some come to
the counter at their home branch, where that branch's console cashier redeems the coupon and
rings up the sale. ``/stats`` fills within a minute of the send.

A reaction that fails (a refused sale, a coupon already used) is logged and skipped: the demo
never stops because a simulated customer did something odd.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from bot.bootstrap import App
from bot.core.messages import Channel, Identity, Inbound, InboundKind
from simulator.inprocess import InProcessWorld
from simulator.population import Person
from simulator.run import CAMPAIGN_ACTION, COUPON
from simulator.world import Outgoing

log = logging.getLogger(__name__)

#: seconds between a delivery and the recipient pressing its button (the wall clock)
PRESS_DELAY: Final = (2.0, 15.0)
#: seconds between a claim (or a delivery) and the visit to the counter
VISIT_DELAY: Final = (5.0, 40.0)
#: chance that a recipient who did not press comes in anyway within the demo's minutes
VISIT_ANYWAY: Final = 0.1
POLL_SECONDS: Final = 0.5
CONSOLE: Final = "console"

#: (due on the loop's clock, order, person, what, campaign)
_Plan = tuple[float, int, Person, str, int]


@dataclass
class LiveShop:
    """Plays the recipients of what the shop sends through ``world``'s fakes."""

    app: App
    world: InProcessWorld
    #: (channel, user id) → the member's hidden propensities
    people: Mapping[tuple[str, str], Person]
    #: member id → the console cashier at their home branch
    cashiers: Mapping[int, str]
    default_cashier: str
    rng: random.Random = field(default_factory=random.Random)
    coupons: dict[int, list[str]] = field(default_factory=dict)
    plans: list[_Plan] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    async def run(self, stop: asyncio.Event) -> None:
        """Read the deliveries and act on the plans that are due, until ``stop`` is set."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            self.hear(self.world.outgoing(), loop.time())
            while self.plans and self.plans[0][0] <= loop.time() and not stop.is_set():
                _, _, person, what, campaign_id = heapq.heappop(self.plans)
                try:
                    await self.act(person, what, campaign_id, loop.time())
                except Exception:
                    log.exception("a simulated customer's %s failed", what)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)

    def hear(self, delivered: list[Outgoing], now: float) -> None:
        """Each campaign message delivered to a simulated member: decide what they do."""
        for out in delivered:
            person = self.people.get((out.channel, out.user_id))
            ids = [int(m.group(1)) for a in out.actions if (m := CAMPAIGN_ACTION.match(a))]
            if person is None or not ids or out.status != 200:
                continue
            if self.rng.random() < person.p_click:
                self._plan(now + self.rng.uniform(*PRESS_DELAY), person, "press", ids[0])
            elif self.rng.random() < VISIT_ANYWAY:
                self._plan(now + self.rng.uniform(*VISIT_DELAY), person, "visit", ids[0])

    async def act(self, person: Person, what: str, campaign_id: int, now: float) -> None:
        if what == "press":
            answer = await self._event(
                person.channel, person.user_id, InboundKind.ACTION, action=f"cmp:{campaign_id}"
            )
            found = COUPON.search(answer)
            if found is not None:
                self.coupons.setdefault(person.member_id, []).append("".join(found.groups()))
            if found is not None and self.rng.random() < person.p_redeem:
                self._plan(now + self.rng.uniform(*VISIT_DELAY), person, "visit", campaign_id)
        elif what == "visit":
            await self.visit(person)

    async def visit(self, person: Person) -> None:
        """``person`` at their home branch's counter: the coupon first, then the sale."""
        cashier = self.cashiers.get(person.member_id, self.default_cashier)
        held = self.coupons.get(person.member_id)
        if held:
            await self._event(CONSOLE, cashier, InboundKind.TEXT, text=f"/redeem {held.pop(0)}")
        amount = person.basket(self.rng)
        sale = f"/sale {person.member_code} {amount} receipt=LIVE{uuid.uuid4().hex[:10].upper()}"
        await self._event(CONSOLE, cashier, InboundKind.TEXT, text=sale)

    async def _event(
        self, channel: str, user_id: str, kind: InboundKind, *, text: str = "", action: str = ""
    ) -> str:
        """One event from a simulated person; returns the text of the answer. Its id is new in
        every run (the demo's history used ids of its own, and a repeated id is ignored)."""
        inbound = Inbound(
            identity=Identity(Channel(channel), user_id),
            kind=kind,
            received_at=self.app.clock.now(),
            event_id=f"{channel}:live-{uuid.uuid4().hex}",
            text=text,
            action=action or None,
        )
        replies = await self.app.bus.handle(inbound)
        return "\n".join(reply.text for reply in replies)

    def _plan(self, at: float, person: Person, what: str, campaign_id: int) -> None:
        heapq.heappush(self.plans, (at, next(self._order), person, what, campaign_id))
