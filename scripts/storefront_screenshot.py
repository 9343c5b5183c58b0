"""Screenshot the storefront demo with Debian's Chromium: docs/images/storefront.png.

make demo   # in another terminal, then:
python scripts/storefront_screenshot.py http://127.0.0.1:3000/shop/ docs/images/storefront.png
"""

from __future__ import annotations

import argparse
import json
import shutil
import urllib.request

from playwright.sync_api import sync_playwright


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="the storefront's URL, as `make demo` prints it")
    parser.add_argument("out", help="the PNG to write")
    args = parser.parse_args()
    with urllib.request.urlopen(args.url + "data/shop.json", timeout=10) as response:
        shopper = json.load(response)["users"][0]
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium not found: run make chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        page.goto(args.url)
        # A signed-in shopper, so the shelf shows personal reasons.
        page.select_option("#identity", shopper)
        page.wait_for_selector("#recommended[data-loaded='true'] .card")
        page.screenshot(path=args.out)
        browser.close()
    print(f"wrote {args.out} (signed in as {shopper})")


if __name__ == "__main__":
    main()
