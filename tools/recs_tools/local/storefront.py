"""The storefront demo page (web/storefront) and the tracker (sdk/) on the local API server.

The page calls the API on its own origin, so it needs no CORS; `data/shop.json` stands in
for the shop's own catalog pages and sign-in: the synthetic shop's products and a few of its
shoppers (never opted out, so their lists are personal).
"""

from __future__ import annotations

import json
from pathlib import Path

from recs_tools.checkout import repo_root
from recs_tools.synthetic import SyntheticShop

STOREFRONT_PREFIX = "/shop/"
SHOP_DATA_PREFIX = "/shop/data/"
SDK_PREFIX = "/sdk/"


def storefront_mounts(data_dir: Path) -> dict[str, Path]:
    """The `static` argument of `LocalApiServer`: the page, its shop data, the tracker."""
    root = repo_root()
    return {
        STOREFRONT_PREFIX: root / "web" / "storefront",
        SHOP_DATA_PREFIX: data_dir,
        SDK_PREFIX: root / "sdk",
    }


def write_shop_data(data_dir: Path, shop: SyntheticShop, *, shoppers: int = 5) -> Path:
    """Write `shop.json`: the catalog and the first `shoppers` users who did not opt out."""
    opted_out = set(shop.opted_out_user_ids)
    users = [user for user in shop.users if user not in opted_out][:shoppers]
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "shop.json"
    path.write_text(json.dumps({"products": shop.catalog(), "users": users}))
    return path
