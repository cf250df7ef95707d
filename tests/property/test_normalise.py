"""`normalise`: lower case without accents, for any text a customer may send."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from shared.language import normalise


@given(st.text())
def test_lower_case_with_every_combining_mark_taken_off(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    assert normalise(text) == "".join(c for c in decomposed if not unicodedata.combining(c))


def test_spanish_accents_go_and_other_letters_stay() -> None:
    assert normalise("¿Dónde está mi PEDIDO? Añadí 3 €") == "¿donde esta mi pedido? anadi 3 €"
