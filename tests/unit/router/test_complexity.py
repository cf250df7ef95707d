"""Complexity: explainable scores, and accuracy on messages the rules were not tuned on."""

from __future__ import annotations

import pytest

from services.router.core.complexity import ComplexityConfig, Message, RuleClassifier
from shared.events import Channel
from tests.unit.router.evaluation import evaluate, examples

classifier = RuleClassifier()


def assess(text: str, **context: object) -> tuple[float, str, tuple[str, ...], tuple[str, ...]]:
    result = classifier.assess(Message(text=text, channel=Channel.CHAT, **context))  # type: ignore[arg-type]
    return result.score, result.tier, result.intents, result.reasons


def test_the_evaluation_set_is_large_balanced_and_split() -> None:
    rows = examples()
    assert len(rows) >= 300
    spanish = sum(row.language == "es" for row in rows)
    assert abs(spanish - len(rows) / 2) <= len(rows) * 0.1
    assert {row.split for row in rows} == {"tune", "test"}


def test_route_accuracy_on_the_held_out_half_is_at_least_90_percent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    held_out = [row for row in examples() if row.split == "test"]
    report = evaluate(classifier, held_out)
    with capsys.disabled():
        print(f"\ncomplexity, held-out half:\n{report.table()}")
        for language in ("en", "es"):
            part = evaluate(classifier, [row for row in held_out if row.language == language])
            print(
                f"  {language}: route {part.route_accuracy:.1%}, intent {part.intent_accuracy:.1%}"
            )
    assert report.route_accuracy >= 0.90


def test_a_simple_question_is_low_and_says_why() -> None:
    score, tier, intents, reasons = assess("Where is my order 4411?")
    assert (tier, intents, reasons) == ("low", ("order_tracking",), ("asks where an order is",))
    assert score < 0.35


def test_high_risk_and_anger_make_it_high_with_readable_reasons() -> None:
    score, tier, intents, reasons = assess(
        "I was CHARGED TWICE!! this is a scam, I want a chargeback"
    )
    assert tier == "high" and score >= 0.65
    assert set(intents) >= {"chargeback", "fraud"}
    assert {"mentions a chargeback", "mentions fraud", "angry tone"} <= set(reasons)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # Spanish says "charged twice" in every tense and person: each is a double charge.
        ("Me cobraron dos veces y voy a poner una reclamación", "chargeback"),
        ("me cobrasteis dos veces el pedido", "chargeback"),
        ("Me han cobrado dos veces", "chargeback"),
        ("nos cobran dos veces la cuota", "chargeback"),
        ("What time does the store close tonight?", "opening_hours"),
        ("I changed my address but you sent it to the old one", "address_change"),
        ("Cambié la dirección el mes pasado", "address_change"),
    ],
)
def test_an_intent_is_found_however_the_verb_is_conjugated(text: str, intent: str) -> None:
    assert intent in assess(text)[2]


def test_a_verb_alone_is_no_intent() -> None:
    assert assess("I changed my mind about the colour")[2] == ()
    assert assess("me cobraron el envío")[2] == ()


@pytest.mark.parametrize(
    ("text", "shouts"),
    [
        ("WHERE IS MY PARCEL, I PAID", True),
        ("¿DÓNDE ESTÁ MI PEDIDO? LLEVO UNA SEMANA", True),
        ("I paid for it, where is it", False),
        ("Ok ID: AB12 CD34", False),  # capitals, but not three words of letters
        ("NOT OK OK", False),
        ("ÉSTE ÚLTIMO AÑO", True),
        ("ЭТО ОЧЕНЬ ПЛОХО", True),  # outside Latin-1 too
        ("Это очень плохо 😠", False),
    ],
)
def test_three_words_in_capitals_are_an_angry_tone(text: str, shouts: bool) -> None:
    assert ("angry tone" in assess(text)[3]) is shouts


def test_spanish_is_understood_without_accents_or_with_typos() -> None:
    for text in ("Quiero darme de baja YA", "quiero darme de baja ya", "QUIERO DARME DE BAJA"):
        assert "cancellation" in assess(text)[2]
    assert (
        classifier.assess(Message(text="hola, mi pedido no llega", channel=Channel.CHAT)).language
        == "es"
    )
    assert (
        classifier.assess(Message(text="hi, my order is late", channel=Channel.CHAT)).language
        == "en"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (" ".join("a" * 35), "long message (35 words)"),  # as short as 35 words can be
        (" ".join(["word"] * 80), "long message (80 words)"),
        (" ".join("a" * 34), None),
    ],
)
def test_a_long_message_says_how_many_words(text: str, reason: str | None) -> None:
    longs = [r for r in assess(text)[3] if r.startswith("long message")]
    assert longs == ([reason] if reason else [])


@pytest.mark.parametrize(
    ("context", "reason"),
    [
        ({"recent_contacts": 2}, "third contact in 24 h"),
        ({"recent_contacts": 1}, "second contact in 24 h"),
        ({"customer_tier": "vip"}, "VIP customer"),
        ({"attachments": 2}, "sent 2 attachments"),
        ({"bot_failed": True}, "the bot could not resolve it"),
    ],
)
def test_context_raises_the_score_and_names_itself(context: dict[str, object], reason: str) -> None:
    plain, *_ = assess("I have a question about my account")
    score, _, _, reasons = assess("I have a question about my account", **context)
    assert score > plain
    assert reason in reasons


def test_weights_and_lexicons_are_per_tenant_configuration() -> None:
    strict = RuleClassifier(ComplexityConfig(base=0.5, intents={"refund": (r"refund",)}))
    result = strict.assess(Message(text="refund please", channel=Channel.CHAT))
    assert result.intents == ("refund",)
    assert result.score >= 0.5
