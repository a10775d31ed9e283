"""Member codes: fixed length, only the cashier-friendly alphabet, every character drawn."""

from __future__ import annotations

from storage.repositories.members import CODE_ALPHABET, CODE_LENGTH, new_member_code


def test_codes_have_the_length_and_only_the_alphabet() -> None:
    codes = [new_member_code() for _ in range(2_000)]
    assert all(len(code) == CODE_LENGTH for code in codes)
    assert set("".join(codes)) <= set(CODE_ALPHABET)


def test_every_character_of_the_alphabet_is_drawn() -> None:
    # 16,000 draws of 31 characters: a missing one would mean a broken mapping, not bad luck
    drawn = set("".join(new_member_code() for _ in range(2_000)))
    assert drawn == set(CODE_ALPHABET)


def test_codes_differ() -> None:
    assert len({new_member_code() for _ in range(1_000)}) == 1_000
