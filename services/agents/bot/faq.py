"""A tenant's FAQ and the search over it: BM25 (the bm25s library) on accent- and
case-free words, common function words left out.

The confidence of a match is its BM25 score over the score the entry's own question
would get: 1 when the customer asked it in the entry's words, near 0 when only a
rare word is shared. Raw BM25 scores grow with the FAQ's size and wording; this ratio
lets one threshold (OMNIROUTE_BOT_CONFIDENCE) serve every tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import bm25s
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.agents.bot.dialogue import Match
from shared.db.models import BotFaq
from shared.language import ENGLISH, SPANISH, words
from shared.types import ItemId, Text

STOPWORDS = (
    ENGLISH
    | SPANISH
    | {"do", "does", "what", "your", "you", "are", "we", "our", "mi", "su", "sus", "tu"}
)


class FaqSpec(BaseModel):
    language: Literal["en", "es"]
    question: Text = Field(min_length=1, max_length=1000)
    answer: Text = Field(min_length=1, max_length=5000)
    intent: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[a-z0-9_]+$",
        description="An intent the router detects (opening_hours, password_reset, "
        "order_tracking, invoice, address_change, or a tenant's own): a first question "
        "the router found it in gets this answer, however it was worded.",
    )


class FaqEntry(FaqSpec):
    faq_id: ItemId


def entry_of(row: BotFaq) -> FaqEntry:
    return FaqEntry.model_validate(row, from_attributes=True)


_SUFFIXES = ("ing", "es", "ed", "s")


def _stem(word: str) -> str:
    """A light stemmer for both languages: 'opening' and 'open', 'hours' and 'hour',
    'pedidos' and 'pedido' meet; short words stay as they are."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _terms(text: str) -> list[str]:
    return [_stem(word) for word in words(text) if word not in STOPWORDS]


def best_match(
    entries: Sequence[FaqEntry], question: str, intents: Sequence[str] = ()
) -> Match | None:
    """The entry that answers `question`. One for an intent the router found in it
    (`intents`) answers outright: the router's lexicons know that "a que hora abris" asks
    for the opening hours, which BM25 can only guess from the words it shares with
    "cual es vuestro horario"."""
    for intent in intents:
        for entry in entries:
            if entry.intent == intent:
                return Match(entry.faq_id, entry.answer, 1.0)
    asked = _terms(question)
    # The question counts three times the answer: it says what the entry is about.
    documents = [_terms(f"{e.question} {e.question} {e.question} {e.answer}") for e in entries]
    if not asked or not any(documents):
        return None
    index = bm25s.BM25()
    index.index(documents, show_progress=False)
    scores = index.get_scores(asked)
    best = int(scores.argmax())
    if scores[best] <= 0:
        return None
    own = float(index.get_scores(_terms(entries[best].question))[best])
    confidence = min(1.0, float(scores[best]) / own) if own > 0 else 0.0
    return Match(entries[best].faq_id, entries[best].answer, confidence)


async def entries_of(
    sessions: async_sessionmaker[AsyncSession], tenant: str, language: str | None = None
) -> list[FaqEntry]:
    query = select(BotFaq).where(BotFaq.tenant == tenant).order_by(BotFaq.faq_id)
    if language is not None:
        query = query.where(BotFaq.language == language)
    async with sessions() as session:
        rows = (await session.scalars(query)).all()
    return [entry_of(row) for row in rows]
