"""Free text that looks like contact data never survives scrubbing; ordinary search text does."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recs.ingest.scrub import REDACTED, scrub_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane.doe@example.com", REDACTED),
        ("gift for jane.doe+shop@mail.example.co.uk please", f"gift for {REDACTED} please"),
        ("jane @ example.com", REDACTED),
        ("call +1 555 0100", f"call {REDACTED}"),
        ("(555) 010-0123", REDACTED),
        ("+44 20 7946 0958", REDACTED),
        ("0049/30/1234567", REDACTED),
        ("card 4111 1111 1111 1111", f"card {REDACTED}"),
        ("from 203.0.113.7 today", f"from {REDACTED} today"),
    ],
)
def test_contact_data_is_replaced(text: str, expected: str) -> None:
    # Given free text holding an e-mail, a phone-like number or an IP / When scrubbed
    # Then that part is replaced and the rest kept
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "usb c charger",
        "iphone 15 128gb",
        "samsung 65 inch 2024",
        "1080p tv",
        "size 42 shoes",
        "product-page",
        "cat_electronics",
        "sku 123456",
        "",
    ],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    # Given search text, categories and contexts without contact data / Then scrubbing keeps them
    assert scrub_text(text) == text


_local = st.from_regex(r"[a-z][a-z0-9._%+\-]{0,20}", fullmatch=True)
_domain = st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9]{1,8}){0,2}\.[a-z]{2,6}", fullmatch=True)
_words = st.from_regex(r"[a-z ]{0,30}", fullmatch=True)
_EMAIL_LIKE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-.]+\.[A-Za-z]{2,}")


@settings(max_examples=300, derandomize=True, deadline=None)
@given(before=_words, local=_local, domain=_domain, after=_words)
def test_no_email_survives(before: str, local: str, domain: str, after: str) -> None:
    # Given an e-mail address anywhere in free text / When scrubbed
    scrubbed = scrub_text(f"{before} {local}@{domain} {after}")
    # Then no e-mail-looking text remains and the address is gone
    assert not _EMAIL_LIKE.search(scrubbed)
    assert f"{local}@{domain}" not in scrubbed


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    digits=st.lists(st.integers(0, 9), min_size=7, max_size=15),
    separators=st.lists(st.sampled_from(["", " ", "-", ".", ") ", "/"]), min_size=15, max_size=15),
    plus=st.booleans(),
    before=_words,
)
def test_no_phone_number_survives(digits: list[int], separators: list[str], plus: bool, before: str) -> None:
    # Given a phone number of 7 to 15 digits in any common grouping
    number = ("+" if plus else "") + "".join(f"{d}{separators[i]}" for i, d in enumerate(digits)).rstrip(
        " -./)"
    )
    # When scrubbed
    scrubbed = scrub_text(f"{before} {number}")
    # Then no run of 7 digits remains
    assert sum(c.isdigit() for c in scrubbed) < 7


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=512))
def test_scrubbed_text_is_never_longer(text: str) -> None:
    # Given any text / When scrubbed / Then it still fits its field's length limit
    assert len(scrub_text(text)) <= len(text)
