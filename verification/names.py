"""Personal names: folded so that spelling variants of one name compare equal.

Folding is Unicode NFKC, case-fold, accents stripped (NFKD, combining marks
dropped), apostrophes and other punctuation dropped, hyphens and dashes read
as spaces, and white space collapsed: ``José Pérez`` = ``jose perez``,
``O’Brien`` = ``OBrien``, ``Smith-Jones`` = ``Smith Jones``. There is no
nickname matching: ``Jon`` ≠ ``John``.
"""

from __future__ import annotations

import unicodedata

from verification.errors import InputError

# Read as a word break rather than dropped, so "Smith-Jones" = "Smith Jones".
_BREAK_CATEGORIES = frozenset({"Pd", "Pc", "Zs", "Zl", "Zp"})
# Kept; everything else (punctuation, symbols, controls, marks) is dropped.
_KEEP_PREFIXES = ("L", "N")


def fold(text: str) -> str:
    """The folded form of any text; empty when nothing of it survives folding.

    The building block of names, organizations and non-US addresses. Never
    raises.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        category = unicodedata.category(ch)
        if category.startswith(_KEEP_PREFIXES):
            out.append(ch)
        elif category in _BREAK_CATEGORIES or ch.isspace():
            out.append(" ")
    # Case-folding after decomposition catches letters whose folded form only
    # appears once their marks are gone; NFC keeps stored forms compact.
    folded = unicodedata.normalize("NFC", "".join(out).casefold())
    return " ".join(folded.split())


def fold_name(text: str) -> str:
    """The folded form of a stated name. Raises InputError when nothing is left."""
    folded = fold(text)
    if not folded:
        raise InputError("enter the caller's answer")
    return folded


def match_name(stated: str, on_file: str) -> bool:
    """Whether a stated name is the one on file, after folding both.

    Raises InputError for a blank statement; a blank value on file matches
    nothing.
    """
    on_file_folded = fold(on_file)
    return fold_name(stated) == on_file_folded and bool(on_file_folded)
