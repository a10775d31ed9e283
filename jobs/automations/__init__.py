"""Automations: promotions and notices that start themselves (birthday, win-back, points
expiry, tier review). Each is ``async def run_<name>(app) -> dict[str, int]``, idempotent per
member per period on its own, so the scheduler may call it as often as it likes."""
