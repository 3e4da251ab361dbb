"""Screenshots of the console for the README, taken from a running service with the demo
loaded (`make run`): `python scripts/console_screenshots.py --key cdp_...`.

Uses the system's Chromium, as the console tests do."""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True)
    parser.add_argument("--email", default="rosa.martin0@example.com")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for name, size in (("desktop", (1280, 800)), ("tablet", (820, 1180))):
            page = browser.new_page(
                base_url=args.url, viewport={"width": size[0], "height": size[1]}
            )
            page.goto("/")
            page.get_by_label("API key").fill(args.key)
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"/?type=email&value={args.email}")
            page.locator("#live").filter(has_text="live").wait_for()
            page.screenshot(path=args.out / f"customer-{name}.png")
            if name == "desktop":
                page.goto("/?view=overview")
                page.get_by_role("table", name="RFM heat map").wait_for()
                page.screenshot(path=args.out / "overview.png", full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
