"""A seeded, realistic synthetic shop: catalog, shoppers and their events in the ShopEvent wire format.

Used by the local demo (events posted to the ingest API), by tests with a known answer and by
benchmarks. Everything is drawn from one seeded ``numpy.random.Generator`` per stage, so the same
configuration always gives byte-identical events.

Examples
--------
>>> from recs.synthetic import build_config, generate_shop, iter_batches
>>> shop = generate_shop(build_config("test", seed=7))
>>> batches = list(iter_batches(shop.events, size=500))
"""

from recs.synthetic.catalog import Product
from recs.synthetic.config import DEFAULT_NOW, ShopConfig
from recs.synthetic.presets import PRESETS, build_config, preset_names
from recs.synthetic.shop import SyntheticShop, generate_shop
from recs.synthetic.wire import PII_FIELDS, WireEvent, iter_batches, read_jsonl, write_jsonl

__all__ = [
    "DEFAULT_NOW",
    "PII_FIELDS",
    "PRESETS",
    "Product",
    "ShopConfig",
    "SyntheticShop",
    "WireEvent",
    "build_config",
    "generate_shop",
    "iter_batches",
    "preset_names",
    "read_jsonl",
    "write_jsonl",
]
