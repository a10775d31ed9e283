"""Staff-facing handlers: counter operations, customer view, staff and shop settings."""

from __future__ import annotations

from collections.abc import Callable

from handlers.campaigns import tracking
from handlers.router import Router
from handlers.staff import (
    adjust,
    approvals,
    branches,
    campaigns,
    customers,
    dashboard,
    inbox,
    menu,
    redeem,
    report,
    sales,
    segments,
    settings,
    setup,
    stats,
    team,
)

#: each staff module's own ``register(router)``, in menu order; add yours to this list
REGISTRARS: list[Callable[[Router], None]] = [
    sales.register,
    approvals.register,
    adjust.register,
    redeem.register,
    settings.register,
    branches.register,  # /branches, brn: buttons, the brnv flow
    setup.register,  # the first owner's set-up of an empty shop (flow only)
    customers.register,
    segments.register,
    campaigns.register,
    stats.register,
    report.register,
    dashboard.register,  # /dashboard: a sign-in link to the web console
    inbox.register,  # /inbox, ibr:/ibc: buttons, the ibrf answer flow
    tracking.register,  # the customers' promotion button, cmp:<campaign>
    team.register,  # last: a cashier's menu starts with /sale, not with team administration
]


def register(router: Router) -> None:
    """Add every staff command, button namespace and flow to ``router`` (after the customer
    ones: ``/help`` lists customer commands first)."""
    for add in REGISTRARS:
        add(router)
    if router.on_follow is not None:
        router.on_follow = menu.staff_greeting(router, router.on_follow)
