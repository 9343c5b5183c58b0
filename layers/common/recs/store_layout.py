"""Keys and row shapes shared by the writers (training, ingestion, privacy) and the reader (serving).

DynamoDB (both tables use string keys `pk`/`sk` and the TTL attribute `expiresAt`):

model table
    ``CURRENT``/``POINTER``                      the single current-version pointer (and the version's
                                                 learned session constants, `session_constants`)
    ``VERSION#<v>``/``META``                     a version's status, parameters and evaluation
    ``U#<user pseudonym>``/``V#<v>``             a user's top-K (and what they purchased)
    ``SIM#<product>``/``V#<v>``                  similar items
    ``BT#<product>``/``V#<v>``                   bought together
    ``POP#<category or *>``/``V#<v>``            popular (and ``TREND#`` trending) per category
    ``CATALOG``/``V#<v>``                        product -> category, and unavailable products
    ``ATTRS``/``V#<v>``                          product -> [brand, price, tags] (and their categories)
    ``CATALOG``/``AVAILABILITY``                 products not to recommend now (not versioned: stock
                                                 changes between runs); written by the catalog feed
    ``PURCHASED#<user pseudonym>``/``V#<v>``     what the user bought ([[id, count, null], ...])

state table
    ``USER#<pseudonym>``/``PREF``                recommendations preference (opt-out)
    ``SESSION#<pseudonym>``/``RECENT``           live session signal (recent products)
    ``ERASURE#<receipt>``/``RECEIPT``            erasure receipt and audit record (the subject as a
                                                 tombstone, never the id or pseudonym; no ``expiresAt``)
    ``ERASURES#PENDING``/``<receipt>``           erasures the purge has not finished yet (one query
                                                 lists them; deleted when the receipt completes)
    ``EXPORT#<receipt>``/``RECEIPT``             export receipt: owner pseudonym, status, object key;
                                                 ``expiresAt`` (TTL) a while after the object expires
    ``USER#<pseudonym>``/``EXPORT#<receipt>``    a user's exports (erasure finds and deletes them)
    ``ERASED#<tombstone>``/``TOMBSTONE``         an erased shopper, by ``Pseudonymizer.tombstone(pseudonym)``
                                                 of each pseudonym erased (user and linked anonymous ids);
                                                 written by privacy, no ``expiresAt``; training never
                                                 uses the events of a pseudonym whose tombstone exists
    ``RULES``/``CURRENT``                        every merchandising rule (``d``: JSON list of
                                                 `recs.rules.model.Rule`; ``rev``: write counter);
                                                 written by the admin function only, read by serving
    ``RULES#AUDIT``/``<time>#<rev>#<rule>``      one change of a rule (who, before, after, when), in
                                                 the same transaction as the change; no ``expiresAt``

export bucket (S3)
    ``exports/<user pseudonym>/<receipt>.json``  a user's data export (lifecycle expiry; erasure
                                                 deletes a user's folder)

artifact bucket (S3)
    ``catalog/products.jsonl``                   the shop's catalog export, one ``{"id", "category",
                                                 "available"}`` per line (see recs.training.prepare.catalog)
    ``models/<v>/...``                           a version's artifacts (layout in docs/training.md)

Redis keys carry the version, so a flip never serves a mix of versions:
``recs:<v>:<pk>`` holds the same JSON as the DynamoDB row's ``d`` attribute.
Unversioned Redis keys: ``recs:optout:<user>`` (b"1" opted out / b"0"), ``recs:session:<visitor>``
(the ``SESSION#`` row's ``d``; a writer of the session signal may write through to it) and
``recs:control`` (serving's copy of the pointer and availability, read only when DynamoDB fails).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

POINTER_KEY = ("CURRENT", "POINTER")
ALL_CATEGORIES = "*"


#: The pointer's attribute naming how serving merges the version's session lists: the constants
#: training chose on the shop's validation visits (JSON ``{"seeds": int, "recency": float}``).
SESSION_CONSTANTS_ATTRIBUTE = "sessionConstants"


def session_constants(chosen: Mapping[str, Any] | None) -> dict[str, str]:
    """The pointer attribute for a version whose chosen parameters are ``chosen`` (empty when
    they name no session constants: a version trained before they were learned)."""
    if not chosen or "session_seeds" not in chosen or "session_recency" not in chosen:
        return {}
    return session_constants_attribute((int(chosen["session_seeds"]), float(chosen["session_recency"])))


def session_constants_attribute(constants: tuple[int, float] | None) -> dict[str, str]:
    """The pointer attribute for (seeds, recency); empty for None."""
    if constants is None:
        return {}
    value = {"seeds": constants[0], "recency": constants[1]}
    return {SESSION_CONSTANTS_ATTRIBUTE: json.dumps(value, separators=(",", ":"))}


def read_session_constants(row: Mapping[str, Any]) -> tuple[int, float] | None:
    """(seeds, recency) from a pointer row, or None when it has none or they are unreadable:
    serving then keeps its configured defaults rather than failing a request."""
    raw = row.get(SESSION_CONSTANTS_ATTRIBUTE)
    if not raw:
        return None
    try:
        value = json.loads(str(raw))
        seeds, recency = int(value["seeds"]), float(value["recency"])
    except (ValueError, TypeError, KeyError):
        return None
    if not 1 <= seeds <= 200 or not 0.0 <= recency <= 10.0:
        return None
    return seeds, recency


def version_sk(version: str) -> str:
    return f"V#{version}"


def version_meta_key(version: str) -> tuple[str, str]:
    return f"VERSION#{version}", "META"


#: The pointer's (and a version's META) attribute naming the table that holds the version's users'
#: rows (``U#``, ``PURCHASED#``) when they were imported into a table of their own (ImportTable:
#: docs/training.md, Publish); absent, they are in the model table.
LISTS_TABLE_ATTRIBUTE = "listsTable"
#: The registry of those per-version tables: one row per table (sk = its version's sort key), so
#: the erasure finds every table a user's rows may be in and Cleanup the ones to delete.
LISTS_TABLES_PK = "LISTS#TABLES"


def lists_table_key(version: str) -> tuple[str, str]:
    return LISTS_TABLES_PK, version_sk(version)


def lists_table_name(prefix: str, version: str) -> str:
    """The table a version's users' rows are imported into: ``<stack>-lists-<version>``."""
    return f"{prefix}-{version}"


def user_pk(user_pseudonym: str) -> str:
    return f"U#{user_pseudonym}"


def similar_pk(product_id: str) -> str:
    return f"SIM#{product_id}"


def bought_together_pk(product_id: str) -> str:
    return f"BT#{product_id}"


def popular_pk(category: str = ALL_CATEGORIES) -> str:
    return f"POP#{category}"


def trending_pk(category: str = ALL_CATEGORIES) -> str:
    return f"TREND#{category}"


#: Keys of the lists that need no model: a run the gate refuses still refreshes them, so serving
#: may read them from a newer version than personal lists (the pointer's `listsVersion`).
SHOP_WIDE_PREFIXES = ("POP#", "TREND#")


CATALOG_PK = "CATALOG"


def preference_key(user_pseudonym: str) -> tuple[str, str]:
    return f"USER#{user_pseudonym}", "PREF"


def session_key(visitor_pseudonym: str) -> tuple[str, str]:
    return f"SESSION#{visitor_pseudonym}", "RECENT"


def erasure_key(receipt_id: str) -> tuple[str, str]:
    return f"ERASURE#{receipt_id}", "RECEIPT"


def tombstone_key(tombstone: str) -> tuple[str, str]:
    """State-table key recording an erasure: ``tombstone`` is ``Pseudonymizer.tombstone(pseudonym)``,
    never the pseudonym itself. Training reads every ``ERASED#`` row and leaves out the events of
    any pseudonym whose tombstone is among them (``recs.training.privacy.exclusions``)."""
    return f"{TOMBSTONE_PK_PREFIX}{tombstone}", "TOMBSTONE"


TOMBSTONE_PK_PREFIX = "ERASED#"

#: Sort-key prefix of a user's export index rows (``USER#<pseudonym>``/``EXPORT#<receipt>``).
USER_EXPORT_SK_PREFIX = "EXPORT#"
#: Export-bucket folder of the exports (`export_object_key`).
EXPORT_OBJECT_PREFIX = "exports/"


def export_key(receipt_id: str) -> tuple[str, str]:
    """State-table key of an export receipt."""
    return f"EXPORT#{receipt_id}", "RECEIPT"


def user_export_key(user_pseudonym: str, receipt_id: str) -> tuple[str, str]:
    """State-table key listing an export under its owner (one query finds a user's exports)."""
    return preference_key(user_pseudonym)[0], f"{USER_EXPORT_SK_PREFIX}{receipt_id}"


def user_export_prefix(user_pseudonym: str) -> str:
    """The export-bucket folder of one user's exports."""
    return f"{EXPORT_OBJECT_PREFIX}{user_pseudonym}/"


def export_object_key(user_pseudonym: str, receipt_id: str) -> str:
    return f"{user_export_prefix(user_pseudonym)}{receipt_id}.json"


#: Partition of the erasures waiting for the purge (`pending_erasure_key`).
PENDING_ERASURES_PK = "ERASURES#PENDING"

#: The purge's lake watermark (state table): lake partitions before the hour it names were swept
#: for late records of erased visitors (``sweptFrom``: ``YYYY/MM/DD/HH``).
#: Every merchandising rule, in one row (serving reads it with one GetItem per cache TTL).
RULES_KEY = ("RULES", "CURRENT")
#: Audit records of rule changes, by time (a Query on this partition lists them).
RULES_AUDIT_PK = "RULES#AUDIT"


def rule_audit_key(at: datetime, revision: int, rule_id: str) -> tuple[str, str]:
    """The audit record of the change that made revision `revision` (sorted by time)."""
    return RULES_AUDIT_PK, f"{iso(at)}#{revision:09d}#{rule_id}"


LAKE_SWEEP_KEY = ("PURGE#LAKE", "WATERMARK")


def pending_erasure_key(receipt_id: str) -> tuple[str, str]:
    """State-table key listing an erasure the purge has still to finish (queried by partition)."""
    return PENDING_ERASURES_PK, receipt_id


#: Artifact-bucket object holding the shop's catalog export (`recs.catalog.products`). Uploading
#: it triggers the catalog feed (`recs.catalog.feed`); training reads it at Prepare.
CATALOG_OBJECT_KEY = "catalog/products.jsonl"


#: Artifact-bucket folder of the lake days Prepare decoded once (`recs.training.prepare.days`), one
#: folder per arrival day ``YYYY/MM/DD/``; the erasure purge deletes a day's folder when it
#: rewrites that day's lake objects.
PREPARED_DAYS_PREFIX = "prepared/days/"


def prepared_day_prefix(day: str) -> str:
    """The folder of one arrival day (``YYYY/MM/DD``) in `PREPARED_DAYS_PREFIX`."""
    return f"{PREPARED_DAYS_PREFIX}{day}/"


#: Artifact-bucket folder of the documents the training container's Prepare ended with, one per
#: execution (`PreparedResult` reads it: the state machine knows the execution's name, not the
#: version Prepare named). Counts and names only; a lifecycle rule expires them.
PREPARED_RUNS_PREFIX = "prepared/runs/"


def prepared_run_key(execution_name: str) -> str:
    """Where the training container's Prepare stores the prepared job of ``execution_name``."""
    return f"{PREPARED_RUNS_PREFIX}{execution_name}.json"


def version_prefix(version: str) -> str:
    """Where a model version's artifacts live in the artifact bucket."""
    return f"models/{version}/"


#: A version's visitors and items, in the order of its model's rows (kept with the version).
MODEL_IDS_ARTIFACT = "model/ids.json"


def cache_key(version: str, pk: str) -> str:
    return f"recs:{version}:{pk}"


def optout_cache_key(user_pseudonym: str) -> str:
    return f"recs:optout:{user_pseudonym}"


AVAILABILITY_KEY = (CATALOG_PK, "AVAILABILITY")


#: A DynamoDB item holds at most 400 KB: a category map is compressed, then split into parts of
#: this many characters (base64), each its own row.
CATALOG_PART_CHARS = 350_000
#: How a part's `d` is encoded: base64 of one slice of the zlib-compressed JSON map. A row without
#: `enc` carries the map's JSON in `d` (versions published before parts existed).
CATALOG_ENCODING = "zlib-b64"


def availability_rows(
    unavailable: Sequence[str], updated_at: str, catalog_version: str | None = None
) -> list[dict[str, Any]]:
    """The availability rows: the product ids that must not be recommended, and `catalogVersion`,
    which names the catalog feed's latest lists (new arrivals, attribute-similar items, the live
    category map) that serving reads under that version.

    The list is zlib-compressed JSON in base64, like the category map. When it outgrows one item
    (tens of thousands of sold-out products), the parts after the first are rows of their own,
    keyed by the content's hash, written before the unversioned main row that names them (the
    last row of the list): one write of that row switches readers to the new list whole.
    """
    payload, pieces = _compressed_parts(sorted(set(unavailable)))
    stamp = hashlib.sha256(payload.encode()).hexdigest()[:16]
    main: dict[str, Any] = {
        "pk": AVAILABILITY_KEY[0],
        "sk": AVAILABILITY_KEY[1],
        "d": pieces[0],
        "enc": CATALOG_ENCODING,
        "parts": len(pieces),
        "stamp": stamp,
        "updatedAt": updated_at,
    }
    if catalog_version:
        main["catalogVersion"] = catalog_version
    if len(pieces) == 1:
        return [main]
    written = datetime.fromisoformat(updated_at.replace("Z", "+00:00")).timestamp()
    expires = int(written) + AVAILABILITY_PART_TTL
    parts = [
        {"pk": pk, "sk": sk, "d": piece, "expiresAt": expires}
        for (pk, sk), piece in zip(availability_part_keys(main), pieces[1:], strict=True)
    ]
    return [*parts, main]


#: Parts of a long availability list outlive any gap between two uploads or runs (DynamoDB TTL).
AVAILABILITY_PART_TTL = 400 * 86_400


def availability_part_keys(main: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The keys of an availability list's parts after the main row's (none for a short list)."""
    parts = int(main.get("parts", 1))
    return [(f"{CATALOG_PK}#AVAILABILITY#{main.get('stamp')}", f"PART#{n}") for n in range(1, parts)]


def decode_availability(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The unavailable product ids from the main row and its parts (a row without `enc` holds the
    JSON list itself)."""
    main = rows[0]
    if main.get("enc") != CATALOG_ENCODING:
        return [str(p) for p in json.loads(str(main["d"]))]
    return [str(p) for p in json.loads(zlib.decompress(_joined_parts(rows, "availability")))]


#: Keys of the catalog feed's lists, read under the availability row's `catalogVersion`.
CATALOG_FEED_PREFIXES = ("NEW#", "ASIM#")


def catalog_part_pk(part: int, pk: str = CATALOG_PK) -> str:
    """The partition key of a map's part: ``CATALOG`` (or the attribute map's ``ATTRS``) for the
    first, ``CATALOG#<n>`` (``ATTRS#<n>``) after."""
    return pk if part == 0 else f"{pk}#{part}"


def category_map_rows(
    categories: Mapping[str, str], version: str, generated_at: str, expires_at: int
) -> list[dict[str, Any]]:
    """A version's ``CATALOG`` rows: product -> category, what serving's category filters and
    category-popular use (written by training and by the catalog feed).

    The map is compressed and split into parts that each fit a DynamoDB item (a catalog of
    16,000 products already outgrows one as plain JSON); the first row names how many there are
    (`parts`), so a reader fetches the others by key (`catalog_part_keys`).
    """
    return _map_rows(CATALOG_PK, dict(sorted(categories.items())), version, generated_at, expires_at)


def _map_rows(pk: str, value: Any, version: str, generated_at: str, expires_at: int) -> list[dict[str, Any]]:
    """A version's map under `pk`, compressed and split in parts (`category_map_rows`)."""
    _, pieces = _compressed_parts(value)
    sk = version_sk(version)
    return [
        {
            "pk": catalog_part_pk(part, pk),
            "sk": sk,
            "v": version,
            "g": generated_at,
            "expiresAt": expires_at,
            "d": piece,
            "enc": CATALOG_ENCODING,
            "parts": len(pieces),
        }
        for part, piece in enumerate(pieces)
    ]


def catalog_part_keys(first: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The keys of a map's parts after its first row (none for a one-part map): the category
    map's or the attribute map's, by the first row's `pk`."""
    parts = int(first.get("parts", 1))
    pk = str(first.get("pk") or CATALOG_PK)
    return [(catalog_part_pk(part, pk), str(first["sk"])) for part in range(1, parts)]


def category_map_payload(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """The map's bytes from its rows, first row first: zlib-compressed JSON, or plain JSON for a
    row without `enc`. `decode_category_map` reads either (`decode_attribute_map` an attribute
    map's)."""
    first = rows[0]
    if first.get("enc") != CATALOG_ENCODING:
        return str(first["d"]).encode()
    what = "attribute map" if first.get("pk") == ATTRIBUTES_PK else "category map"
    return _joined_parts(rows, f"{what} of {first.get('v')}")


def _compressed_parts(value: Any) -> tuple[str, list[str]]:
    """`value` as zlib-compressed JSON in base64, and that text cut into parts that each fit a
    DynamoDB item (one part at least, empty for nothing)."""
    text = json.dumps(value, separators=(",", ":"))
    payload = base64.b64encode(zlib.compress(text.encode(), 6)).decode()
    parts = [payload[i : i + CATALOG_PART_CHARS] for i in range(0, len(payload), CATALOG_PART_CHARS)]
    return payload, parts or [""]


def _joined_parts(rows: Sequence[Mapping[str, Any]], what: str) -> bytes:
    """The compressed bytes of a value split by `_compressed_parts`, from its rows in order;
    every part must be there."""
    if len(rows) != int(rows[0].get("parts", 1)):
        raise ValueError(f"{what}: {len(rows)} of {rows[0].get('parts')} parts")
    return base64.b64decode("".join(str(row["d"]) for row in rows))


def decode_category_map(payload: bytes) -> dict[str, str]:
    """product -> category from `category_map_payload`'s bytes (compressed or plain JSON)."""
    text = payload if payload[:1] == b"{" else zlib.decompress(payload)
    decoded: dict[str, str] = json.loads(text)
    return decoded


#: A version's attribute map: what serving's brand, price and tag filters use, beside the category
#: map and written the same way (compressed, in parts for a large catalog) by training and the
#: catalog feed; read only by a request that filters on brand, price or tags.
ATTRIBUTES_PK = "ATTRS"
#: What the map holds of each product, in this order (``fields`` of the payload names them, so a
#: reader finds each by name should more be added; a map written before tags has two).
ATTRIBUTE_FIELDS = ("brand", "price", "tags")
BRAND, PRICE, TAGS = 0, 1, 2
#: The categories kept per brand and per tag (most of its products first): where serving looks
#: for more of a brand or a tag than the shop-wide lists hold.
BRAND_CATEGORIES = 20
TAG_CATEGORIES = 20

#: Price bands of an attribute map: the shop's prices cut at their deciles (fewer bands when many
#: products share a price), each with the categories most of its products are in (up to
#: `PRICE_BAND_CATEGORIES`): where serving looks for more of a price range than the shop-wide lists hold.
PRICE_BANDS = 10
PRICE_BAND_CATEGORIES = 20

#: A product's attributes: [brand, price, tags], brand and price None when the catalog does not
#: say, tags a tuple (empty when none; absent from a map written before tags).
Attributes = Sequence[Any]
#: What writers give per product: (brand, price) or (brand, price, tags).
AttributeSource = tuple[str | None, float | None] | tuple[str | None, float | None, Sequence[str]]


@dataclass(frozen=True)
class PriceBands:
    """The shop's prices in bands: band i holds the prices from ``edges[i - 1]`` (inclusive) up
    to ``edges[i]`` (exclusive), the first from 0 and the last without an upper bound; per band,
    its categories with their number of products in the band, most first."""

    edges: Sequence[float] = ()
    categories: Sequence[Sequence[tuple[str, int]]] = ()

    def categories_within(self, low: float | None, high: float | None) -> dict[str, int]:
        """Each category's products in the bands that meet [low, high] (either bound optional)."""
        if not self.categories:
            return {}
        first = bisect.bisect_right(self.edges, low) if low is not None else 0
        last = bisect.bisect_right(self.edges, high) if high is not None else len(self.edges)
        counts: dict[str, int] = {}
        for band in self.categories[first : last + 1]:
            for category, products in band:
                counts[category] = counts.get(category, 0) + products
        return counts


@dataclass(frozen=True)
class AttributeMap:
    """A decoded attribute map: product -> [brand, price, tags] (brands and tags lower-cased, as
    the catalog export is parsed; prices > 0; tags a tuple of strings), each brand's and each
    tag's categories, most of its products first, and the categories of each price band
    (`PriceBands`)."""

    products: dict[str, Attributes]
    brand_categories: Mapping[str, Sequence[str]]
    price_bands: PriceBands = PriceBands()
    tag_categories: Mapping[str, Sequence[str]] = field(default_factory=dict)


def _price_bands(attributes: Mapping[str, AttributeSource], categories: Mapping[str, str]) -> dict[str, Any]:
    """The ``priceBands`` of an attribute map: decile edges of the priced products that have a
    category, and per band its categories, most products first (ties by name)."""
    priced = sorted(
        (float(price), category)
        for product, (_, price, *_) in attributes.items()
        if price and (category := categories.get(product))
    )
    if not priced:
        return {"edges": [], "categories": []}
    prices = [price for price, _ in priced]
    edges = sorted({prices[k * len(prices) // PRICE_BANDS] for k in range(1, PRICE_BANDS)} - {prices[0]})
    counts: list[dict[str, int]] = [{} for _ in range(len(edges) + 1)]
    for price, category in priced:
        band = counts[bisect.bisect_right(edges, price)]
        band[category] = band.get(category, 0) + 1
    ranked = [
        [[c, n] for c, n in sorted(band.items(), key=lambda kv: (-kv[1], kv[0]))][:PRICE_BAND_CATEGORIES]
        for band in counts
    ]
    return {"edges": edges, "categories": ranked}


def _ranked_categories(counts: Mapping[str, Mapping[str, int]], keep: int) -> dict[str, list[str]]:
    """Per key (a brand, a tag), its categories, most products first (ties by name), up to `keep`."""
    return {
        key: [c for c, _ in sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))][:keep]
        for key, per in sorted(counts.items())
    }


def attribute_map_rows(
    attributes: Mapping[str, AttributeSource],
    categories: Mapping[str, str],
    version: str,
    generated_at: str,
    expires_at: int,
) -> list[dict[str, Any]]:
    """A version's ``ATTRS`` rows (parts ``ATTRS#<n>`` after the first, as `category_map_rows`):
    ``{"fields": ["brand", "price", "tags"], "products": {id: [brand, price, [tag index, ...]]},
    "tags": [tag, ...], "brandCategories": {brand: [category, ...]}, "tagCategories": {tag:
    [category, ...]}, "priceBands": {"edges": [price, ...], "categories": [[[category, n], ...],
    ...]}}``. Tags are written once, in the sorted ``tags`` dictionary, and each product names
    its own by index (null when it has none), so a shop's few tags repeated over many products
    cost a few digits each. Products with neither a brand, a price nor a tag are left out."""
    tags_of = {
        product: tuple(dict.fromkeys(value[2])) if len(value) > 2 else ()
        for product, value in attributes.items()
    }
    dictionary = sorted({tag for tags in tags_of.values() for tag in tags})
    index = {tag: i for i, tag in enumerate(dictionary)}
    products = {
        product: [
            brand or None,
            price if price else None,
            [index[tag] for tag in tags_of[product]] or None,
        ]
        for product, (brand, price, *_) in sorted(attributes.items())
        if brand or price or tags_of[product]
    }
    per_brand: dict[str, dict[str, int]] = {}
    per_tag: dict[str, dict[str, int]] = {}
    for product, (brand, *_) in attributes.items():
        category = categories.get(product)
        if not category:
            continue
        if brand:
            counted = per_brand.setdefault(brand, {})
            counted[category] = counted.get(category, 0) + 1
        for tag in tags_of[product]:
            counted = per_tag.setdefault(tag, {})
            counted[category] = counted.get(category, 0) + 1
    value = {
        "fields": list(ATTRIBUTE_FIELDS),
        "products": products,
        "tags": dictionary,
        "brandCategories": _ranked_categories(per_brand, BRAND_CATEGORIES),
        "tagCategories": _ranked_categories(per_tag, TAG_CATEGORIES),
        "priceBands": _price_bands(attributes, categories),
    }
    return _map_rows(ATTRIBUTES_PK, value, version, generated_at, expires_at)


def _tag(entry: int | str, dictionary: Sequence[str]) -> str:
    """A product's tag: its index in the dictionary (a writer without one may give the tag)."""
    return dictionary[entry] if isinstance(entry, int) else str(entry).lower()


def decode_attribute_map(payload: bytes) -> AttributeMap:
    """The attribute map from `category_map_payload`'s bytes of its rows. Each product's tags
    come back as a tuple of the dictionary's strings (one string object per tag, shared by its
    products), so a filter compares strings and maps of two versions merge as they are."""
    text = payload if payload[:1] == b"{" else zlib.decompress(payload)
    decoded: dict[str, Any] = json.loads(text)
    products: dict[str, Any] = decoded.get("products") or {}
    fields = list(decoded.get("fields") or ATTRIBUTE_FIELDS[:2])
    dictionary = [str(tag) for tag in decoded.get("tags") or ()]
    if fields != list(ATTRIBUTE_FIELDS):
        # A writer that orders (or names) its fields otherwise, or one before tags: each found by name.
        at = [fields.index(name) if name in fields else None for name in ATTRIBUTE_FIELDS]
        products = {
            product: [values[i] if i is not None and i < len(values) else None for i in at]
            for product, values in products.items()
        }
    none: tuple[str, ...] = ()
    for values in products.values():
        indices = values[TAGS] if len(values) > TAGS else None
        tags = tuple(_tag(entry, dictionary) for entry in indices) if indices else none
        if len(values) > TAGS:
            values[TAGS] = tags
        else:
            values.append(tags)
    bands = decoded.get("priceBands") or {}
    # A map written before price bands has none: price filters are then not deepened.
    price_bands = PriceBands(
        [float(edge) for edge in bands.get("edges") or ()],
        [[(str(c), int(n)) for c, n in band] for band in bands.get("categories") or ()],
    )
    return AttributeMap(
        products, decoded.get("brandCategories") or {}, price_bands, decoded.get("tagCategories") or {}
    )


def new_arrivals_pk(category: str = ALL_CATEGORIES) -> str:
    """Products in the catalog that no model knows yet, newest first (the catalog feed's)."""
    return f"NEW#{category}"


def attribute_similar_pk(product_id: str) -> str:
    """A product's similar items by category and attributes (the catalog feed's, for products
    no model knows yet)."""
    return f"ASIM#{product_id}"


def purchased_pk(user_pseudonym: str) -> str:
    return f"PURCHASED#{user_pseudonym}"


def session_cache_key(visitor_pseudonym: str) -> str:
    return f"recs:session:{visitor_pseudonym}"


CONTROL_CACHE_KEY = "recs:control"


# ----------------------------------------------------------------------------- row payloads
def encode_items(items: Sequence[tuple[str, float, str | None]]) -> str:
    """Compact JSON for a ranked list: [[id, score, reason], ...] (scores rounded to 5 digits)."""
    return json.dumps(
        [[pid, round(float(score), 5), reason] for pid, score, reason in items], separators=(",", ":")
    )


def decode_items(payload: str | bytes) -> list[tuple[str, float, str | None]]:
    return [(str(pid), float(score), reason) for pid, score, reason in json.loads(payload)]


def list_row(
    pk: str,
    version: str,
    items: Sequence[tuple[str, float, str | None]],
    generated_at: str,
    expires_at: int,
    **extra: Any,
) -> dict[str, Any]:
    """A ranked-list row; `d` is exactly what the cache stores."""
    return {
        "pk": pk,
        "sk": version_sk(version),
        "d": encode_items(items),
        "v": version,
        "g": generated_at,
        "expiresAt": expires_at,
        **extra,
    }


#: Write counter of a session row (optimistic concurrency between concurrent ingest requests).
SESSION_VERSION_ATTRIBUTE = "ver"
#: The clock hour (epoch seconds // 3600) that `SESSION_COUNT_ATTRIBUTE` counts events of.
SESSION_HOUR_ATTRIBUTE = "hr"
#: Events ingest accepted for the visitor in that hour (the per-visitor cap, `VISITOR_EVENTS_PER_HOUR`).
SESSION_COUNT_ATTRIBUTE = "n"


def session_row(
    visitor_pseudonym: str,
    recent: Sequence[tuple[str, str, str]],
    version: int,
    expires_at: int,
    hour_count: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The live session signal row: `d` is ``[[productId, eventType, timestamp], ...]``, newest
    first; ``ver`` counts the row's writes; ``expiresAt`` is its TTL; with the per-visitor cap on,
    ``hr`` and ``n`` are the clock hour and the events ingest accepted for the visitor in it."""
    pk, sk = session_key(visitor_pseudonym)
    row: dict[str, Any] = {
        "pk": pk,
        "sk": sk,
        "d": json.dumps([list(entry) for entry in recent], separators=(",", ":")),
        SESSION_VERSION_ATTRIBUTE: version,
        "expiresAt": expires_at,
    }
    if hour_count is not None:
        row[SESSION_HOUR_ATTRIBUTE], row[SESSION_COUNT_ATTRIBUTE] = hour_count
    return row


def decode_session_items(payload: str | bytes) -> list[tuple[str, str, str]]:
    """A session row's `d`: (productId, eventType, timestamp) tuples, newest first."""
    return [(str(p), str(t), str(ts)) for p, t, ts in json.loads(payload)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
