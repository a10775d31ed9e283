"""Assembles the router from every group of handlers."""

from __future__ import annotations

from handlers import customer, staff
from handlers.router import Router


def build_router() -> Router:
    router = Router()
    customer.register(router)
    staff.register(router)
    return router
