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
        ("from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 today", f"from {REDACTED} today"),
        ("ip 2001:db8::8a2e:370:7334", f"ip {REDACTED}"),
        ("fe80::1ff:fe23:4567:890a", REDACTED),
        ("host ::ffff:c000:0280 x", f"host {REDACTED} x"),
        ("2001:DB8:0:0:8:800:200C:417A", REDACTED),
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
        "open 10:30 to 18:45",
        "ratio 16:9 screen",
        "c++::std vector",
        "deadbeef",
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


_hex_group = st.from_regex(r"[0-9a-f]{1,4}", fullmatch=True)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(groups=st.lists(_hex_group, min_size=8, max_size=8), cut=st.integers(0, 7), span=st.integers(2, 7))
def test_no_ipv6_address_survives(groups: list[str], cut: int, span: int) -> None:
    # Given an IPv6 address, in full or with a run of groups compressed to "::"
    full = ":".join(groups)
    kept = [*groups[:cut], "", *groups[min(8, cut + span) :]]
    compressed = ":".join(kept).replace(":::", "::")
    if compressed.startswith(":") and not compressed.startswith("::"):
        compressed = ":" + compressed
    if compressed.endswith(":") and not compressed.endswith("::"):
        compressed += ":"
    for address in (full, compressed):
        if len(address) < 6:
            continue
        # When scrubbed inside free text / Then the address is gone
        assert address not in scrub_text(f"seen from {address} yesterday"), address
