"""libpq's ``options`` in a PostgreSQL URL becomes asyncpg's server settings (e.g. the schema)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from storage.db import asyncpg_options, server_options

URL = "postgresql+asyncpg://shop@127.0.0.1:5432/crm"


def test_an_asyncpg_url_hands_its_options_over_as_server_settings() -> None:
    url = make_url(f"{URL}?options=-csearch_path%3Dshop_a%20-c%20statement_timeout%3D5s")
    bare, settings = asyncpg_options(url)
    assert bare.render_as_string(hide_password=False) == URL
    assert settings == {"search_path": "shop_a", "statement_timeout": "5s"}


def test_other_drivers_keep_their_options_in_the_url() -> None:
    url = make_url("postgresql+psycopg://shop@127.0.0.1/crm?options=-csearch_path%3Dshop_a")
    assert asyncpg_options(url) == (url, {})


def test_long_option_names_are_accepted_with_dashes_as_underscores() -> None:
    assert server_options("--search-path=shop_b") == {"search_path": "shop_b"}


@pytest.mark.parametrize("options", ["-d5", "-c search_path", "search_path=x"])
def test_options_that_are_not_settings_are_refused(options: str) -> None:
    with pytest.raises(ValueError, match="connection option"):
        server_options(options)
