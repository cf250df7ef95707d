"""The demo tenant's FAQ (demo_faq.json): 20 entries in English and 20 in Spanish, for a
web shop."""

from __future__ import annotations

import json
from pathlib import Path

from services.agents.bot.faq import FaqEntry

DEMO_FAQ = tuple(
    FaqEntry(
        faq_id=f"{language}-{entry['faq_id']}",
        language=language,
        question=entry["question"],
        answer=entry["answer"],
        intent=entry.get("intent"),
    )
    for language, entries in json.loads(
        (Path(__file__).parent / "demo_faq.json").read_text(encoding="utf-8")
    ).items()
    for entry in entries
)
