"""The LINE SDK's HTTP client, without a look into the environment on every request.

line-bot-sdk opens its aiohttp session with ``trust_env=True``: before every request aiohttp
then reads ``~/.netrc`` and the proxy variables, each time on a thread of the default executor
(two thread hand-offs and a file read per message sent). The proxy for the one host a client
talks to is looked up once here instead, with the same rules (``NO_PROXY`` included); netrc
credentials never applied (every request carries the channel's bearer token, and aiohttp refuses
to combine the two).

The SDK sizes its connection pool by the machine (five connections per CPU: ten on two cores).
The replies one group commit releases go out together, one request each, and beside them the
dispatcher keeps its own requests in flight: past the pool's size each further reply waited for
a connection to come back, a whole LINE round trip, before it was sent. The pool holds as many
connections as the runners' commits release replies at once, with the dispatcher's requests.
"""

from __future__ import annotations

import contextlib
from typing import Final

from aiohttp.helpers import get_env_proxy_for_url
from linebot.v3.messaging import AsyncApiClient, Configuration
from yarl import URL

from handlers.group_commit import BATCH_LIMIT, PG_RUNNERS
from jobs.dispatcher import CONCURRENCY

#: connections a client keeps to its host at most: every reply of the batches committing at once
#: (``handlers/group_commit.py``), and the dispatcher's requests in flight beside them
CONNECTIONS: Final = BATCH_LIMIT * PG_RUNNERS + CONCURRENCY


def api_client(host: str, token: str) -> AsyncApiClient:
    """A client of the LINE API at ``host``, through the environment's proxy for it if any."""
    config = Configuration(host=host, access_token=token)
    config.connection_pool_maxsize = CONNECTIONS
    with contextlib.suppress(LookupError):
        proxy, auth = get_env_proxy_for_url(URL(host))
        if auth is not None:
            proxy = proxy.with_user(auth.login).with_password(auth.password)
        config.proxy = str(proxy)
    client = AsyncApiClient(config)
    client.rest_client.pool_manager._trust_env = False  # looked up above, once
    return client
