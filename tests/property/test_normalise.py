"""`normalise`: lower case without accents, for any text a customer may send."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.language import normalise


def without_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@given(st.text())
def test_lower_case_with_every_combining_mark_taken_off(text: str) -> None:
    assert normalise(text) == without_marks(text)


@settings(max_examples=1000)
@given(st.text(st.characters(max_codepoint=0xFF)))
def test_latin_1_text_folds_as_any_other(text: str) -> None:
    """Latin-1 takes a way of its own (a byte table): its answers are the same."""
    assert normalise(text) == without_marks(text)


def test_spanish_accents_go_and_other_letters_stay() -> None:
    assert normalise("¿Dónde está mi PEDIDO? Añadí 3 €") == "¿donde esta mi pedido? anadi 3 €"
