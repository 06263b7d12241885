"""bench/fuzz_http.py's client and its model of the server: raw HTTP requests (bytes as
given, no client-side checks) and :class:`Site`, the callbacks (from
``/_dash-dependencies``) and the page's components (from the Dash-pages callback), which
builds the request the renderer sends for any callback.

Only the standard library is imported here.
"""
from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

UPDATE = "/_dash-update-component"
PAGES_OUTPUT = ".._pages_content.children..._pages_store.data.."
JSON = {"Content-Type": "application/json"}


# --- Requests -----------------------------------------------------------------------------

@dataclass
class Response:
    status: int  # 0: no response (connection error or timeout)
    headers: dict
    body: bytes
    seconds: float
    error: str = ""


def request(base: str, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None, timeout: float = 60.0) -> Response:
    """One request on a fresh connection; bytes as given (no client-side checks)."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    t0 = time.monotonic()
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if body is not None and "Transfer-Encoding" not in hdrs:
            hdrs.setdefault("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        try:
            if body is not None and hdrs.get("Transfer-Encoding") == "chunked":
                for i in range(0, len(body), 65536):
                    piece = body[i:i + 65536]
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.send(b"0\r\n\r\n")
            elif body is not None:
                conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (413) before reading it all: read that answer
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data,
                        time.monotonic() - t0)
    except (OSError, http.client.HTTPException) as e:
        return Response(0, {}, b"", time.monotonic() - t0, f"{type(e).__name__}: {e}")
    finally:
        conn.close()


def post(base: str, body, headers: dict | None = None, timeout: float = 60.0) -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request(base, "POST", UPDATE, data, headers or JSON, timeout)


# --- What the server is made of -----------------------------------------------------------

def _parse_id(text):
    return json.loads(text) if isinstance(text, str) and text.startswith("{") else text


def _outputs(dep: dict) -> list[dict]:
    """A dependency's outputs as the renderer sends them ({"id", "property"} each)."""
    text = dep["output"]
    parts = text[2:-2].split("...") if text.startswith("..") else [text]
    out = []
    for part in parts:
        cid, _, prop = part.rpartition(".")
        out.append({"id": _parse_id(cid), "property": prop})
    return out


def _matches(pattern: dict, cid) -> bool:
    return (isinstance(cid, dict) and set(cid) == set(pattern)
            and all(v == ["ALL"] or cid[k] == v for k, v in pattern.items()))


@dataclass
class Site:
    """The callbacks (from /_dash-dependencies) and components (from the rendered page)."""

    deps: list
    components: dict  # id (str, or json of a dict id) -> (type, props)
    base: str = ""

    @property
    def server_callbacks(self) -> list[dict]:
        return [d for d in self.deps if not d.get("clientside_function")]

    @property
    def clientside_outputs(self) -> list[str]:
        return [d["output"] for d in self.deps if d.get("clientside_function")]

    def callback(self, first_output: str) -> dict:
        """The server-side callback whose first output is ``first_output`` ("id.prop")."""
        for d in self.server_callbacks:
            outs = _outputs(d)
            if f"{outs[0]['id']}.{outs[0]['property']}" == first_output:
                return d
        raise KeyError(first_output)

    def value(self, cid, prop):
        key = json.dumps(cid, sort_keys=True) if isinstance(cid, dict) else cid
        return self.components.get(key, ("", {}))[1].get(prop)

    def _item(self, spec: dict):
        cid = _parse_id(spec["id"])
        prop = spec["property"]
        if isinstance(cid, dict):  # a pattern (ALL): every matching component
            return [{"id": json.loads(k), "property": prop, "value": props.get(prop)}
                    for k, (_, props) in self.components.items()
                    if k.startswith("{") and _matches(cid, json.loads(k))]
        return {"id": cid, "property": prop, "value": self.value(cid, prop)}

    def _output(self, out: dict):
        """An output as the renderer sends it: a pattern's (ALL) as the list of the
        components it matches."""
        if not isinstance(out["id"], dict):
            return out
        return [{"id": json.loads(k), "property": out["property"]}
                for k in self.components if k.startswith("{")
                and _matches(out["id"], json.loads(k))]

    def body(self, dep: dict, changed: str | None = None, values: dict | None = None) -> dict:
        """The request the renderer sends for ``dep``, with the page's current values
        (``values`` overrides some: {"id.prop": value}); ``changed`` is the trigger."""
        outs = [self._output(o) for o in _outputs(dep)]
        inputs = [self._item(s) for s in dep["inputs"]]
        state = [self._item(s) for s in dep["state"]]
        for item in inputs + state:
            if isinstance(item, dict):
                key = f"{item['id']}.{item['property']}"
                if values and key in values:
                    item["value"] = values[key]
        first = dep["inputs"][0]
        if changed is None and isinstance(inputs[0], list) and inputs[0]:
            item = inputs[0][0]  # a pattern: its first component, as if clicked
            if item["property"] == "n_clicks" and item.get("value") is None:
                item["value"] = 1
            changed = json.dumps(item["id"], sort_keys=True, separators=(",", ":")) \
                + "." + item["property"]
        changed = changed or f"{first['id']}.{first['property']}"
        return {"output": dep["output"], "outputs": outs if len(outs) > 1 else outs[0],
                "inputs": inputs, "changedPropIds": [changed], "state": state}

    def pages_body(self, search: str, pathname: str = "/") -> dict:
        return {"output": PAGES_OUTPUT,
                "outputs": [{"id": "_pages_content", "property": "children"},
                            {"id": "_pages_store", "property": "data"}],
                "inputs": [{"id": "_pages_location", "property": "pathname",
                            "value": pathname},
                           {"id": "_pages_location", "property": "search", "value": search}],
                "changedPropIds": ["_pages_location.pathname"], "state": []}


def discover(base: str, search: str = "", deps: list | None = None) -> Site:
    """The callbacks, and the components of the page that the link ``search`` opens."""
    if deps is None:
        deps = json.loads(request(base, "GET", "/_dash-dependencies").body)
    site = Site(deps, {}, base)
    r = post(base, site.pages_body(search))
    if r.status != 200:
        raise RuntimeError(f"the page did not render: {r.status} {r.body[:300]!r}")
    layout = json.loads(r.body)["response"]["_pages_content"]["children"]

    def walk(node):
        if isinstance(node, dict):
            if "props" in node and "type" in node:
                props = node["props"]
                if "id" in props:
                    cid = props["id"]
                    key = json.dumps(cid, sort_keys=True) if isinstance(cid, dict) else cid
                    site.components[key] = (node["type"], props)
                node = props
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(layout)
    return site
