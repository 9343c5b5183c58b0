"""The byte arithmetic on equal-length texts answers as the regular expression that defines a
canonical UUID, including on texts one character away from one, and decodes it as the record
path does."""

from __future__ import annotations

import random
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recs.training.prepare.interactions import event_id_halves
from recs.training.prepare.text_forms import UUID, canonical_uuids, fixed_width, uuid_halves

#: Characters a mutation puts in: the forms' own, and others near them.
ALPHABET = "0123456789abcdefABCDEFgG-+:.@`/ \u00e9\u0010"


def mutated(rng: random.Random, text: str) -> str:
    position = rng.randrange(len(text))
    return text[:position] + rng.choice(ALPHABET) + text[position + 1 :]


def by_regex(values: list[str], pattern: str) -> list[bool]:
    return [bool(match) for match in pc.match_substring_regex(pa.array(values), pattern).to_pylist()]


def test_equal_length_texts_are_a_matrix_and_others_are_not() -> None:
    # Given texts of one length, of several lengths, and with a null
    # Then only the first are read as a matrix
    matrix = fixed_width(pa.array(["ab", "cd"]))
    assert matrix is not None
    assert matrix.tolist() == [[97, 98], [99, 100]]
    assert fixed_width(pa.array(["ab", "c"])) is None
    assert fixed_width(pa.array(["ab", None])) is None
    assert fixed_width(pa.array(["", ""])) is None


def test_uuids_are_recognised_as_the_expression_recognises_them() -> None:
    # Given canonical UUIDs in both cases and texts one character away from one
    rng = random.Random(8)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(200)]
    ids += [text.upper() for text in ids[:20]]
    ids += [mutated(rng, text) for text in ids[:300]]
    same_length = [text for text in ids if len(text.encode()) == 36]
    # When checked as a matrix and by the expression / Then alike, and some of each are there
    expected = by_regex(same_length, UUID)
    assert canonical_uuids(pa.array(same_length)).tolist() == expected
    assert 0 < sum(expected) < len(expected)
    assert canonical_uuids(pa.array([*ids, "x"])).tolist() == by_regex([*ids, "x"], UUID)


def test_uuid_halves_of_a_matrix_are_the_record_paths() -> None:
    # Given canonical UUIDs of one length
    rng = random.Random(9)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(50)]
    rows = np.arange(0, 50, 3)
    # When decoded / Then each pair of halves is event_id_halves'
    halves = uuid_halves(pa.array(ids), rows)
    assert [tuple(map(int, pair)) for pair in halves] == [event_id_halves(ids[row]) for row in rows]
