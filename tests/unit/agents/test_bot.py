"""The built-in bot: what it understands, what it answers from the demo FAQ, and when
it hands over to a person."""

from __future__ import annotations

import pytest

from services.agents.bot import phrases
from services.agents.bot.demo_faq import DEMO_FAQ
from services.agents.bot.dialogue import Match, Step, Thread, next_step
from services.agents.bot.faq import best_match

CONFIDENCE, MAX_TURNS = 0.4, 3


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("yes", True),
        ("Yes, thanks!", True),
        ("sí", True),
        ("Si, gracias", True),
        ("vale, resuelto", True),
        ("no", False),
        ("Nope, still broken", False),
        ("no, todavía no", False),
        ("aún no me llega", False),
        ("what about returns?", None),
        ("¿y las devoluciones?", None),
    ],
)
def test_yes_or_no_in_both_languages(text: str, meant: bool | None) -> None:
    assert phrases.yes_or_no(text) is meant


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human",
        "Can I speak to an agent?",
        "real person please",
        "quiero hablar con alguien",
        "Pásame con un agente",
        "una persona, por favor",
    ],
)
def test_asking_for_a_person(text: str) -> None:
    assert phrases.wants_a_person(text)


@pytest.mark.parametrize(
    ("language", "question", "faq_id"),
    [
        ("en", "What time do you open on Saturday?", "en-hours"),
        ("en", "how can i reset my pasword", "en-password"),
        ("en", "where is my package", "en-tracking"),
        ("en", "I need an invoice for order 123", "en-invoice"),
        ("en", "how do I change my address", "en-address"),
        ("es", "¿cuál es el horario?", "es-horario"),
        ("es", "quiero devolver unas zapatillas", "es-devolucion"),
        ("es", "no me llega el reembolso", "es-plazo-reembolso"),
        ("es", "¿cómo cambio la contraseña?", "es-contrasena"),
    ],
)
def test_the_demo_faq_answers_common_questions(language: str, question: str, faq_id: str) -> None:
    found = best_match([e for e in DEMO_FAQ if e.language == language], question)
    assert found is not None and found.faq_id == faq_id and found.confidence >= CONFIDENCE


def test_an_entry_for_the_intent_the_router_found_answers_whatever_the_words() -> None:
    spanish = [e for e in DEMO_FAQ if e.language == "es"]
    question = "Hola, ¿a qué hora abrís los sábados?"  # "horario" nowhere

    by_words = best_match(spanish, question)
    by_intent = best_match(spanish, question, ["complaint", "opening_hours"])

    assert by_words is not None and by_words.confidence < CONFIDENCE
    assert by_intent == Match("es-horario", by_words.answer, 1.0)


@pytest.mark.parametrize(
    "question", ["hello", "asdf qwer", "my card was charged twice, dispute it"]
)
def test_no_confident_answer_to_what_the_faq_does_not_cover(question: str) -> None:
    found = best_match([e for e in DEMO_FAQ if e.language == "en"], question)
    assert found is None or found.confidence < CONFIDENCE


def step(thread: Thread, text: str, confidence: float = 0.9) -> Step:
    """The next step with an FAQ whose best entry has this confidence."""
    return next_step(
        thread,
        text,
        lambda q, lang: Match("f1", "We open at 9.", confidence),
        confidence=CONFIDENCE,
        max_turns=MAX_TURNS,
    )


def test_a_confident_answer_then_the_question_whether_it_helped() -> None:
    first = step(Thread("en"), "When do you open?")
    assert first.replies == ("We open at 9.", phrases.ASK_FEEDBACK["en"])
    assert first.thread.awaiting_feedback and first.thread.turns == 1
    assert first.escalate is None and not first.resolved

    thanks = step(first.thread, "yes thanks")
    assert thanks.resolved and thanks.replies == (phrases.GLAD["en"],)


@pytest.mark.parametrize(
    ("thread", "text", "confidence", "reason"),
    [
        (Thread("en", awaiting_feedback=True, turns=1), "no", 0.9, "the answer did not help"),
        (Thread("es"), "quiero hablar con una persona", 0.9, "asked for a person"),
        (Thread("en", angry=True), "When do you open?", 0.9, "angry tone"),
        (Thread("en"), "THIS IS RIDICULOUS, WHERE IS IT", 0.9, "angry tone"),
        (Thread("en"), "Something odd", 0.2, "no confident answer"),
        (Thread("en", turns=3), "And on Sunday?", 0.9, "more than 3 questions"),
    ],
)
def test_when_the_bot_hands_over(thread: Thread, text: str, confidence: float, reason: str) -> None:
    handed = step(thread, text, confidence)
    assert handed.escalate == reason
    assert handed.replies == (phrases.HANDOVER[thread.language],)


def test_a_new_question_instead_of_yes_or_no_is_answered() -> None:
    asked_again = step(Thread("en", awaiting_feedback=True, turns=1), "and on Sunday?")
    assert asked_again.escalate is None and asked_again.thread.turns == 2
