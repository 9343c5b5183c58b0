"""The byte arithmetic on equal-length texts answers as the regular expressions that define a
canonical UUID and the timestamps both readers parse alike, including on texts one character
away from one, and decodes a UUID as the record path does."""

from __future__ import annotations

import random
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recs.training.prepare.interactions import event_id_halves
from recs.training.prepare.text_forms import (
    TIMESTAMP,
    TIMESTAMP_FORMS,
    UUID,
    all_timestamps,
    canonical_uuids,
    fixed_width,
    uuid_halves,
)

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


def timestamp(rng: random.Random, width: int) -> str:
    """A random text of `TIMESTAMP`'s form of ``width`` characters."""
    fraction = {20: "", 24: ".123", 27: ".123456", 25: "", 29: ".123", 32: ".123456"}[width]
    zone = (
        "Z"
        if width in (20, 24, 27)
        else rng.choice("+-") + f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
    )
    when = f"{rng.randrange(10_000):04d}-{rng.randrange(100):02d}-{rng.randrange(100):02d}"
    return f"{when}T{rng.randrange(100):02d}:{rng.randrange(100):02d}:{rng.randrange(60):02d}{fraction}{zone}"


def test_timestamps_are_recognised_as_the_expression_recognises_them() -> None:
    # Given columns of one dominant form each, with a few texts of other forms, a few one
    # character away from a timestamp, nulls, a slice, and a column of many lengths
    rng = random.Random(11)
    columns: list[pa.Array] = []
    for width in TIMESTAMP_FORMS:
        for _ in range(30):
            texts: list[str | None] = [timestamp(rng, width) for _ in range(200)]
            for _ in range(rng.randrange(4)):
                texts[rng.randrange(200)] = timestamp(rng, rng.choice(list(TIMESTAMP_FORMS)))
            if rng.random() < 0.5:
                at = rng.randrange(200)
                texts[at] = mutated(rng, str(texts[at]))
            if rng.random() < 0.3:
                texts[rng.randrange(200)] = None
            columns.append(pa.array(texts))
    columns.append(pa.array([timestamp(rng, rng.choice(list(TIMESTAMP_FORMS))) for _ in range(300)]))
    columns.append(columns[0].slice(7, 150))
    columns.append(pa.array(["2026-11-01T00:00:00.123Z", "2026-11-01T00:00:00,123Z"]))
    columns.append(pa.array(["2026-11-01T00:00:00,00:00"] * 3))
    # When checked / Then as the expression answers, and both answers occur
    answers = [all_timestamps(column) for column in columns]
    expected = [
        pc.all(pc.match_substring_regex(column, TIMESTAMP)).as_py() is not False for column in columns
    ]
    assert answers == expected
    assert 0 < sum(expected) < len(expected)
    # And a chunked column is every chunk's answer
    assert all_timestamps(pa.chunked_array(columns[:3])) == all(expected[:3])
