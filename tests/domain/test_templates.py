"""Campaign templates: only whitelisted placeholders, refused at save time, rendered safely."""

from __future__ import annotations

import pytest

from shop.campaigns.templates import TemplateError, validate_template
from wording.templates import render_template


@pytest.mark.parametrize(
    "text",
    [
        "Hi {name.__class__}",
        "Hi {name[0]}",
        "Hi {name!r}",
        "You have {points:>10}",
        "Hi {nmae}",
        "Hi {}",
        "Hi {0}",
        "Hi { name }",
        "Hi {name",
        "Hi name}",
        "Hi {na{me}",
    ],
)
def test_template_with_anything_but_a_whitelisted_placeholder_is_refused(text: str) -> None:
    with pytest.raises(TemplateError):
        validate_template(text)


def test_refusal_names_the_offending_placeholder_and_where_it_is() -> None:
    with pytest.raises(TemplateError) as caught:
        validate_template("Khun {name}, {name.__class__}")
    assert caught.value.word == "{name.__class__}"
    assert caught.value.position == len("Khun {name}, ")


def test_empty_template_is_refused() -> None:
    with pytest.raises(TemplateError):
        validate_template("   ")


def test_every_whitelisted_placeholder_renders_its_value() -> None:
    text = "{name}|{points}|{tier}|{branch}|{coupon}|{expires}|{shop}"
    values = {
        "name": "Ploy",
        "points": "120",
        "tier": "Gold",
        "branch": "Asoke",
        "coupon": "Buy 1 get 1",
        "expires": "14 Jun 2024",
        "shop": "Cha Tea",
    }
    assert (
        render_template(text, values, "en") == "Ploy|120|Gold|Asoke|Buy 1 get 1|14 Jun 2024|Cha Tea"
    )


def test_doubled_braces_are_literal_braces() -> None:
    assert render_template("{{name}} is {name}", {"name": "Ploy"}, "en") == "{name} is Ploy"


def test_missing_name_renders_a_polite_default_in_each_language() -> None:
    assert render_template("Hi {name}!", {}, "en") == "Hi there!"
    assert render_template("สวัสดีคุณ{name}", {"name": None}, "th") == "สวัสดีคุณลูกค้า"


def test_a_value_that_looks_like_a_placeholder_is_not_rendered_again() -> None:
    rendered = render_template("Hi {name}", {"name": "{points} {name.__class__}"}, "en")
    assert rendered == "Hi {points} {name.__class__}"


def test_thai_text_and_emoji_survive_rendering() -> None:
    text = "คุณ{name} 🧋 ซื้อ 1 แถม 1 ถึง {expires}"
    assert render_template(text, {"name": "พลอย", "expires": "14 มิ.ย. 2567"}, "th") == (
        "คุณพลอย 🧋 ซื้อ 1 แถม 1 ถึง 14 มิ.ย. 2567"
    )
