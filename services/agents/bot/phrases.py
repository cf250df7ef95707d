"""What the bot says and what it understands, in English and Spanish.

Matching is on words without accents or case (shared.language.words), so "sí", "Si"
and "SI" are one answer.
"""

from __future__ import annotations

from shared.language import words

ASK_FEEDBACK = {
    "en": "Did that answer your question? Reply yes or no.",
    "es": "¿Te ha servido? Responde sí o no.",
}
GLAD = {"en": "Great, glad I could help!", "es": "¡Genial, me alegra haber ayudado!"}
HANDOVER = {
    "en": "Let me pass you to a person; they will be with you shortly.",
    "es": "Te paso con una persona; te atenderá enseguida.",
}

_PERSON_WORDS = frozenset(
    {"agent", "human", "person", "representative", "operator", "someone", "somebody"}
    | {"agente", "humano", "persona", "operador", "asesor", "alguien"}
)
_PERSON_PHRASES = ("real person", "talk to a", "speak to a", "hablar con", "una persona")
_YES = frozenset(
    {"yes", "yeah", "yep", "solved", "thanks", "perfect", "great", "ok", "okay"}
    | {"si", "vale", "gracias", "resuelto", "perfecto", "genial", "claro", "sirvio"}
)
_NO = frozenset(
    {"no", "nope", "not", "didn", "didnt", "still", "nah"}
    | {"todavia", "aun", "tampoco", "sigue", "nada"}
)
_ANGRY = frozenset(
    {"ridiculous", "unacceptable", "terrible", "worst", "angry", "furious", "useless", "scam"}
    | {"inaceptable", "verguenza", "harto", "harta", "pesimo", "fatal", "estafa", "inutil"}
)


def wants_a_person(text: str) -> bool:
    tokens = words(text)
    lowered = " ".join(tokens)
    return bool(_PERSON_WORDS.intersection(tokens)) or any(p in lowered for p in _PERSON_PHRASES)


def yes_or_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the text is neither (or both)."""
    tokens = set(words(text))
    said_no, said_yes = bool(_NO & tokens), bool(_YES & tokens)
    if said_no == said_yes:
        return None
    return said_yes


def sounds_angry(text: str) -> bool:
    shouted = sum(c.isupper() for c in text) > 10 and text.upper() == text
    return shouted or "!!" in text or bool(_ANGRY.intersection(words(text)))
