"""Explainable complexity: a score in [0, 1], the intents found and the reasons why.

Rules over lexicons in Spanish and English. Each signal adds or removes a
weight and, when it fires, a reason a supervisor can read. `Classifier` is the
seam where a trained model can replace the rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from services.router.core.lexicons import LexiconMatcher
from shared.events import Channel
from shared.language import WORD, detect_words, normalise

Tier = Literal["low", "medium", "high"]

HIGH_RISK = ("fraud", "chargeback", "cancellation", "legal_threat", "complaint")
SIMPLE = ("opening_hours", "password_reset", "order_tracking", "invoice", "address_change")

# Lexicons match accent-free, lower-case text: write "dirección" as "direccion".
DEFAULT_INTENTS: Mapping[str, tuple[str, ...]] = {
    "fraud": (
        r"fraud\w*",
        r"unauthori[sz]ed",
        r"hack(ed|eado)",
        r"stolen",
        r"scam\w*",
        r"didn'?t (make|authori[sz]e)",
        r"do not recogni[sz]e",
        r"don'?t recogni[sz]e",
        r"fraude",
        r"no reconozco",
        r"robad[ao]s?",
        r"suplantacion",
        r"estafa\w*",
        r"no he (hecho|realizado|autorizado)",
        r"phish\w*",
        r"did not (make|authori[sz]e)",
        r"pretending to be",
        r"(se )?hac\w+ pasar por",
        r"in my name",
        r"a mi nombre",
    ),
    "chargeback": (
        r"charge ?back",
        r"dispute (the|a|this) (charge|payment|transaction)",
        r"charged (me )?twice",
        r"double charged?",
        r"duplicate charge",
        r"contracargo",
        r"cobr\w* (\w+ ){0,2}dos veces",
        r"cobro duplicado",
        r"doble cobro",
        r"devolucion del cargo",
        r"reclam\w* (un|el|este) (pago|cargo|cobro)",
    ),
    "cancellation": (
        r"cancel (my|the) (account|subscription|contract|plan|membership)",
        r"close my account",
        r"unsubscribe me",
        r"terminate (my )?(contract|account)",
        r"dar(me)? de baja",
        r"cancel\w* (mi|la|el) (cuenta|suscripcion|contrato|plan)",
        r"darme de baja",
        r"quiero la baja",
        r"cerrar mi cuenta",
    ),
    "legal_threat": (
        r"lawyer",
        r"attorney",
        r"\bsue\b",
        r"legal action",
        r"court",
        r"small claims",
        r"consumer protection",
        r"abogad[oa]",
        r"demanda(r|re)?",
        r"denuncia\w*",
        r"\bocu\b",
        r"juzgado",
        r"via judicial",
        r"accion(es)? legal(es)?",
    ),
    "complaint": (
        r"complain\w*",
        r"formal complaint",
        r"unacceptable",
        r"speak to (a|your) manager",
        r"reclamacion\w*",
        r"\bqueja\w*",
        r"hoja de reclamaciones",
        r"inaceptable",
    ),
    "opening_hours": (
        r"opening hours",
        r"open(ing)? (on|at|today|tomorrow)",
        r"what time (do|does|will) (you|it|the \w+) (open|close)",
        r"(your|ur) (opening )?hours",
        r"business hours",
        r"are you open",
        r"horario",
        r"a que hora (abr|cierr)\w*",
        r"(abris|abren) (el|los|hoy|manana)",
    ),
    "password_reset": (
        r"(reset|forgot|forgotten|change) (my )?(pin )?(/ |or )?password",
        r"password reset",
        r"can'?t log ?in",
        r"locked out",
        r"contrasena",
        r"no puedo (entrar|acceder|iniciar sesion)",
        r"restablecer",
    ),
    "order_tracking": (
        r"where('?s| is) my (order|package|parcel)",
        r"when (will|does) (my|the) (order|package|parcel) (arrive|come)",
        r"when (my |the )?order( \d+)? will (arrive|be delivered)",
        r"track(ing)?( my)? (order|number|package)",
        r"has my (order|package) shipped",
        r"delivery status",
        r"donde esta mi (pedido|paquete)",
        r"seguimiento",
        r"cuando (llega|llegara) (mi|el) (pedido|paquete)",
        r"estado de mi pedido",
    ),
    "invoice": (
        r"invoice",
        r"receipt",
        r"copy of (my|the) bill",
        r"factura\w*",
        r"recibo",
    ),
    "address_change": (
        r"(chang\w*|update) (my |the )?(shipping |billing |delivery )?address",
        r"new address",
        r"moved house",
        r"cambi\w* (mi|la) direccion",
        r"cambio de (direccion|domicilio)",
        r"nueva direccion",
    ),
}
DEFAULT_ANGER = (
    r"angry",
    r"furious",
    r"terrible",
    r"worst",
    r"ridiculous",
    r"disgust\w*",
    r"outrage\w*",
    r"fed up",
    r"useless",
    r"joke",
    r"pathetic",
    r"awful",
    r"horrible",
    r"wtf",
    r"indignad[oa]",
    r"hart[oa]",
    r"fatal",
    r"verguenza",
    r"pesim[oa]",
    r"cabread[oa]",
    r"una mierda",
    r"impresentable",
    r"lamentable",
    r"desastre",
    r"inutiles?",
)
DEFAULT_FOLLOW_UP = (
    r"(second|third|fourth|fifth|2nd|3rd|4th|5th|6th|7th|8th|9th|10th) time",
    r"again",
    r"still (not|no|have not|"
    r"haven'?t|waiting)",
    r"previous (emails?|messages?|calls?)",
    r"nobody (answers|fixes|called|"
    r"replies|ever)",
    r"no one (answers|replies)",
    r"(segunda|tercera|cuarta|quinta) vez",
    r"otra vez",
    r"sigo (sin|esperando)",
    r"(correos|mensajes|llamadas) anteriores",
    r"nadie (contesta|responde|lo arregla|llamo|me llama)",
    r"todavia no",
    r"aun no",
)
DEFAULT_HIGH_STAKES = (
    r"suspend\w*",
    r"lost",
    r"compensat\w*",
    r"passed away",
    r"died",
    r"deceased",
    r"refused",
    r"who (pays|will pay)",
    r"suspendid[oa]",
    r"perdid[oa]",
    r"compens\w*",
    r"fallecid[oa]",
    r"fallecio",
    r"quien paga",
    r"rechazad[oa]",
)
DEFAULT_URGENCY = (
    r"urgent\w*",
    r"asap",
    r"immediately",
    r"right now",
    r"emergency",
    r"as soon as possible",
    r"urgente\w*",
    r"ya mismo",
    r"inmediatamente",
    r"cuanto antes",
    r"lo antes posible",
)
INTENT_REASONS = {
    "fraud": "mentions fraud",
    "chargeback": "mentions a chargeback",
    "cancellation": "wants to cancel",
    "legal_threat": "threatens legal action",
    "complaint": "makes a complaint",
    "opening_hours": "asks for opening hours",
    "password_reset": "asks for a password reset",
    "order_tracking": "asks where an order is",
    "invoice": "asks for an invoice",
    "address_change": "asks to change an address",
}


@dataclass(frozen=True, slots=True)
class ComplexityConfig:
    """Weights, lexicons and thresholds; per-tenant, with these shipped defaults."""

    base: float = 0.25
    high_risk: float = 0.45
    simple: float = -0.15
    anger: float = 0.25
    urgency: float = 0.10
    follow_up: float = 0.20
    high_stakes: float = 0.25
    long_message: float = 0.10  # per step of `long_words` words
    long_words: int = 35
    questions: float = 0.06  # per question past the first
    attachments: float = 0.10
    repeat_contact: float = 0.10  # per earlier contact in 24 h
    vip: float = 0.15
    bot_failed: float = 0.40
    medium_from: float = 0.35
    high_from: float = 0.65
    intents: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_INTENTS)
    anger_words: tuple[str, ...] = DEFAULT_ANGER
    urgency_words: tuple[str, ...] = DEFAULT_URGENCY
    follow_up_words: tuple[str, ...] = DEFAULT_FOLLOW_UP
    high_stakes_words: tuple[str, ...] = DEFAULT_HIGH_STAKES


@dataclass(frozen=True, slots=True)
class Message:
    """What the classifier may look at."""

    text: str
    channel: Channel
    attachments: int
    language_hint: str | None
    customer_tier: str | None
    recent_contacts: int  # earlier conversations of this customer in the last 24 h
    bot_failed: bool

    # The __init__s of Message and Assessment are written out (the defaults are here):
    # compiled (shared/compiled.py), the one dataclass generates runs interpreted, 15 times
    # slower, and every new conversation makes one of each.
    def __init__(
        self,
        text: str,
        channel: Channel,
        attachments: int = 0,
        language_hint: str | None = None,
        customer_tier: str | None = None,
        recent_contacts: int = 0,
        bot_failed: bool = False,
    ) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "channel", channel)
        object.__setattr__(self, "attachments", attachments)
        object.__setattr__(self, "language_hint", language_hint)
        object.__setattr__(self, "customer_tier", customer_tier)
        object.__setattr__(self, "recent_contacts", recent_contacts)
        object.__setattr__(self, "bot_failed", bot_failed)


@dataclass(frozen=True, slots=True)
class Assessment:
    score: float
    tier: Tier
    intents: tuple[str, ...]
    language: str
    reasons: tuple[str, ...]

    def __init__(
        self,
        score: float,
        tier: Tier,
        intents: tuple[str, ...],
        language: str,
        reasons: tuple[str, ...],
    ) -> None:
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "tier", tier)
        object.__setattr__(self, "intents", intents)
        object.__setattr__(self, "language", language)
        object.__setattr__(self, "reasons", reasons)


class Classifier(Protocol):
    def assess(self, message: Message) -> Assessment: ...


class RuleClassifier:
    def __init__(self, config: ComplexityConfig | None = None) -> None:
        self.config = config or ComplexityConfig()
        c = self.config
        lexicons = {
            **{f"intent:{name}": words for name, words in c.intents.items()},
            "anger": c.anger_words,
            "urgency": c.urgency_words,
            "follow_up": c.follow_up_words,
            "high_stakes": c.high_stakes_words,
        }
        self._lexicons = LexiconMatcher(lexicons)
        self._intent_keys = [(name, f"intent:{name}") for name in c.intents]

    def assess(self, message: Message) -> Assessment:
        c = self.config
        text = normalise(message.text)
        found = self._lexicons.found(text)
        intents = tuple(name for name, key in self._intent_keys if key in found)
        signals: list[tuple[float, str]] = []

        for intent in intents:
            weight = c.high_risk if intent in HIGH_RISK else c.simple if intent in SIMPLE else 0
            signals.append((weight, INTENT_REASONS.get(intent, f"intent {intent}")))
        if "anger" in found or _shouting(message.text):
            signals.append((c.anger, "angry tone"))
        if "urgency" in found:
            signals.append((c.urgency, "says it is urgent"))
        if "follow_up" in found:
            signals.append((c.follow_up, "follows up an unresolved problem"))
        if "high_stakes" in found:
            signals.append((c.high_stakes, "high stakes for the customer"))
        # Words are counted only in a text that may hold `long_words` of them (one letter
        # and a space each): splitting every message was a tenth of a decision's work.
        words = len(WORD.findall(text)) if len(text) >= 2 * c.long_words - 1 else 0
        if words >= c.long_words:
            steps = min(words // c.long_words, 3)
            signals.append((c.long_message * steps, f"long message ({words} words)"))
        questions = _questions(message.text)
        if questions >= 2:
            signals.append((c.questions * min(questions - 1, 4), f"asks {questions} questions"))
        if message.attachments:
            signals.append((c.attachments, _plural(message.attachments, "attachment")))
        if message.recent_contacts:
            nth = message.recent_contacts + 1
            signals.append(
                (
                    c.repeat_contact * min(message.recent_contacts, 3),
                    f"{_ordinal(nth)} contact in 24 h",
                )
            )
        if (message.customer_tier or "").lower() == "vip":
            signals.append((c.vip, "VIP customer"))
        if message.bot_failed:
            signals.append((c.bot_failed, "the bot could not resolve it"))

        score = round(min(1.0, max(0.0, c.base + sum(weight for weight, _ in signals))), 3)
        tier: Tier = (
            "high" if score >= c.high_from else "medium" if score >= c.medium_from else "low"
        )
        return Assessment(
            score=score,
            tier=tier,
            intents=intents,
            # Channels attach the language (services/channels/webhooks.py).
            language=message.language_hint or detect_words(WORD.findall(text)),
            reasons=tuple(reason for weight, reason in signals if weight),
        )


def _shouting(text: str) -> bool:
    """Three or more words in capitals, or '!!'."""
    if "!!" in text:
        return True
    raw = text.encode("latin-1", "ignore")
    # Most messages (Spanish and English are Latin-1) have too few capital letters for
    # three words of them; a text in another script is looked at word by word.
    if len(raw) == len(text) and len(raw) - len(raw.translate(None, _CAPITALS)) < 3:
        return False
    capitals = [word for word in _LETTER_WORDS.findall(text) if word.isupper()]
    return len(capitals) >= 3


_CAPITALS = bytes(code for code in range(256) if chr(code).isupper())  # Latin-1
_LETTER_WORDS = re.compile(r"[^\W\d_]{3,}")


def _questions(text: str) -> int:
    return max(text.count("?"), text.count("¿"))


def _plural(count: int, noun: str) -> str:
    return f"sent {count} {noun}{'' if count == 1 else 's'}"


def _ordinal(n: int) -> str:
    return {2: "second", 3: "third", 4: "fourth"}.get(n, f"{n}th")
