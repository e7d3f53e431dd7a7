"""Fixtures for the console's browser tests.

One dewstack (the binary in $DEWSTACK_BIN, started as the conformance suite
starts it) with three domains declared in a config file: "acme" (alice, the
console user, with a second project for the paging test), "other" (bob, for
VPCEP connections and isolation). Chromium is Debian's (/usr/bin/chromium, or
$CHROMIUM), driven headless by Playwright; Playwright's own browser downloads
are never used.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "conformance"))

import support  # noqa: E402
from support import DewstackServer  # noqa: E402

for _k in ("NO_PROXY", "no_proxy"):
    _cur = os.environ.get(_k, "")
    os.environ[_k] = ",".join(x for x in [_cur, "127.0.0.1", "localhost"] if x)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--no-proxy-server"]
PAGING_PROJECT = (support.gen_hex32(), f"{support.REGION}_paging")


@pytest.fixture(scope="session")
def alice():
    return support.new_identity(domain_name="acme", user="alice")


@pytest.fixture(scope="session")
def bob():
    return support.new_identity(domain_name="other", user="bob")


@pytest.fixture(scope="session")
def server(tmp_path_factory, alice, bob):
    base = tmp_path_factory.mktemp("console")
    cfg = base / "dewstack.toml"
    cfg.write_text(support.config_toml([alice, bob], extra_projects={alice.domain_id: [PAGING_PROJECT]}))
    root = support.new_identity(user="root-admin")
    env = {"DEWSTACK_ACCESS_KEY": root.ak, "DEWSTACK_SECRET_KEY": root.sk,
           "DEWSTACK_DOMAIN_ID": root.domain_id, "DEWSTACK_PROJECT_ID": root.project_id,
           "DEWSTACK_REGION": support.REGION, "DEWSTACK_USER": root.user,
           "DEWSTACK_PASSWORD": root.password}
    srv = DewstackServer(base / "data", base / "logs", config=cfg, identity_env=env, name="console",
                         shared_database=False)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where the screenshots go: $CONSOLE_SHOTS, else the pytest temp dir."""
    d = Path(os.environ.get("CONSOLE_SHOTS") or tmp_path_factory.mktemp("shots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (scripts/test.sh does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser context on the console; fails the test on any page
    error or console error (CSP violations are console errors), except the
    browser's own note about an HTTP 4xx answer, which the tests provoke and
    check on the page."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    problems = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def on_console(msg):
        if msg.type != "error":
            return
        if msg.text.startswith("Failed to load resource: the server responded with a status of 4"):
            return
        problems.append(f"console error: {msg.text}")

    pg.on("console", on_console)
    pg.goto(f"{server.endpoint}/console/")
    yield pg
    ctx.close()
    assert problems == [], problems
