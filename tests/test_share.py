"""Share with the hall (playground/web/share.py): the QR code of the page's address.

A student's phone must open exactly the run on the screen, so the tests read the code the
way a phone does: with a QR decoder (zxing-cpp), from the SVG the server sends and from
what the browser draws on screen, and compare it with the address the browser shows."""
import http.client
import io
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import segno
import zxingcpp
from browser_helpers import js, open_page, set_input, trace, wait_until
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from selenium.webdriver.common.keys import Keys

import playground
from playground.lessons import LESSONS, lesson_path
from playground.web import share

MODULE_PX = 4
"""Pixels per module when a test draws a code for the decoder."""


def svg_matrix(src: str) -> np.ndarray:
    """The modules an SVG data URI of share.qr_src draws (True: dark), read from its
    markup: a white square and dark horizontal strokes one module high (segno's path of
    M/m/h commands, each stroke on a row's centre line)."""
    assert src.startswith("data:image/svg+xml")
    svg = urllib.parse.unquote(src.split(",", 1)[1])
    size = int(re.search(r"viewBox='0 0 (\d+) \1'", svg).group(1))
    assert re.search(rf"<path fill='#fff' d='M0 0h{size}v{size}h-{size}z'/>", svg)
    (d,) = re.findall(r"<path [^>]*stroke='#000' d='([^']*)'", svg)
    grid = np.zeros((size, size), dtype=bool)
    x = y = 0.0
    for cmd, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", d):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        else:  # h: a stroke from x to x + a along the row whose centre line is y
            end = x + float(a)
            assert y % 1 == 0.5
            grid[int(y), int(min(x, end)):int(max(x, end))] = True
            x = end
    return grid


def decode(image) -> list[str]:
    """What a QR reader finds in an image (a PIL image or a 2-D uint8 array)."""
    return [r.text for r in zxingcpp.read_barcodes(image)
            if r.format == zxingcpp.BarcodeFormat.QRCode]


def decode_matrix(grid: np.ndarray) -> list[str]:
    pixels = np.where(grid, 0, 255).astype(np.uint8)
    return decode(np.kron(pixels, np.ones((MODULE_PX, MODULE_PX), dtype=np.uint8)))


ORIGINS = st.sampled_from(["http://127.0.0.1:8050", "https://playground.example.edu",
                           "https://lectures.example.org:8443/ml"])
QUERY_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789-._~%,", min_size=0, max_size=12)
ADDRESSES = st.builds(
    lambda origin, pairs: origin + "/?" + "&".join(f"{k}={v}" for k, v in pairs),
    ORIGINS, st.lists(st.tuples(QUERY_TEXT.filter(bool), QUERY_TEXT), max_size=25))


@settings(max_examples=40, deadline=None)
@given(ADDRESSES)
def test_the_code_the_server_draws_reads_back_as_the_address(address):
    grid = svg_matrix(share.qr_src(address))
    assert decode_matrix(grid) == [address]


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_every_lesson_link_fits_one_code_that_reads_back(lesson):
    address = "https://playground.example.edu" + lesson_path(LESSONS[lesson])
    grid = svg_matrix(share.qr_src(address))
    assert decode_matrix(grid) == [address]


def test_the_code_is_segnos_code_for_the_address_with_its_quiet_zone():
    """The drawn modules are the address's QR code at level L or above (segno raises the
    level only when that costs no module), with 4 light modules all round."""
    address = "http://127.0.0.1:8050" + lesson_path(LESSONS["sgdr"])
    grid = svg_matrix(share.qr_src(address))
    want = segno.make(address, error="l", micro=False)
    inner = np.array(want.matrix, dtype=bool)
    assert grid.shape == (inner.shape[0] + 8,) * 2
    np.testing.assert_array_equal(grid[4:-4, 4:-4], inner)
    assert not grid[:4].any() and not grid[-4:].any()
    assert not grid[:, :4].any() and not grid[:, -4:].any()
    assert want.error in ("L", "M", "Q", "H")


def test_the_dialog_gets_the_code_the_link_and_a_short_address():
    address = "https://lectures.example.org/ml/?problem=rosenbrock&optimizer.lr=0.1"
    src, alt, cls, href, text = share.update_qr(address)
    assert decode_matrix(svg_matrix(src)) == [address]
    assert address in alt and cls == "share-qr"
    assert href == address and text == "lectures.example.org/ml"


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "/?problem=rosenbrock",
                                 "file:///etc/passwd", 12, None, "https://x/?" + "a" * 5000])
def test_only_a_web_address_is_drawn(bad):
    with pytest.raises(ValueError):
        share.update_qr(bad)


def test_an_address_too_long_for_a_code_says_so():
    address = "https://x.example/?" + "&".join(f"k{i}=v{i}" for i in range(400))
    assert len(address) < share.MAX_ADDRESS
    src, alt, cls, href, text = share.update_qr(address)
    assert src == "" and alt == share.TOO_LONG and "too-long" in cls and href == address


# --- In the browser --------------------------------------------------------------------


def shown_code(page) -> list[str]:
    """What a phone reads from the code as the browser draws it on screen (a screenshot of
    the image), once the code for the current address is in."""
    img = page.find_element("#share-qr")
    if "pending" in (img.get_attribute("class") or "") or not img.get_attribute("src"):
        return []
    return decode(Image.open(io.BytesIO(img.screenshot_as_png)))


def open_share(page):
    page.find_element("#share-toggle").click()
    wait_until(lambda: js(page, "return document.getElementById('share-dialog').open"))
    return wait_until(lambda: shown_code(page))


def viewport(page, width: int, height: int):
    """The page's viewport at exactly width x height CSS pixels."""
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


@pytest.mark.browser
def test_the_code_on_screen_is_the_address_and_follows_a_control_change(page):
    assert open_share(page) == [page.driver.current_url]
    assert page.driver.current_url.startswith(page.server_url)
    before = page.driver.current_url
    page.find_element("#share-close").click()
    wait_until(lambda: not js(page, "return document.getElementById('share-dialog').open"))

    set_input(page, "#lr", "0.05")
    wait_until(lambda: "optimizer.lr=0.05" in page.driver.current_url)
    after = page.driver.current_url
    assert after != before
    assert open_share(page) == [after]  # never the code of the run before
    assert page.get_logs() == []


@pytest.mark.browser
def test_a_lesson_keeps_its_name_in_the_address_the_code_and_a_reload(blank_page):
    """A lecturer writes ?lesson=sgdr on the board: the page opens the lesson's runs; after
    a change the address still names the lesson, so a reload opens the same page (the
    lesson's claim above the changed run) and the code on Share is that address."""
    page, lesson = blank_page, LESSONS["sgdr"]
    open_page(page, "/?lesson=sgdr")
    np.testing.assert_allclose(trace(page, "lr-graph", 0),
                               playground.simulate(lesson.config)["lr"], rtol=1e-6)
    set_input(page, "#lr", "0.5")
    wait_until(lambda: "optimizer.lr=0.5" in page.driver.current_url)
    address = page.driver.current_url
    assert "lesson=sgdr" in address and "schedule=CosineAnnealingWarmRestarts" in address
    open_page(page, address[len(page.server_url):])  # a reload
    assert page.find_element("#lesson-claim").text == lesson.summary
    assert trace(page, "lr-graph", 0)[0] == pytest.approx(0.5)
    assert page.driver.current_url == address
    assert open_share(page) == [address]
    # (MathJax may log a NaN size while it typesets the formula on this reload, then
    # draws it whole: the formula's SVG is checked instead of that line)
    assert not [e for e in page.get_logs() if "NaNex" not in e["message"]
                and "NaN NaN" not in e["message"]]
    wait_until(lambda: js(page, "var s = document.querySelector('#formula mjx-container svg');"
                                "return s && !/NaN/.test(s.getAttribute('viewBox'));"))


@pytest.mark.browser
def test_lecture_mode_shows_a_code_a_hall_can_read_and_esc_closes_only_the_dialog(page):
    viewport(page, 1920, 1080)
    page.find_element("#lecture-toggle").click()
    wait_until(lambda: js(page, "return document.body.classList.contains('lecture')"))
    for theme in ("light", "dark"):
        js(page, f"document.querySelector('#theme input[value={theme}]').click();")
        wait_until(lambda: js(page, f"return document.body.classList.contains('theme-{theme}')"))
        assert open_share(page) == [page.driver.current_url]
        box = js(page, """var r = document.getElementById('share-qr').getBoundingClientRect();
                          var c = document.getElementById('share-close').getBoundingClientRect();
                          return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                                  closeBottom: c.bottom, h: innerHeight, w: innerWidth};""")
        side = box["bottom"] - box["top"]
        assert side >= 0.25 * 1080 and side == pytest.approx(box["right"] - box["left"])
        assert 0 <= box["top"] and box["bottom"] <= box["h"]  # whole, on screen
        assert box["closeBottom"] <= box["top"]  # the close button covers none of it
        # dark modules on a light background whatever the theme: the quiet zone is white
        png = Image.open(io.BytesIO(page.find_element("#share-qr").screenshot_as_png))
        assert png.convert("L").getpixel((2, 2)) == 255

        focused = page.driver.switch_to.active_element  # the dialog's close button
        assert focused.get_attribute("id") == "share-close"
        focused.send_keys(Keys.ESCAPE)
        wait_until(lambda: not js(page, "return document.getElementById('share-dialog').open"))
        assert js(page, "return document.body.classList.contains('lecture')")
    assert page.get_logs() == []


class _Proxy(BaseHTTPRequestHandler):
    """A reverse proxy on another port that, like many, sends the app its own Host: the
    server then believes it is at its own address, not the one the browser shows."""
    upstream: tuple[str, int]

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "accept-encoding")}
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        conn.request(self.command, self.path, body or None, headers)  # Host: the upstream
        answer = conn.getresponse()
        data = answer.read()
        conn.close()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _forward

    def log_message(self, *args):
        pass


@pytest.mark.browser
def test_behind_a_proxy_the_code_holds_the_address_the_browser_shows(blank_page):
    page = blank_page
    app = urllib.parse.urlsplit(page.server_url)
    handler = type("Proxy", (_Proxy,), {"upstream": (app.hostname, app.port)})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        origin = f"http://127.0.0.1:{proxy.server_address[1]}"
        page.driver.get(origin + "/?optimizer=sgd&optimizer.lr=0.01")
        page.wait_for_element("#path-graph .js-plotly-plot", timeout=30)
        wait_until(lambda: "optimizer=sgd" in page.driver.current_url)
        (code,) = open_share(page)
        assert code == page.driver.current_url
        assert code.startswith(origin + "/?") and not code.startswith(page.server_url)
    finally:
        proxy.shutdown()
        proxy.server_close()
