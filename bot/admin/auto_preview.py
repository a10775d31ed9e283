"""The automations' messages on the console's settings page as a member gets them: the chat's
own preview (:func:`handlers.staff.settings.auto_texts.example_message`, the job's wording)
for the shop's newest member, or a sample member when the shop has none, in each language."""

from __future__ import annotations

from dataclasses import dataclass

from bot.admin.acting import ConsoleAct
from bot.i18n import LOCALES
from handlers.staff.settings.auto_texts import example_message, example_row
from shop.settings_values import TEXT_AUTOMATIONS


@dataclass(frozen=True, slots=True)
class AutoPreview:
    """One automation's message for the example member: who, and the text per language."""

    heading: str
    texts: dict[str, str]


async def automation_previews(act: ConsoleAct) -> dict[str, AutoPreview]:
    """Each automation with a message, by name."""
    row = await example_row(act)
    heading = act.t("prefs.preview_for", name=row.name or "-")
    previews = {}
    for name in TEXT_AUTOMATIONS:
        texts = {}
        for locale in LOCALES:
            _, message = await example_message(act, name, locale, row)
            texts[locale] = message.text or ""
        previews[name] = AutoPreview(heading, texts)
    return previews
