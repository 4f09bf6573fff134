"""Personal names: folded so that spelling variants of one name compare equal.

Folding is Unicode NFKC, case-fold, accents stripped (NFKD, combining marks
dropped), apostrophes and other punctuation dropped, hyphens and dashes read
as spaces, and white space collapsed: ``José Pérez`` = ``jose perez``,
``Smith-Jones`` = ``Smith Jones``. There is no nickname matching: ``Jon`` ≠
``John``.

Matching names (``name_keys``) goes two steps further:

- Inside a name a space, an apostrophe and nothing are alike: ``O Brien`` =
  ``O’Brien`` = ``OBrien``. This also makes ``Mary Ann`` = ``Maryann`` and
  ``Smith Jones`` = ``Smithjones``: spellings of one name, never two people
  told apart by a space. First and last name are compared as separate
  fields, so ``Mary`` + ``Ann Smith`` is not ``Mary Ann`` + ``Smith``.
- German umlauts (DIN 5007-2): a name with ä, ö or ü matches its
  transliteration with ae, oe, ue (``Jürgen Müller`` = ``Juergen Mueller``)
  as well as the bare vowel it matched before (``Muller``); ß is ss by
  case-folding already. Only a real umlaut on one side counts: two ASCII
  spellings stay apart (``Mueller`` ≠ ``Muller``, ``Michael`` ≠ ``Michal``),
  so no name loses an "e". The cost is one more accepted spelling per name
  with umlauts (any umlaut, so the Turkish ``Gül`` also matches ``Guel``);
  a mix within one field (``Mueller-Ludenscheidt`` for
  ``Müller-Lüdenscheidt``) is still a miss.
- Letters with no Unicode decomposition are read as ICAO Doc 9303 Part 3
  (section 6, transliteration of national characters) writes them in a
  passport's machine-readable zone: đ ð → d, ı → i, ł → l, ħ → h, ŋ → n,
  æ → ae, œ → oe, þ → th (ß is ss by case-folding). ø and å have two
  spellings, like the umlauts: bare (o, a) and written out as ICAO does
  (oe, aa), so ``Søren Ærø`` = ``Soeren Aeroe`` = ``Soren Aero``; the same
  rule holds, two ASCII spellings stay apart (``Soren`` ≠ ``Soeren``).
"""

from __future__ import annotations

import unicodedata

from verification.errors import InputError

# Read as a word break rather than dropped, so "Smith-Jones" = "Smith Jones".
_BREAK_CATEGORIES = frozenset({"Pd", "Pc", "Zs", "Zl", "Zp"})
# Kept; everything else (punctuation, symbols, controls, marks) is dropped.
_KEEP_PREFIXES = ("L", "N")


# DIN 5007-2: the umlauts written out, and ICAO 9303's ø and å. Applied after
# NFKC and case-folding, which compose a decomposed "u" + diaeresis into "ü".
_WRITTEN_OUT = {"ä": "ae", "ö": "oe", "ü": "ue", "ø": "oe", "å": "aa"}
_UMLAUTS = str.maketrans(_WRITTEN_OUT)
# ICAO 9303 Part 3 for the (case-folded) letters NFKD leaves whole; ø is
# here too as its bare form, o.
_UNDECOMPOSED = {
    "đ": "d",
    "ð": "d",
    "ı": "i",
    "ł": "l",
    "ħ": "h",
    "ŋ": "n",
    "ŧ": "t",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
}


def fold(text: str, *, expand_umlauts: bool = False) -> str:
    """The folded form of any text; empty when nothing of it survives folding.

    The building block of names, organizations and non-US addresses. With
    ``expand_umlauts`` ä, ö, ü are written ae, oe, ue (DIN 5007-2) instead of
    losing their marks. Never raises.
    """
    if text.isascii():
        # Nothing to normalize or decompose: one table does it (built below
        # from the per-character rule, so both paths agree by construction).
        return " ".join(text.translate(_ASCII_FOLD).split())
    text = unicodedata.normalize("NFKC", text).casefold()
    if expand_umlauts:
        text = text.translate(_UMLAUTS)
    out = unicodedata.normalize("NFKD", text).translate(_CHAR_FOLD)
    # Case-folding after decomposition catches letters whose folded form only
    # appears once their marks are gone; NFC keeps stored forms compact.
    folded = unicodedata.normalize("NFC", out.casefold())
    return " ".join(folded.split())


def _fold_char(ch: str) -> str:
    """One decomposed character: kept, a word break, or dropped."""
    letter = _UNDECOMPOSED.get(ch)
    if letter is not None:
        return letter
    category = unicodedata.category(ch)
    if category.startswith(_KEEP_PREFIXES):
        return ch
    if category in _BREAK_CATEGORIES or ch.isspace():
        return " "
    return ""


class _CharFolds(dict[int, str]):
    """``_fold_char`` by code point, learnt as characters are met, so that
    ``str.translate`` folds a text at C speed (at most one entry per
    character Unicode has)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_CHAR_FOLD = _CharFolds()
_ASCII_FOLD = str.maketrans({chr(i): _fold_char(chr(i).casefold()) for i in range(128)})


def fold_name(text: str) -> str:
    """The folded form of a stated name. Raises InputError when nothing is left."""
    folded = fold(text)
    if not folded:
        raise InputError("enter the caller's answer")
    return folded


def fold_forms(text: str) -> tuple[str, ...]:
    """The folded forms of a text: umlauts bare, then written out (DIN
    5007-2) when that differs. Two texts are alike when any forms agree."""
    bare = fold(text)
    if not may_have_umlauts(text):
        return (bare,)
    written = fold(text, expand_umlauts=True)
    return (bare,) if written == bare else (bare, written)


def may_have_umlauts(text: str) -> bool:
    """Whether writing umlauts (and ø, å) out could change the text's folded
    form: whether one of them is there once the text is composed and
    case-folded, as ``fold`` sees it."""
    if text.isascii():
        return False
    composed = unicodedata.normalize("NFKC", text).casefold()
    return any(ch in _WRITTEN_OUT for ch in composed)


def name_keys(text: str) -> frozenset[str]:
    """What a name is compared by: its folded forms with spaces dropped.

    Empty when nothing of it survives folding.
    """
    return frozenset(form.replace(" ", "") for form in fold_forms(text)) - {""}


def match_name(stated: str, on_file: str) -> bool:
    """Whether a stated name is the one on file (see the module docstring).

    Raises InputError for a blank statement; a blank value on file matches
    nothing.
    """
    fold_name(stated)
    return bool(name_keys(stated) & name_keys(on_file))
