"""References: generated in the alphabet; the normalizer's properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verification.errors import InputError
from verification.reference import ALPHABET, new_reference, normalize_reference

bodies = st.text(alphabet=ALPHABET, min_size=6, max_size=6)
separators = st.sampled_from(["", " ", "-", "  ", ".", " - "])


def test_new_references_are_canonical_and_vary() -> None:
    refs = {new_reference() for _ in range(200)}
    assert len(refs) > 190
    for ref in refs:
        assert normalize_reference(ref) == ref
        assert ref.startswith("CG-") and len(ref) == 10
        assert not set(ref[3:].replace("-", "")) & set("0O1I")


@given(bodies, st.lists(separators, min_size=3, max_size=3), st.booleans(), st.booleans())
def test_case_spacing_dashes_and_prefix_do_not_matter(
    body: str, seps: list[str], prefix: bool, lower: bool
) -> None:
    canonical = f"CG-{body[:3]}-{body[3:]}"
    typed = (f"CG{seps[0]}" if prefix else "") + body[:3] + seps[1] + body[3:] + seps[2]
    typed = typed.lower() if lower else typed
    assert normalize_reference(typed) == canonical


@given(st.text(max_size=40))
def test_any_text_gives_a_canonical_reference_or_input_error(text: str) -> None:
    try:
        ref = normalize_reference(text)
    except InputError:
        return
    assert normalize_reference(ref) == ref
    assert set(ref[3:].replace("-", "")) <= set(ALPHABET)


@given(bodies, st.integers(0, 5), st.sampled_from(["0", "O", "1", "I", "o", "i"]))
def test_ambiguous_characters_are_refused_not_folded(body: str, at: int, bad: str) -> None:
    typed = body[:at] + bad + body[at + 1 :]
    with pytest.raises(InputError, match="never holds 0, O, 1 or I"):
        normalize_reference(typed)


@pytest.mark.parametrize("text", ["", "   ", "CG-7K4", "CG-7K4-Q2MX", "XX-7K4-Q2M", "7K4Q2M!"])
def test_not_a_reference(text: str) -> None:
    with pytest.raises(InputError):
        normalize_reference(text)
