"""Visit feedback's rule: which rating is low (the chat alerts the shop, the stats count it)."""

from __future__ import annotations

from typing import Final

#: a rating of this many stars or fewer is a low one: it alerts the shop (service recovery)
LOW_RATING: Final = 2
