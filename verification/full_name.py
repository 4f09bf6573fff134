"""A contact's whole name typed in one field, read as the first and last name on file.

The caller says "Mary Ann van der Berg" in one breath; where the first name
ends is the record's business, not the agent's. The words are split at each
space in turn, and the first split whose two halves match the first and the
last name on file (``names.match_name``, each on its own as always) is the
statement; with none, the last word is the last name. Either way it is one
statement and one check: the split only places the caller's own words, in
their order, so no split matches what the words in that order would not.
"""

from __future__ import annotations

from verification.errors import InputError
from verification.names import match_name


def split_name(text: str, first_on_file: str, last_on_file: str) -> tuple[str, str]:
    """The (first, last) a whole name states; a single word is an input error."""
    words = text.split()
    if len(words) < 2:
        raise InputError("type the first and the last name, a space between them")
    splits = [(" ".join(words[:n]), " ".join(words[n:])) for n in range(1, len(words))]
    for first, last in splits:
        if match_name(first, first_on_file) and match_name(last, last_on_file):
            return first, last
    return splits[-1]
