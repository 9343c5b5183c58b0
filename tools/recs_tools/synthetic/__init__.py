"""A seeded, realistic synthetic shop: catalog, shoppers and their events in the ShopEvent wire format.

Used by the local demo (events posted to the ingest API), by tests with a known answer and by
benchmarks. Everything is drawn from one seeded ``numpy.random.Generator`` per stage, so the same
configuration always gives byte-identical events.

Examples
--------
>>> from recs_tools.synthetic import build_config, generate_shop, iter_batches
>>> shop = generate_shop(build_config("test", seed=7))
>>> batches = list(iter_batches(shop.events, size=500))
"""

from recs_tools.synthetic.catalog import Product
from recs_tools.synthetic.config import DEFAULT_NOW, ShopConfig
from recs_tools.synthetic.presets import PRESETS, build_config, preset_names
from recs_tools.synthetic.shop import SyntheticShop, generate_shop
from recs_tools.synthetic.wire import PII_FIELDS, WireEvent, iter_batches, read_jsonl, write_jsonl

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
