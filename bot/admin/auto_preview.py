"""The automations' messages on the console's settings page as a member gets them: the chat's
own preview (:func:`handlers.staff.settings.auto_texts.example_message`, the job's wording)
for the newest member the viewer may see (a manager of one branch: of that branch), or a sample
member when there is none, in each language."""

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


async def automation_previews(act: ConsoleAct, branch_id: int | None) -> dict[str, AutoPreview]:
    """Each automation with a message, by name, for a member of ``branch_id`` (None: any)."""
    row = await example_row(act, branch_id)
    heading = act.t("prefs.preview_for", name=row.name or "-")
    previews = {}
    for name in TEXT_AUTOMATIONS:
        texts = {}
        for locale in LOCALES:
            _, message = await example_message(act, name, locale, row)
            texts[locale] = message.text or ""
        previews[name] = AutoPreview(heading, texts)
    return previews
