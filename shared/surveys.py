"""Satisfaction surveys: the questions, and the customer's answer understood from
digits, words (English and Spanish) or common emoji.

Used by the router core, which asks after a close and reads the reply: plain functions.
"""

from __future__ import annotations

import re
from typing import Literal

from shared.language import normalise

Kind = Literal["csat", "nps"]
RANGES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10)}

QUESTIONS = {
    (
        "csat",
        "en",
    ): "How satisfied are you with the help you got? Reply 1 (very unhappy) to 5 (very happy).",
    (
        "csat",
        "es",
    ): "¿Qué tan satisfecho estás con la ayuda recibida? Responde de 1 (nada) a 5 (mucho).",
    (
        "nps",
        "en",
    ): "How likely are you to recommend us to a friend? Reply 0 (not at all) to 10 (very likely).",
    (
        "nps",
        "es",
    ): "¿Con qué probabilidad nos recomendarías a un amigo? Responde de 0 (nada) a 10 (seguro).",
}
THANKS = {"en": "Thank you for your answer!", "es": "¡Gracias por tu respuesta!"}

_NUMBERS = {
    **dict.fromkeys(("zero", "cero"), 0),
    **dict.fromkeys(("one", "uno", "una"), 1),
    **dict.fromkeys(("two", "dos"), 2),
    **dict.fromkeys(("three", "tres"), 3),
    **dict.fromkeys(("four", "cuatro"), 4),
    **dict.fromkeys(("five", "cinco"), 5),
    **dict.fromkeys(("six", "seis"), 6),
    **dict.fromkeys(("seven", "siete"), 7),
    **dict.fromkeys(("eight", "ocho"), 8),
    **dict.fromkeys(("nine", "nueve"), 9),
    **dict.fromkeys(("ten", "diez"), 10),
}
# Satisfaction said in words or faces, on the 1-5 scale.
_FEELINGS = {
    **dict.fromkeys(("excellent", "amazing", "perfect", "excelente", "perfecto", "genial"), 5),
    **dict.fromkeys(("great", "fantastic", "encantado", "encantada", "buenisimo"), 5),
    **dict.fromkeys(
        ("good", "happy", "satisfied", "bien", "bueno", "buena", "contento", "contenta"), 4
    ),
    **dict.fromkeys(("ok", "okay", "fine", "normal", "regular", "meh"), 3),
    **dict.fromkeys(("bad", "unhappy", "poor", "mal", "malo", "mala", "descontento"), 2),
    **dict.fromkeys(("terrible", "awful", "horrible", "worst", "fatal", "pesimo", "pesima"), 1),
}
_FACES = {
    **dict.fromkeys("😍🤩🥰😁😄😃", 5),
    **dict.fromkeys("😀😊🙂👍", 4),
    **dict.fromkeys("😐😶🤷", 3),
    **dict.fromkeys("🙁☹😕😞👎", 2),
    **dict.fromkeys("😡😠🤬😤", 1),
}


def question(survey: Kind, language: str) -> str:
    return QUESTIONS.get((survey, language), QUESTIONS[(survey, "en")])


def score(survey: Kind, text: str) -> int | None:
    """The score the text gives on the survey's scale, or None when it gives none."""
    low, high = RANGES[survey]
    found = _first_number(text)
    if found is None and survey == "csat":
        found = _feeling(text)
    if found is None or not low <= found <= high:
        return None
    return found


def _first_number(text: str) -> int | None:
    digits = re.search(r"\d+", text)
    if digits:
        return int(digits.group())
    stars = text.count("⭐")
    if stars:
        return stars
    for word in re.findall(r"\w+", normalise(text)):
        if word in _NUMBERS:
            return _NUMBERS[word]
    return None


def _feeling(text: str) -> int | None:
    for word in re.findall(r"\w+", normalise(text)):
        if word in _FEELINGS:
            return _FEELINGS[word]
    return next((_FACES[char] for char in text if char in _FACES), None)
