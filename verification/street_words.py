"""Words of street lines that no installed table folds, and the slash kept.

- ``fold_line``: a street line folded as names are, except that a slash
  between a unit or house number and a number stays: ``3/12`` (unit 3 of
  number 12, Australia Post; flat 2/1, Glasgow, Royal Mail; ``123 1/2``,
  the fractional address of USPS Publication 28) is never ``312``.
  Elsewhere a slash is a word break (``C/ de Alcalá``, ``c/o``).
- ``ordinal_words``: English ordinal words as numbers, ``Fifth`` =
  ``5th``, ``Twenty-First`` = ``21st`` (the numbered street names Pub 28 and
  Canada Post write in figures); up to ninety-ninth, every spelling of one
  number being that number alone.
- ``box_words``: USPS Publication 28 chapter 2's rural route, highway
  contract route and post office box forms: ``Rural Route``, ``R R``,
  ``RFD`` → ``RR``; ``Highway Contract``, ``Star Route`` → ``HC``; ``Post
  Office Box``, ``P O Box``, ``POB`` → ``PO BOX``; read only before a box or
  route number.

usaddress-scourgify's Pub 28 tables (``us_street``) hold single street-type,
directional and unit words only, so these are kept here. Words are folded
text (``names.fold``: lower case).
"""

from __future__ import annotations

from collections.abc import Sequence

from verification.names import fold

_UNITS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TEENS = (
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
)
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_TENTHS = tuple(word[:-1] + "ieth" for word in _TENS)


def _suffixed(number: int) -> str:
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


_ORDINALS = {
    **{word: _suffixed(i + 1) for i, word in enumerate(_UNITS)},
    **{word: _suffixed(i + 10) for i, word in enumerate(_TEENS)},
    **{word: _suffixed(10 * (i + 2)) for i, word in enumerate(_TENTHS)},
}
_TENS_VALUE = {word: 10 * (i + 2) for i, word in enumerate(_TENS)}
_UNIT_VALUE = {word: i + 1 for i, word in enumerate(_UNITS)}

# (words, replacement): read only when a route or box number follows.
_BOX_FORMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("post", "office", "box"), ("po", "box")),
    (("p", "o", "box"), ("po", "box")),
    (("p", "o", "b"), ("po", "box")),
    (("pob",), ("po", "box")),
    (("rural", "free", "delivery"), ("rr",)),
    (("rural", "route"), ("rr",)),
    (("rural", "rte"), ("rr",)),
    (("rural", "rt"), ("rr",)),
    (("r", "r"), ("rr",)),
    (("rfd",), ("rr",)),
    (("highway", "contract", "route"), ("hc",)),
    (("highway", "contract"), ("hc",)),
    (("star", "route"), ("hc",)),
)

# Words that can start what the two functions below rewrite: most lines hold
# none, and are passed through at once.
_ORDINAL_WORDS = frozenset(_ORDINALS) | frozenset(_TENS_VALUE)
_BOX_STARTS = frozenset(form[0] for form, _ in _BOX_FORMS)


def is_unit_id(word: str) -> bool:
    """Whether a word can be a unit's or house's identifier: "400", "5B", "B"."""
    return any(ch.isdigit() for ch in word) or (len(word) == 1 and word.isalpha())


def fold_line(text: str, *, expand_umlauts: bool = False) -> str:
    """A street line folded as ``names.fold`` does, a slash between an
    identifier and a number kept (idempotent)."""
    if "/" not in text:
        return fold(text, expand_umlauts=expand_umlauts)
    out = ""
    for piece in (fold(part, expand_umlauts=expand_umlauts) for part in text.split("/")):
        if not piece:
            continue
        if out and piece[0].isdigit() and is_unit_id(out.rpartition(" ")[2]):
            out = f"{out}/{piece}"
        else:
            out = f"{out} {piece}" if out else piece
    return out


def ordinal_words(words: Sequence[str]) -> list[str]:
    """Folded words with English ordinal words written as numbers."""
    if _ORDINAL_WORDS.isdisjoint(words):
        return list(words)
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _TENS_VALUE and i + 1 < len(words) and words[i + 1] in _UNIT_VALUE:
            out.append(_suffixed(_TENS_VALUE[word] + _UNIT_VALUE[words[i + 1]]))
            i += 2
            continue
        out.append(_ORDINALS.get(word, word))
        i += 1
    return out


def box_words(words: Sequence[str]) -> list[str]:
    """Folded words with Pub 28's route and box forms in its spelling."""
    if _BOX_STARTS.isdisjoint(words):
        return list(words)
    out: list[str] = []
    i = 0
    while i < len(words):
        for form, replacement in _BOX_FORMS:
            end = i + len(form)
            if tuple(words[i:end]) == form and end < len(words) and is_unit_id(words[end]):
                out.extend(replacement)
                i = end
                break
        else:
            out.append(words[i])
            i += 1
    return out
