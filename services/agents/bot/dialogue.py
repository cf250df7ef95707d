"""The bot's next step in a conversation: pure, so every rule has a plain unit test.

It answers from the FAQ when the best entry is a confident match and asks whether that
solved it; a "yes" resolves the conversation, a "no" hands it to a person. It also
hands over at once when the customer asks for a person, sounds angry, gets no
confident answer, or has asked more questions than the bot may take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from services.agents.bot import phrases


@dataclass(frozen=True)
class Match:
    faq_id: str
    answer: str
    confidence: float  # 0-1: how much of the entry's own strength the question reaches


@dataclass(frozen=True)
class Thread:
    language: str
    angry: bool = False
    turns: int = 0
    awaiting_feedback: bool = False


@dataclass(frozen=True)
class Step:
    thread: Thread
    replies: tuple[str, ...] = ()
    escalate: str | None = None  # the reason, when a person takes over
    resolved: bool = False


Finder = Callable[[str, str], Match | None]  # (question, language) -> best entry


def next_step(
    thread: Thread, text: str, find: Finder, *, confidence: float, max_turns: int
) -> Step:
    lang = thread.language if thread.language in phrases.GLAD else "en"

    def hand_over(reason: str) -> Step:
        return Step(thread, (phrases.HANDOVER[lang],), escalate=reason)

    if phrases.wants_a_person(text):
        return hand_over("asked for a person")
    if thread.awaiting_feedback:
        match phrases.yes_or_no(text):
            case True:
                return Step(
                    replace(thread, awaiting_feedback=False), (phrases.GLAD[lang],), resolved=True
                )
            case False:
                return hand_over("the answer did not help")
    if thread.angry or phrases.sounds_angry(text):
        return hand_over("angry tone")
    if thread.turns >= max_turns:
        return hand_over(f"more than {max_turns} questions")
    found = find(text, lang)
    if found is None or found.confidence < confidence:
        return hand_over("no confident answer")
    answered = replace(thread, turns=thread.turns + 1, awaiting_feedback=True)
    return Step(answered, (found.answer, phrases.ASK_FEEDBACK[lang]))
