"""The page in a Jupyter notebook: :func:`show`.

In a notebook cell::

    import playground
    playground.show({"optimizer": {"name": "sgd", "lr": 0.01},
                     "schedule": {"name": "StepLR", "step_size": 100}})
    playground.show("?optimizer=adam&steps=300", height=700)   # a copied link's query

Every call shows another view of the one server this kernel runs (the app's callbacks
belong to one Dash app per process, so all views share it). Behind JupyterHub or another
remote Jupyter, run ``from dash import jupyter_dash; jupyter_dash.infer_jupyter_proxy_config()``
in a cell first, as for any Dash app: the views then go through Jupyter's proxy.

Serving uses Dash's own Jupyter support: in a Jupyter kernel ``app.run(jupyter_mode="_none")``
starts the server thread (``dash._jupyter.JupyterDash.run_app``: the proxy's path prefix, the
server URL, the readiness check), and the view is an ``IPython.display.IFrame`` at that URL
plus the run's query (Dash's own inline view always opens the app's root). In Colab the
view goes through ``google.colab.output.serve_kernel_port_as_iframe`` with the query as its
path. Outside a notebook, :func:`show` starts the same server in a background thread and
prints the URL.
"""
from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from html import escape

MODES = ("inline", "external", "tab", "jupyterlab")
"""How :func:`show` puts the page in the notebook (as Dash's ``jupyter_mode``): ``inline``
in the output cell, ``external`` a link, ``tab`` a new browser tab, ``jupyterlab`` a
JupyterLab tab (needs Dash's JupyterLab extension)."""
HOST = "127.0.0.1"
DEFAULT_PORT = 8050
"""The first server's port unless one is given (a free one if 8050 is taken)."""

_SERVERS: dict[tuple[str, int], dict] = {}
"""The servers :func:`show` started in this process: (host, port) -> how (``dash`` or
``thread``), the werkzeug server of a ``thread`` one, and the base URL of the page."""
_LOCK = threading.Lock()


class PageURL(str):
    """The URL of a view (a plain string); in a notebook its output is a link that opens
    the page in a browser tab."""

    def _repr_html_(self) -> str:
        url = escape(self, quote=True)
        return f'<a href="{url}" target="_blank" rel="noopener">Open the page in a new tab</a>'


def show(what=None, *, width="100%", height=900, port=None, mode="inline") -> PageURL:
    """Show the Optimization Playground page in the notebook, opened at a run.

    ``what``: None (the default page), a config dict (as :func:`playground.simulate` takes)
    or a page link's query (``"optimizer=sgd&steps=300"``, ``"?…"``, ``"/?…"`` or the whole
    link; pinned runs ``p1.…`` and ``lesson=…`` as on the page). A bad config or query
    raises :class:`playground.ConfigError` naming the field, before anything is served.
    ``width``/``height``: the inline view's size. ``port``: the server's port (default:
    the server already running, else 8050 or a free one). ``mode``: ``"inline"``,
    ``"external"``, ``"tab"`` or ``"jupyterlab"`` (as Dash's ``jupyter_mode``).

    Returns the URL of the view. Outside a notebook the URL is printed; the server runs in
    a background (daemon) thread either way, so it ends with the Python process (a
    standalone server: ``playground serve``).

    Example (a notebook cell)::

        import playground
        playground.show({"optimizer": {"name": "sgd", "lr": 0.01}, "steps": 300})
    """
    path = page_path_of(what)
    if mode not in MODES:
        raise ValueError(f"mode: must be one of {', '.join(MODES)} (got {mode!r})")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 0 < port < 65536):
        raise ValueError(f"port: must be an integer from 1 to 65535 (got {port!r})")
    colab = "google.colab" in sys.modules
    if colab and mode not in ("inline", "external"):
        raise ValueError(f"mode: in Colab, inline or external (got {mode!r})")
    with _LOCK:
        port, base = _serve(port, colab)
    url = PageURL(base + path.lstrip("/"))
    _display(url, path, port, mode, width, height, colab)
    return url


def page_path_of(what) -> str:
    """The page path (``/`` or ``/?query``) that opens ``what`` (see :func:`show`);
    ConfigError if it does not describe runs the page can open."""
    from urllib.parse import parse_qsl

    from playground.config import ConfigError, from_query, page_path, resolve

    if what is None:
        return "/"
    if isinstance(what, dict):
        resolve(what)
        return page_path(what).rstrip("?")
    if not isinstance(what, str):
        raise ConfigError("what", "must be a config dict or a page link's query string "
                                  f"(got {type(what).__name__})")
    # a link's query: after its "?" (a link or path without one opens the default page)
    text = what.strip().partition("#")[0]
    if "?" in text:
        text = text.split("?", 1)[1]
    elif text.startswith("/") or "://" in text:
        text = ""
    pairs = parse_qsl(text, keep_blank_values=True)
    lesson = [v for k, v in pairs if k == "lesson"]
    config, pins = from_query({k: v for k, v in pairs if k != "lesson"} if lesson else text)
    for c in (config, *pins):
        resolve(c)
    path = page_path(config, pins).rstrip("?")
    if lesson:
        from playground.lessons import LESSONS

        if len(lesson) > 1 or lesson[0] not in LESSONS:
            raise ConfigError("lesson", f"must be one of {', '.join(LESSONS)} "
                                        f"(got {', '.join(map(repr, lesson)):.60})")
        path += ("&" if "?" in path else "?") + "lesson=" + lesson[0]
    return path


def stop() -> None:
    """Shut down the servers :func:`show` started in this process (views go blank)."""
    from dash import jupyter_dash

    with _LOCK:
        for key, entry in list(_SERVERS.items()):
            server = entry["server"] if entry["how"] == "thread" \
                else jupyter_dash._servers.pop(key, None)
            if server is not None:
                server.shutdown()
                server.server_close()
            del _SERVERS[key]
            _NOTEBOOK_PORTS.discard(key[1])


# --- Serving ------------------------------------------------------------------------------

def _serve(port: int | None, colab: bool) -> tuple[int, str]:
    """The port and base URL of a running server for the page, started if need be."""
    from dash import jupyter_dash

    live = {key: e for key, e in _SERVERS.items()
            if (e["how"] == "thread" and e["thread"].is_alive())
            or (e["how"] == "dash" and key in jupyter_dash._servers)}
    _SERVERS.clear()
    _SERVERS.update(live)
    if port is None:
        port = next((p for (_, p) in _SERVERS), None) or _pick_port()
    if (HOST, port) in _SERVERS:
        return port, _SERVERS[(HOST, port)]["base"]

    from playground.web import server as web

    if not web.READY["engine"]:
        web.warm()  # compile once, so the first view does not wait for it
    app = web.app
    _allow_framing(app.server)
    _NOTEBOOK_PORTS.add(port)  # before the first request (Dash's readiness check)
    try:
        if jupyter_dash.active and not colab and _has_alive_route(app):
            # Dash's Jupyter server: a thread of its own, the proxy prefix, the readiness
            # check. "_none": it shows nothing itself (its inline view opens the root only).
            app.run(host=HOST, port=port, jupyter_mode="_none", debug=False)
            entry = {"how": "dash"}
        else:
            entry = _start_thread(app.server, port)
    except BaseException:
        _NOTEBOOK_PORTS.discard(port)
        raise
    entry["base"] = _base_url(app, port)
    _SERVERS[(HOST, port)] = entry
    return port, entry["base"]


def _pick_port() -> int:
    """8050 if it is free, else a free port the system picks."""
    for candidate in (DEFAULT_PORT, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port for the page's server")


def _has_alive_route(app) -> bool:
    """Whether the app has Dash's readiness route (added when it was built in a kernel)."""
    from dash import jupyter_dash

    name = "_alive_" + jupyter_dash.alive_token
    return any(rule.rule.endswith(name) for rule in app.server.url_map.iter_rules())


def _start_thread(wsgi_app, port: int) -> dict:
    """The server Dash's Jupyter support would start (werkzeug, threaded), in a daemon
    thread: it never keeps the interpreter from exiting."""
    from werkzeug.serving import make_server

    server = make_server(HOST, port, wsgi_app, threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    thread = threading.Thread(target=server.serve_forever, name=f"playground-show-{port}",
                              daemon=True)
    thread.start()
    return {"how": "thread", "server": server, "thread": thread}


def _base_url(app, port: int) -> str:
    """The page's root URL, built as ``JupyterDash.run_app`` builds its ``dashboard_url``:
    Jupyter's server URL (``infer_jupyter_proxy_config``), else $DASH_DOMAIN_BASE, else
    http://host:port; then the app's requests path prefix (run_app points it at Jupyter's
    proxy when there is one)."""
    from dash._jupyter import _jupyter_config

    if "server_url" in _jupyter_config:
        server_url = _jupyter_config["server_url"].rstrip("/")
    elif os.environ.get("DASH_DOMAIN_BASE"):
        server_url = "https://" + os.environ["DASH_DOMAIN_BASE"]
    else:
        server_url = f"http://{HOST}:{port}"
    prefix = (app.config.get("requests_pathname_prefix") or "/").format(port=port)
    return server_url + ("/" + prefix.strip("/") + "/").replace("//", "/")


# --- Framing --------------------------------------------------------------------------------

_NOTEBOOK_PORTS: set[int] = set()


def _allow_framing(flask_app) -> None:
    """Let the notebook frame the page: the app's Content-Security-Policy allows framing
    by its own origin only (``frame-ancestors 'self'``, $FRAME_ANCESTORS), and a notebook
    is another origin (localhost:8888, VS Code, Colab). On the ports :func:`show` serves
    (a server on 127.0.0.1), and unless $FRAME_ANCESTORS says otherwise, responses go
    without that directive; every other server of the app keeps it."""
    if os.environ.get("FRAME_ANCESTORS") or getattr(flask_app.wsgi_app, "_notebook", False):
        return
    flask_app.wsgi_app = _Framable(flask_app.wsgi_app)


class _Framable:
    """WSGI middleware: no CSP frame-ancestors on the notebook servers' responses."""

    _notebook = True

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        try:
            ours = int(environ.get("SERVER_PORT", 0)) in _NOTEBOOK_PORTS
        except ValueError:
            ours = False
        if not ours:
            return self.wsgi_app(environ, start_response)

        def start(status, headers, exc_info=None):
            headers = [(k, _without_frame_ancestors(v))
                       if k.lower() == "content-security-policy" else (k, v)
                       for k, v in headers]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def _without_frame_ancestors(policy: str) -> str:
    return "; ".join(d.strip() for d in policy.split(";")
                     if d.strip() and d.split()[0].lower() != "frame-ancestors")


# --- Display --------------------------------------------------------------------------------

def _display(url: str, path: str, port: int, mode: str, width, height, colab: bool) -> None:
    if colab:
        from google.colab import output  # type: ignore[import-not-found]

        if mode == "inline":
            output.serve_kernel_port_as_iframe(port, path=path, width=width, height=height)
        else:
            output.serve_kernel_port_as_window(port, path=path,
                                               anchor_text="Optimization Playground")
        return
    if not _in_notebook():
        print(f"Optimization Playground: {url}", flush=True)
        return
    if mode == "inline":
        from IPython.display import IFrame, display

        display(IFrame(url, width, height))
    elif mode == "jupyterlab":
        from dash._jupyter import JupyterDash

        JupyterDash._display_in_jupyter(url, port, mode, width, height)
    else:
        print(f"Optimization Playground: {url}", flush=True)
        if mode == "tab":
            import json

            from IPython.display import Javascript, display

            display(Javascript(f"window.open({json.dumps(url)})"))


def _in_notebook() -> bool:
    """Whether this is a Jupyter kernel (an IPython shell with a kernel; the terminal
    IPython shell has none)."""
    if "IPython" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
