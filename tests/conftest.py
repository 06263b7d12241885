"""Fixtures shared by the test files.

The browser tests share one headless Chromium and one app server for the whole session
(dash_duo started both for every test); each pytest-xdist worker (tests/run.sh) has its
own. Each test still gets a page of its own: a new tab (its own history and device
emulation), the window at Chromium's first size, no cookie and nothing stored for the
app's origin, the browser's log drained, and the app's page loaded afresh with its plots
drawn (``page``) or left for the test to load (``blank_page``).
The helpers the browser tests share are in browser_helpers.py."""
import os
import socket

import pytest
from selenium.common.exceptions import WebDriverException

from browser_helpers import LOAD_TIMEOUT, PLOTS


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory) -> dict:
    """The environment for the ``playground`` command run in a subprocess: JAX's persistent
    compilation cache in a directory the session shares, so that the first command to run
    a program compiles it and the others load it (as the Docker image's servers load what
    its build step compiled). Each command still starts from nothing else."""
    cache = tmp_path_factory.mktemp("jax-cache")
    return {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(cache),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}


def pytest_collection_modifyitems(config, items):
    """The files with browser tests first, each file's tests in their order. tests/run.sh
    runs two pytest-xdist workers (``--dist worksteal``): one starts on the first half of
    this order, the other on the second, and each takes tests from the end of the other's
    once it is done. So mostly one worker drives a browser while the other computes, and
    the last tests to run are short ones."""
    browser = {item.path for item in items if item.get_closest_marker("browser")}
    items.sort(key=lambda item: item.path not in browser)  # (a stable sort)


def _free_port() -> int:
    """A port no other process listens on (other test runs share this machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _open_browser(config, download_path: str):
    """A Chromium driven through dash.testing, with dash_duo's command-line options."""
    from dash.testing.browser import Browser

    browser = Browser(
        browser=config.getoption("webdriver"),
        remote=config.getoption("remote"),
        remote_url=config.getoption("remote_url"),
        headless=config.getoption("headless"),
        options=config.hook.pytest_setup_options(),
        download_path=download_path,
        percy_assets_root=config.getoption("percy_assets"),
        percy_finalize=config.getoption("nopercyfinalize"),
        pause=config.getoption("pause"),
    )
    browser.first_size = browser.driver.get_window_size()
    return browser


class _Session:
    """The session's server and browser; the browser is opened again if it died."""

    def __init__(self, config, download_path: str):
        from dash.testing.application_runners import ThreadedRunner

        from app import app, warm  # one app per process: Dash hands its callbacks to the first

        warm()
        self.config, self.download_path = config, download_path
        self.server = ThreadedRunner()
        self.server.start(app, port=_free_port())
        self.browser = _open_browser(config, download_path)

    def alive_browser(self):
        try:
            self.browser.driver.window_handles  # noqa: B018  (raises if Chromium is gone)
        except WebDriverException:
            try:
                self.browser.driver.quit()
            except WebDriverException:
                pass
            self.browser = _open_browser(self.config, self.download_path)
        return self.browser

    def close(self):
        try:
            self.browser.driver.quit()
        finally:
            self.server.stop()


@pytest.fixture(scope="session")
def browser_session(request, tmp_path_factory):
    session = _Session(request.config, str(tmp_path_factory.mktemp("download")))
    yield session
    session.close()


def fresh_tab(browser, origin: str):
    """Replace every tab by one new blank tab at the window's first size, with no cookie
    and nothing stored for ``origin`` (the HTTP cache stays: the page's scripts load from
    it, as a returning visitor's do)."""
    driver = browser.driver
    old = driver.window_handles
    driver.switch_to.new_window("tab")
    new = driver.current_window_handle
    for handle in old:
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(new)
    driver.set_window_size(browser.first_size["width"], browser.first_size["height"])
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Storage.clearDataForOrigin", {
        "origin": origin, "storageTypes": "local_storage,session_storage,indexeddb"})


def _tab(browser_session):
    """The session's browser in a new tab, at the window's first size, its log drained,
    its server_url the session's server."""
    browser = browser_session.alive_browser()
    fresh_tab(browser, browser_session.server.url)
    browser.get_logs()  # drain: the driver hands each log entry out once
    browser._last_ts = 0
    browser._url = browser_session.server.url
    return browser


@pytest.fixture
def page(browser_session):
    """The app in headless Chromium, in a tab of its own, its three plots drawn. It offers
    what dash_duo offers (driver, server_url, find_element(s), wait_for_element, get_logs):
    get_logs gives what the browser logged since this test's tab opened."""
    browser = _tab(browser_session)
    browser.wait_for_page(timeout=LOAD_TIMEOUT)
    browser.wait_for_element(PLOTS, timeout=LOAD_TIMEOUT)
    return browser


@pytest.fixture
def blank_page(browser_session):
    """As ``page``, but the tab left blank: for a test that first sets the window or the
    device up, or opens another address (browser_helpers.open_page), so that the app loads
    once, as the test wants it."""
    browser = _tab(browser_session)
    return browser
