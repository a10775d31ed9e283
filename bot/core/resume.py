"""Where a partly sent call resumes: a count kept in a reply's ``meta``.

A call that sends several platform messages can fail after some of them went out. Where the
platform cannot recognise a repeat (Telegram has no idempotency key; LINE's reply token is
single-use and a push's key is derived from its position), the retry must start after what
arrived. The adapter marks a reply with how many of its messages (Telegram: the reply's own;
LINE: the whole call's, on its first reply) went out; the mark travels with the reply through
the outbox payload, which keeps ``meta``.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.messages import Reply


def sent_before(reply: Reply, key: str) -> int:
    """How many messages an earlier attempt sent, as marked under ``key`` (0: none)."""
    sent = reply.meta.get(key, "")
    return int(sent) if sent.isdigit() else 0


def marked(reply: Reply, key: str, sent: int) -> Reply:
    """``reply`` marked with ``sent`` messages sent under ``key``."""
    return replace(reply, meta={**reply.meta, key: str(sent)})
