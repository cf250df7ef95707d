"""Find which lexicons a text mentions, in one regex pass.

The plain way is one alternation of every lexicon's words, tried where a word may
start: the regex engine then walks all of them (about 160 in the shipped lexicons)
at every word start, close to half of the classifier's time. Here the words are
filed under their first character instead, `c(?:rest|rest|...)`, so the engine
skips to the few that start with the character at hand (12-17 µs a message became
3.5-6 µs); where the rests all start with a letter or digit, they are filed again
under it (7.5 -> 5.5 µs). Each lexicon's words (or rests) sit in a group of their own,
so the group that matched names the lexicon. The answer is the plain alternation's, match
for match (tests/property/test_lexicon_matcher.py): a stretch of text counts for
one lexicon only, the first in order that matches there. A word whose first
character the filing cannot read (a class, an escape, a flag) makes the matcher use
the plain alternation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import count, pairwise


class LexiconMatcher:
    def __init__(self, lexicons: Mapping[str, tuple[str, ...]]) -> None:
        names = list(lexicons)
        self.pattern = _filed(tuple(lexicons.values())) or plain_pattern(lexicons.values())
        # The group of each lexicon's words is named _<lexicon's position>_<n>.
        self._lexicon_of = dict.fromkeys(range(self.pattern.groups + 1), "")
        for group, index in self.pattern.groupindex.items():
            if group.startswith("_"):
                self._lexicon_of[index] = names[int(group.split("_")[1])]

    def found(self, text: str) -> set[str]:
        """Names of the lexicons with a match in `text` (lower case, accents removed)."""
        # A lexicon's group closes after any group inside its words: it is the last one.
        return {self._lexicon_of[m.lastindex or 0] for m in self.pattern.finditer(text)}


def plain_pattern(lexicons: Iterable[tuple[str, ...]]) -> re.Pattern[str]:
    """Every word of every lexicon in one alternation, in order, at word starts."""
    # An empty lexicon (a signal a tenant turned off) matches nothing, not everywhere.
    groups = [_group(i, 0, words) for i, words in enumerate(lexicons) if words]
    return re.compile(r"(?<!\w)(?:" + ("|".join(groups) or "(?!)") + ")")


def _group(lexicon: int, n: int, alternatives: Iterable[str]) -> str:
    return f"(?P<_{lexicon}_{n}>{'|'.join(alternatives)})"


@lru_cache(maxsize=64)
def _filed(lexicons: tuple[tuple[str, ...], ...]) -> re.Pattern[str] | None:
    if not any(lexicons):
        return None
    filed = _branches(lexicons, count(1), twice=True)
    # The text is already lower case: no IGNORECASE, which would make matching 2x slower.
    return None if filed is None else re.compile(r"(?<!\w)(?:" + filed + ")")


def _branches(
    lexicons: Sequence[Iterable[str]], numbers: Iterator[int], *, twice: bool
) -> str | None:
    """`a(?:...)|b(?:...)`: each lexicon's words filed under each character they may
    start with, and `twice` their rests under theirs where they can be. `numbers`
    tells the groups apart. None where a word cannot be filed."""
    branches = []
    for char in _leading(lexicons):
        rests = _rests(lexicons, char)
        if rests is None:
            return None
        if any(rests):
            filed = (twice and _by_next_char(rests, numbers)) or _groups(rests, numbers)
            branches.append(f"{re.escape(char)}(?:{filed})")
    return "|".join(branches)


def _by_next_char(rests: list[list[str]], numbers: Iterator[int]) -> str | None:
    """The rests filed once more, so that at a word the engine tries only the words
    that start with its first two characters. None where a rest may start with
    something else than a letter or digit, or holds a word boundary (`rests_after`
    reads one as the start of the word, true only of the first character)."""
    if any("\\b" in rest for lexicon in rests for rest in lexicon):
        return None
    return _branches(rests, numbers, twice=False)


def _leading(lexicons: Iterable[Iterable[str]]) -> list[str]:
    """The letters and digits a word may start with: every one the words hold."""
    return sorted({char for words in lexicons for word in words for char in word if char.isalnum()})


def _rests(lexicons: Iterable[Iterable[str]], char: str) -> list[list[str]] | None:
    """For each lexicon, what must follow `char` for one of its words to match."""
    filed = []
    for words in lexicons:
        rests = []
        for word in words:
            rest = rests_after(word, char)
            if rest is None:
                return None
            rests.extend(rest)
        filed.append(rests)
    return filed


def _groups(rests: list[list[str]], numbers: Iterator[int]) -> str:
    return "|".join(_group(i, next(numbers), words) for i, words in enumerate(rests) if words)


def rests_after(pattern: str, char: str) -> list[str] | None:
    """What must follow `char` for `pattern` to match text starting with `char`, as
    alternatives in the order the regex engine tries them: [] when no match starts
    with `char`; None when this cannot tell (then the words are not filed)."""
    parts = _split(pattern)
    if len(parts) > 1:
        alternatives = [rests_after(part, char) for part in parts]
        if any(rests is None for rests in alternatives):
            return None
        return [rest for rests in alternatives if rests is not None for rest in rests]
    if pattern.startswith(r"\b") and char.isalnum():
        pattern = pattern[2:]  # a word start is a word boundary
    if pattern[:1].isalnum():
        quantifier = pattern[1:2]
        if quantifier in ("?", "*", "{"):
            return None
        if pattern[0] != char:
            return []
        return [pattern[0] + "*" + pattern[2:]] if quantifier == "+" else [pattern[1:]]
    if pattern.startswith("(?:"):
        pattern = "(" + pattern[3:]
    if not pattern.startswith("(") or pattern.startswith("(?"):
        return None
    end = _closing(pattern)
    if end is None:
        return None
    group, after = pattern[1:end], pattern[end + 1 :]
    quantifier = after[:1]
    if quantifier in ("?", "*") and after[1:2] not in ("?", "+"):
        # The group may match nothing: what follows it may start the match.
        rests, skipped = rests_after(group, char), rests_after(after[1:], char)
        if rests is None or skipped is None:
            return None
        again = f"(?:{group})*" if quantifier == "*" else ""
        return [rest + again + after[1:] for rest in rests] + skipped
    if quantifier in ("?", "*", "{") or after[:2] in ("+?", "++"):
        return None
    rests = rests_after(group, char)
    if rests is None:
        return None
    if quantifier == "+":
        return [f"{rest}(?:{group})*{after[1:]}" for rest in rests]
    return [rest + after for rest in rests]


def _syntax(pattern: str) -> Iterator[tuple[int, str, int]]:
    """(index, character, depth) for each character outside escapes and classes;
    depth counts the groups open around it (a `)` has the depth inside it)."""
    depth, i = 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i) + 1
            continue
        if char == "(":
            depth += 1
        yield i, char, depth
        if char == ")":
            depth -= 1
        i += 1


def _class_end(pattern: str, start: int) -> int:
    i = start + 1
    i += pattern[i : i + 1] == "^"
    i += pattern[i : i + 1] == "]"  # a `]` first in a class is a literal
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i


def _split(pattern: str) -> list[str]:
    """The pattern's top-level alternatives."""
    bars = [i for i, char, depth in _syntax(pattern) if char == "|" and depth == 0]
    cuts = [-1, *bars, len(pattern)]
    return [pattern[a + 1 : b] for a, b in pairwise(cuts)]


def _closing(pattern: str) -> int | None:
    """Index of the `)` that closes the group opened at index 0."""
    return next((i for i, char, depth in _syntax(pattern) if char == ")" and depth == 1), None)
