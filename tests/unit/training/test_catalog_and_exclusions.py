"""The catalog export (availability, categories) and the privacy exclusions seam."""

from __future__ import annotations

import pytest

from recs.pseudonyms import Pseudonymizer
from recs.training.prepare.catalog import Catalog, CatalogFormatError
from recs.training.privacy.exclusions import ExclusionPolicy, collect


def test_the_catalog_export_decides_availability_and_categories() -> None:
    # Given an export with an available, an unavailable and a category-less product
    catalog = Catalog.from_jsonl(
        [
            b'{"id": "p1", "category": "kitchen", "available": true}',
            b"",
            b'{"id": "p2", "category": "garden", "available": false}',
            b'{"id": "p3"}',
        ]
    )
    items = ["p1", "p2", "p3", "gone"]
    # When items are checked
    mask = catalog.unavailable_mask(items)
    categories = catalog.categories(items, [None, None, "from-events", "old"])
    # Then p2 and the product missing from the export are unavailable; categories prefer the catalog
    assert mask.tolist() == [False, True, False, True]
    assert categories == ["kitchen", "garden", "from-events", "old"]


def test_the_catalog_keeps_brand_price_and_tags_of_the_products_that_have_them() -> None:
    # Given an export with a brand and price, a price only, a brand only, tags only, and none
    catalog = Catalog.from_jsonl(
        [
            b'{"id": "p1", "brand": " Acme ", "price": 12.5}',
            b'{"id": "p2", "price": 3}',
            b'{"id": "p3", "brand": "Globex", "price": 0}',
            b'{"id": "p4", "category": "kitchen"}',
            b'{"id": "p5", "tags": [" Eco ", "SALE", "eco"]}',
        ]
    )
    # When its attributes are taken (what Prepare keeps for serving's brand, price and tag filters)
    # Then brands and tags are the export's lower-cased and trimmed, a price of 0 is unknown, and
    # p4 has none
    assert catalog.attributes() == {
        "p1": ("acme", 12.5, ()),
        "p2": (None, 3.0, ()),
        "p3": ("globex", None, ()),
        "p5": (None, None, ("eco", "sale")),
    }
    assert Catalog.absent().attributes() == {}


def test_without_an_export_everything_seen_is_available() -> None:
    # Given no catalog file / When items are checked / Then nothing is unavailable
    assert Catalog.absent().unavailable_mask(["p1", "p2"]).tolist() == [False, False]


@pytest.mark.parametrize("line", [b"not json", b'["p1"]', b'{"category": "x"}', b'{"id": ""}'])
def test_a_malformed_export_line_is_an_error_naming_the_line(line: bytes) -> None:
    # Given a bad second line / When parsed / Then the error names line 2
    with pytest.raises(CatalogFormatError, match="line 2"):
        Catalog.from_jsonl([b'{"id": "p1"}', line])


def test_opted_out_users_and_erased_pseudonyms_are_excluded() -> None:
    # Given a pseudonymizer, one opted-out user and tombstones of an erased user and anonymous id
    pseudonyms = Pseudonymizer(b"k" * 32)
    alice, bob, carol = (pseudonyms.user(u) for u in ("alice", "bob", "carol"))
    anon = pseudonyms.anon("browser-1")
    policy = ExclusionPolicy(
        opted_out=frozenset({alice}),
        tombstones=frozenset({pseudonyms.tombstone(bob), pseudonyms.tombstone(anon)}),
        tombstone_of=pseudonyms.tombstone,
    )
    # When visitors are checked
    # Then alice (opted out), bob and the anonymous id (erased) are excluded, carol is not
    assert policy.excluded(alice, True)
    assert policy.is_erased(bob)
    assert policy.excluded(bob, True)
    assert policy.excluded(anon, False)
    assert not policy.excluded(carol, True)
    assert not policy.is_erased(carol)
    assert policy.stats() == {"optedOutUsers": 1, "erasureTombstones": 2}


def test_an_opt_out_applies_to_the_pseudonym_it_was_made_for_user_or_anonymous() -> None:
    # Given a user's opt-out and an anonymous visitor's (made with a signed anonymous id): both
    # are preference rows under the pseudonym, whose namespace (u_ / a_) tells them apart
    policy = ExclusionPolicy(frozenset({"u_1", "a_2"}), frozenset(), lambda p: p)
    # When training asks about each / Then both are left out, and nobody else
    assert policy.excluded("u_1", True)
    assert policy.excluded("a_2", False)
    assert not policy.excluded("a_3", False)
    assert not policy.excluded("u_2", True)


def test_scan_records_split_into_opt_outs_and_tombstones() -> None:
    # Given records of both kinds (duplicates from overlapping pages) / When collected
    opted_out, tombstones = collect([("optout", "u1"), ("erased", "t1"), ("optout", "u1")])
    # Then each lands in its set
    assert opted_out == {"u1"}
    assert tombstones == {"t1"}
    assert ExclusionPolicy.nobody().excluded("anyone", True) is False
