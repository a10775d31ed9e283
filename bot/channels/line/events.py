"""The events of a LINE webhook body: the signature first, then the plain reader or the SDK's.

:class:`Events` checks ``X-Line-Signature`` exactly as line-bot-sdk's ``WebhookParser``
does (HMAC-SHA256 of the body with the channel secret, base64, compared in constant time), then
reads a body of common events without the SDK's models (:mod:`bot.channels.line.plain`) and
hands any other body to the SDK's parser, which checks the signature again and reads it as
before. The errors are the parser's: :class:`InvalidSignatureError` for a forged or missing
signature, ``ValueError`` / ``KeyError`` / ``TypeError`` for a body that is not UTF-8 JSON or
events the SDK cannot validate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError

from bot.channels.line.plain import common_events


class Events:
    """Reads the events of signed webhook bodies for one channel secret."""

    def __init__(self, channel_secret: str) -> None:
        self._secret = channel_secret.encode("utf-8")
        self._parser = WebhookParser(channel_secret)

    def signed(self, text: str, signature: str) -> bool:
        """The SDK's ``SignatureValidator.validate``: the signature of ``text`` (the body as
        text, encoded back to its bytes) compared with ``signature`` in constant time."""
        digest = hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).digest()
        return hmac.compare_digest(signature.encode("utf-8"), base64.b64encode(digest))

    def __call__(self, body: bytes, signature: str) -> list[Any]:
        """The events of ``body``: :class:`~bot.channels.line.plain.PlainEvent` for a body of
        common events, else the SDK's event models."""
        text = body.decode("utf-8")  # not UTF-8: a 400, before the signature, as before
        if not self.signed(text, signature):
            raise InvalidSignatureError("Invalid signature. signature=" + signature)
        common = common_events(json.loads(text))
        if common is not None:
            return common
        return list(self._parser.parse(text, signature))
