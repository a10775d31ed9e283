"""Which site a state-changing request to the console comes from.

The form token guards every POST of a signed-in page, but the sign-in itself has no session
yet and so no token: another site could post its own sign-in link from a victim's browser and
sign that browser into the attacker's staff session (login CSRF), where whatever the victim
types lands in the attacker's account. So every request that may change something names its
site: a browser sends ``Origin`` on a POST (or at least a ``Referer``), and one naming another
site than the console's own is refused.

The console's own site is the one the browser asked for (the request's ``Host``) or the one
``CHATCRM_PUBLIC_URL`` names (behind a proxy that rewrites ``Host``). ``Origin: null`` (a
sandboxed frame, a page of another site that hides its address) is another site: the console's
own pages send their real origin, their referrer policy being ``same-origin``.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

#: methods that change nothing: no origin is asked of them
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _site(url: str) -> tuple[str, int | None] | None:
    """(host, port) of an absolute http(s) URL or origin, the scheme's default port left out;
    None for anything else (``null``, a relative or broken address)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number, a broken IPv6 address
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname.lower(), None if port == _DEFAULT_PORTS[parts.scheme] else port


def _host_site(host: str) -> set[tuple[str, int | None]]:
    """The sites a ``Host`` header may stand for (its scheme is not in it: either default
    port when it names none)."""
    sites = {_site(f"{scheme}://{host}") for scheme in _DEFAULT_PORTS}
    return {site for site in sites if site is not None}


def foreign(request: web.Request, public_url: str | None) -> bool:
    """Whether a state-changing request names another site than the console's own.

    A request with neither ``Origin`` nor ``Referer`` is let through: older browsers, curl
    and scripts send neither, while the browsers a login-CSRF page could use send ``Origin``
    on every cross-site POST. A signed-in page's POST still needs its form token.
    """
    if request.method in SAFE_METHODS:
        return False
    named = request.headers.get("Origin") or request.headers.get("Referer")
    if named is None:
        return False
    site = _site(named)
    own = _host_site(request.host) if request.host else set()
    if public_url and (public := _site(public_url)) is not None:
        own.add(public)
    return site is None or site not in own
