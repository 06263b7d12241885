"""``playground.show``: the page served for a notebook, opened at a run (no notebook server
needed: outside a kernel ``show`` serves the same way and prints the URL)."""
import json
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

import playground
from playground import lessons
from playground.config import from_query, page_path, resolve
from playground.web import notebook

CONFIG = {"problem": {"name": "rosenbrock"}, "start": [-1.5, 2.0], "steps": 300,
          "optimizer": {"name": "sgd", "lr": 0.001, "momentum": 0.9},
          "schedule": {"name": "StepLR", "step_size": 100, "gamma": 0.5},
          "warmup": {"steps": 20, "start_factor": 0.1}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.status, r.headers, r.read().decode()


def listening(port: int) -> bool:
    """Whether a server accepts connections on the port. A connect to a free port in the
    ephemeral range can now and then be given that very port as its source port and
    connect to itself (TCP simultaneous open): that is no server."""
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0 and s.getsockname() != s.getpeername()


def runs_of(url: str) -> list[dict]:
    config, pins = from_query(urlsplit(url).query)
    return [resolve(c) for c in (config, *pins)]


@pytest.fixture(scope="module")
def shown():
    """The server show() starts (once: the engine compiles for it), and its first URL;
    shut down after this file's tests, so nothing of it outlives them."""
    port = free_port()
    url = playground.show(CONFIG, port=port)
    yield port, url
    started = list(notebook._SERVERS.values())
    notebook.stop()
    # its server is gone: the thread serving it ended and its socket closed (not "nothing
    # listens on the port": once closed, the port is free for the other test worker's
    # servers and browser to take)
    assert not notebook._SERVERS and started
    for entry in started:
        entry["thread"].join(timeout=10)
        assert not entry["thread"].is_alive() and entry["server"].socket.fileno() == -1


def test_show_serves_the_page_at_the_run(shown):
    port, url = shown
    assert url.startswith(f"http://127.0.0.1:{port}/?")
    assert runs_of(url) == [resolve(CONFIG)]

    status, headers, html = get(url)
    assert status == 200
    assert "<title>Optimization Playground</title>" in html and "_dash-config" in html
    status, _, body = get(f"http://127.0.0.1:{port}/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}

    # a notebook (another origin) may frame the page; the app's other servers keep the rule
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors" not in csp and "script-src 'self'" in csp
    from playground.web.server import app
    assert "frame-ancestors 'self'" in app.server.test_client().get(
        "/health").headers["Content-Security-Policy"]


def test_every_call_shows_the_same_server_at_its_own_run(shown, capsys):
    port, _ = shown
    pinned = {"optimizer": {"name": "adam", "lr": 0.05}, "steps": 300}
    query = urlsplit(page_path(CONFIG, [pinned])).query
    for what in (query, "?" + query, "/?" + query, f"http://example.org:9/?{query}"):
        url = playground.show(what)  # no port: the running server
        assert urlsplit(url).netloc == f"127.0.0.1:{port}"
        assert runs_of(url) == [resolve(CONFIG), resolve(pinned)]
        assert url in capsys.readouterr().out  # outside a notebook: the URL is printed

    url = playground.show(port=port, mode="external")
    assert url == f"http://127.0.0.1:{port}/" and get(url)[0] == 200

    lesson = next(iter(lessons.LESSONS.values()))  # a lesson's link opens as on the page
    url = playground.show(lessons.lesson_path(lesson), port=port)
    assert url.endswith(f"&lesson={lesson.name}") and get(url)[0] == 200
    assert runs_of(url.replace(f"&lesson={lesson.name}", "")) == [
        resolve(c) for c in (lesson.config, *lesson.pins)]


@pytest.mark.parametrize("what, field", [
    ({**CONFIG, "optimizer": {"name": "sgd", "lr": -1}}, "optimizer.lr"),
    ({**CONFIG, "schedul": {}}, "schedul"),
    ("optimizer=sgd&steps=lots", "steps"),
    ("?p1.optimizer=nadam", "p1.optimizer.name"),
    ("/?steps=10&lesson=no-such-lesson", "lesson"),
])
def test_a_bad_config_raises_and_serves_nothing(what, field):
    port, before = free_port(), dict(notebook._SERVERS)
    with pytest.raises(playground.ConfigError) as e:
        playground.show(what, port=port)
    assert e.value.field == field and field in str(e.value)
    assert not listening(port) and notebook._SERVERS == before


def test_bad_arguments_raise_before_serving():
    port = free_port()
    with pytest.raises(ValueError, match="mode"):
        playground.show(CONFIG, port=port, mode="popup")
    with pytest.raises(ValueError, match="port"):
        playground.show(CONFIG, port=70000)
    assert not listening(port)


def test_in_a_notebook_the_view_is_an_iframe_at_the_run(shown, monkeypatch):
    IPython = pytest.importorskip("IPython")
    import IPython.display

    class Kernel:  # what show() asks of a notebook: an IPython shell with a kernel
        kernel = object()

    shown_objects = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: Kernel())
    monkeypatch.setattr(IPython.display, "display", shown_objects.append)
    url = playground.show(CONFIG, width=640, height=480)

    [frame] = shown_objects
    assert isinstance(frame, IPython.display.IFrame)
    assert frame.src == url and (frame.width, frame.height) == (640, 480)
    assert runs_of(url) == [resolve(CONFIG)]
    assert f'href="{url}"'.replace("&", "&amp;") in url._repr_html_()
