"""The access log without secrets: a console sign-in link's token (and a media link's) is
replaced before the line is written, and no query string is logged. A log is read by more
people, and kept longer, than a link is meant to live."""

from __future__ import annotations

import re
from typing import Final

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

_SECRET_PATHS: Final = re.compile(r"^(/admin/signin/|/media/)[^/]+")
_SECRET_PREFIXES: Final = ("/admin/signin/", "/media/")


def redacted(path: str) -> str:
    if not path.startswith(_SECRET_PREFIXES):  # most lines (the webhooks): nothing to hide
        return path
    return _SECRET_PATHS.sub(r"\1…", path)


class RedactingAccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s %.3fs',
            request.remote,
            request.method,
            redacted(request.path),
            response.status,
            response.body_length,
            time,
        )
