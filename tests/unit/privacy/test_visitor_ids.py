"""Signed anonymous ids: issued by the API, verified in constant time, refused when unsigned,
forged, altered, truncated or signed under another key (401 naming the header)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest

from recs.contracts.ids import ID_PATTERN
from recs.errors import StoreUnavailableError
from recs.pseudonyms import LazyPseudonymizer, Pseudonymizer
from recs.visitor_ids import SIGNING_LABEL, VISITOR_HEADER, VisitorIdError, VisitorIds
from tests.unit.privacy.fakes import PSEUDONYMS

SEED = 21


def ids(pseudonyms: Pseudonymizer = PSEUDONYMS) -> VisitorIds:
    rng = random.Random(SEED)
    return VisitorIds(lambda: pseudonyms.derived_key(SIGNING_LABEL), token_bytes=rng.randbytes)


def reason_of(error: VisitorIdError) -> str:
    (field,) = error.fields
    assert field == VISITOR_HEADER
    return error.fields[field]


def test_an_issued_id_verifies_and_is_a_valid_anon_id_of_the_event_contract() -> None:
    # Given the API's signer / When it issues two ids
    signer = ids()
    first, second = signer.issue(), signer.issue()
    # Then each verifies, they differ, and each fits the events' and recommendations' anonId
    assert signer.verify(first) == first
    assert signer.verify(second) == second
    assert first != second
    assert re.fullmatch(ID_PATTERN, first)
    assert first.startswith("v1.")
    assert len(first) == 48


def test_the_signing_key_is_not_the_pseudonym_key_and_differs_per_label() -> None:
    # Given the derived keys of two labels / Then neither is another's, nor a pseudonym of the label
    signing = PSEUDONYMS.derived_key(SIGNING_LABEL)
    assert signing != PSEUDONYMS.derived_key(b"another-purpose")
    assert len(signing) == 32
    assert signing.hex()[:32] not in PSEUDONYMS.anon(SIGNING_LABEL.decode())


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda good: good[:-1] + ("A" if good[-1] != "A" else "B"), "has an invalid signature"),
        (lambda good: good[:3] + ("A" if good[3] != "A" else "B") + good[4:], "has an invalid signature"),
        (lambda good: good[:-2], "is not a signed anonymous id"),
        (lambda good: good.rsplit(".", 1)[0], "is not a signed anonymous id"),
        (lambda good: "v2" + good[2:], "is not a signed anonymous id"),
        (lambda _good: "a_3f2b8c1e-0d4a-4b6e-9f1a-2c3d4e5f6a7b", "is not a signed anonymous id"),
        (lambda good: good + " ", "is not a signed anonymous id"),
        (lambda _good: "", "is missing"),
    ],
    ids=[
        "forged-tag",
        "altered-id",
        "truncated",
        "no-tag",
        "other-version",
        "old-tracker-id",
        "trailing-space",
        "empty",
    ],
)
def test_ids_the_api_did_not_issue_are_refused_naming_the_header(
    tamper: Callable[[str], str], reason: str
) -> None:
    # Given a good id altered in one way
    signer = ids()
    bad = tamper(signer.issue())
    # When it is verified / Then it is refused with 401, the reason naming the header
    with pytest.raises(VisitorIdError) as refused:
        signer.verify(bad)
    assert refused.value.status == 401
    assert reason_of(refused.value).startswith(reason)
    assert not signer.is_signed(bad)


def test_a_missing_header_is_refused() -> None:
    # Given no header at all / Then 401 "is missing"
    with pytest.raises(VisitorIdError) as refused:
        ids().verify(None)
    assert reason_of(refused.value) == "is missing"


def test_an_id_signed_under_another_key_is_refused() -> None:
    # Given an id issued by a stack with another pseudonym secret
    elsewhere = ids(Pseudonymizer(b"another-stack-pseudonym-key-987654")).issue()
    # When this stack verifies it / Then the signature does not match
    with pytest.raises(VisitorIdError) as refused:
        ids().verify(elsewhere)
    assert reason_of(refused.value) == "has an invalid signature"


def test_the_key_is_fetched_on_first_use_and_an_outage_is_a_503_not_a_refusal() -> None:
    # Given a signer whose secret cannot be had yet
    def unavailable() -> bytes:
        raise StoreUnavailableError("secrets manager down")

    signer = VisitorIds(lambda: LazyPseudonymizer(unavailable).derived_key(SIGNING_LABEL))
    # When an id is issued or checked / Then the store fault surfaces (503), no id is refused as forged
    with pytest.raises(StoreUnavailableError):
        signer.issue()
    with pytest.raises(StoreUnavailableError):
        signer.verify("v1." + "A" * 22 + "." + "B" * 22)
