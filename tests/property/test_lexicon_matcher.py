"""The filed lexicon pattern finds exactly what the plain alternation finds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from services.router.core.complexity import ComplexityConfig
from services.router.core.lexicons import LexiconMatcher, plain_pattern, rests_after

CONFIG = ComplexityConfig()
LEXICONS = {
    **{f"intent:{name}": words for name, words in CONFIG.intents.items()},
    "anger": CONFIG.anger_words,
    "urgency": CONFIG.urgency_words,
    "follow_up": CONFIG.follow_up_words,
    "high_stakes": CONFIG.high_stakes_words,
}
# Pieces that make the lexicons' words collide: shared prefixes, word boundaries,
# digits, punctuation and letters outside ASCII.
PIECES = [
    *"abcdefghijklmnopqrstuvwxyz0123456789 '?!,.-ñ_",
    "charged twice",
    "double charge",
    "cancel my account",
    "dar de baja",
    "third time",
    "2nd time",
    "se hace pasar por",
    "hackeado",
    "no reconozco",
    "sue",
    "ocu",
    "queja",
    "quejas",
    "reset my password",
    "change address",
    "where is my order",
    "otra vez",
    "a que hora abren",
    "fraude",
    "aaa",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text)]


def lexicons_found(lexicons: dict[str, tuple[str, ...]], text: str) -> set[str]:
    """The definition: for each match of the plain alternation, the first lexicon in
    order with a word that matches where it starts."""
    return {
        next(
            name
            for name, words in lexicons.items()
            if words and re.compile("|".join(words)).match(text, m.start())
        )
        for m in plain_pattern(lexicons.values()).finditer(text)
    }


@settings(max_examples=500, deadline=None)
@given(TEXTS)
def test_the_shipped_lexicons_match_as_the_plain_alternation(text: str) -> None:
    matcher = LexiconMatcher(LEXICONS)
    plain = plain_pattern(LEXICONS.values())
    assert matcher.pattern.pattern != plain.pattern  # the words were filed
    assert spans(matcher.pattern, text) == spans(plain, text)
    assert matcher.found(text) == lexicons_found(LEXICONS, text)


# Words that overlap and use every form the filing reads: optional, repeated and
# alternative groups, `+`, word boundaries, and ones it cannot read.
ODD = {
    "first": (r"a+b", r"(aa|ab)*c", r"(x )?ab", r"\bab\b", r"b(a|b)+"),
    "second": (r"ab|ba", r"(?:a|b)c", r"a", r"(ab)+a"),
}


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*"abcx _"]), max_size=30).map("".join))
def test_odd_words_find_the_same_lexicons(text: str) -> None:
    plain = plain_pattern(ODD.values())
    matcher = LexiconMatcher(ODD)
    assert spans(matcher.pattern, text) == spans(plain, text)
    assert matcher.found(text) == lexicons_found(ODD, text)


def test_what_follows_the_first_character() -> None:
    assert rests_after(r"fraud\w*", "f") == [r"raud\w*"]
    assert rests_after(r"fraud\w*", "s") == []
    assert rests_after(r"\bsue\b", "s") == [r"ue\b"]
    assert rests_after(r"(se )?hac\w+", "s") == [r"e hac\w+"]
    assert rests_after(r"(se )?hac\w+", "h") == [r"ac\w+"]
    assert rests_after(r"(reset|forgot|fix) it", "f") == ["orgot it", "ix it"]
    assert rests_after(r"a+b", "a") == ["a*b"]
    assert rests_after(r"s?top", "s") is None  # it may start with t
    assert rests_after(r"[ab]c", "a") is None
    assert rests_after(r"(?i)abc", "a") is None
    assert rests_after(r"(a|)b", "a") is None


def test_an_empty_lexicon_is_never_found() -> None:
    matcher = LexiconMatcher({"anger": (), "urgency": ("urgent",)})
    assert matcher.found("this is urgent") == {"urgency"}
    assert LexiconMatcher({"anger": ()}).found("this is urgent") == set()


def test_a_word_it_cannot_file_keeps_the_plain_alternation() -> None:
    lexicons = {"digits": (r"\d+ times",), "words": ("again",)}
    matcher = LexiconMatcher(lexicons)
    assert matcher.pattern.pattern == plain_pattern(lexicons.values()).pattern
    assert matcher.found("3 times again") == {"digits", "words"}
    assert matcher.found("3 times") == {"digits"}
