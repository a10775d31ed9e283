"""The LINE SDK's HTTP client, without a look into the environment on every request.

line-bot-sdk opens its aiohttp session with ``trust_env=True``: before every request aiohttp
then reads ``~/.netrc`` and the proxy variables, each time on a thread of the default executor
(two thread hand-offs and a file read per message sent). The proxy for the one host a client
talks to is looked up once here instead, with the same rules (``NO_PROXY`` included); netrc
credentials never applied (every request carries the channel's bearer token, and aiohttp refuses
to combine the two).
"""

from __future__ import annotations

import contextlib

from aiohttp.helpers import get_env_proxy_for_url
from linebot.v3.messaging import AsyncApiClient, Configuration
from yarl import URL


def api_client(host: str, token: str) -> AsyncApiClient:
    """A client of the LINE API at ``host``, through the environment's proxy for it if any."""
    config = Configuration(host=host, access_token=token)
    with contextlib.suppress(LookupError):
        proxy, auth = get_env_proxy_for_url(URL(host))
        if auth is not None:
            proxy = proxy.with_user(auth.login).with_password(auth.password)
        config.proxy = str(proxy)
    client = AsyncApiClient(config)
    client.rest_client.pool_manager._trust_env = False  # looked up above, once
    return client
