"""Share with the hall: a QR code of the page's address, large enough to scan from the back
rows of a lecture hall, so that every student opens the exact run on a phone.

The address holds the whole page (the current run and the pins), so the QR code is the
address itself. It is the address the browser shows, taken from ``window.location`` in the
browser (behind a proxy the server does not know the host and scheme the students must
use); the server only turns that text into a picture (``segno``): the address is data,
never a path, and never fetched.

The "Share" button (in the animation bar, ``browser.animation_bar``) opens a modal dialog
with the code and the short address; Esc, the close button or the button again close it.
While it is open the code follows the page: every control change redraws it.

Size and error correction, chosen for a projector: the code is drawn as large as the
dialog allows (``assets/share.css``: its side is the smaller of 78% of the window's height
and 90% of its width, so 842 px at 1920x1080, far above a quarter of the screen), and with
error correction level L: a projected code is never torn or stained, and the lowest level
needs the fewest modules for an address, so each module is as large as it can be (segno
still raises the level when that costs no extra module). Dark modules on a white
background with the standard quiet zone of 4 modules, in both themes.
"""
from __future__ import annotations

from functools import lru_cache

import segno
from dash import Input, Output, callback, clientside_callback, dcc, html

ERROR = "l"
"""The QR code's error-correction level (segno may raise it when it costs no module)."""
BORDER = 4
"""The quiet zone around the code, in modules (what the QR standard asks for)."""
MAX_ADDRESS = 4096
"""The longest address the server encodes; a QR code holds at most 2,953 bytes anyway."""
TOO_LONG = "This address is too long for a QR code: copy the link instead."


def check(address) -> str:
    """The address if it is one a browser shows (an http or https URL of sensible
    length); ValueError otherwise (a callback answers 400)."""
    if not isinstance(address, str) or len(address) > MAX_ADDRESS:
        raise ValueError(f"address: a string of at most {MAX_ADDRESS} characters")
    if not address.startswith(("http://", "https://")):
        raise ValueError("address: an http:// or https:// URL")
    return address


def qr_code(address: str) -> segno.QRCode:
    """The QR code of an address (a full URL as the browser shows it); segno's
    DataOverflowError if it holds more than a QR code can."""
    return segno.make(check(address), error=ERROR, micro=False)


@lru_cache(maxsize=256)
def qr_src(address: str) -> str:
    """The code as an SVG data URI for an <img> (the page's CSP allows data: images):
    black modules on white, with its quiet zone and no fixed size (CSS sizes it)."""
    return qr_code(address).svg_data_uri(scale=1, border=BORDER, dark="#000", light="#fff",
                                         omitsize=True)


def short_address(address: str) -> str:
    """What the dialog prints under the code: the host and path, without the query (the
    code carries the whole run; the text is for reading aloud or typing)."""
    rest = address.split("://", 1)[-1]
    return rest.split("?", 1)[0].split("#", 1)[0].rstrip("/") or rest


def share_button():
    """The bar's button that opens the dialog (a modal dialog, announced as such)."""
    return html.Button(
        "Share", id="share-toggle", className="button small",
        title="Show a QR code of this page's address, for phones in the hall",
        **{"aria-haspopup": "dialog", "aria-controls": "share-dialog"})


def share_dialog():
    """The dialog (closed until the Share button opens it) and the address it shows."""
    return html.Div([
        dcc.Store(id="share-address"),
        html.Dialog([
            html.Div([
                html.H2("Scan to open this run", id="share-title", className="share-title"),
                html.Button("Close", id="share-close", className="button small share-close",
                            title="Close (Esc)"),
            ], className="share-head"),
            html.Img(id="share-qr", className="share-qr pending", alt=""),
            html.P(html.A("", id="share-link", href="#", className="share-link"),
                   className="share-address"),
        ], id="share-dialog", className="share-dialog",
            **{"aria-labelledby": "share-title"}),
    ], className="share")


# Open (or close) the dialog, and read the address while it is open: the one the browser
# shows, which the url-sync callback (browser.py) sets to the page's state, `page-query`
# (and the lesson's name: assets/address.js), resolved against the current address just
# as history.replaceState resolves it.
clientside_callback(
    """function (toggles, closes, path) {
        var dialog = document.getElementById('share-dialog');
        if (!dialog || !dialog.showModal) { return window.dash_clientside.no_update; }
        if (!dialog._shareHooked) {
            dialog._shareHooked = true;
            // keys in the dialog are the dialog's: Esc closes it (not lecture mode), the
            // arrows and space do not step the animation behind it
            dialog.addEventListener('keydown', function (e) { e.stopPropagation(); });
        }
        var ids = (window.dash_clientside.callback_context.triggered || []).map(
            function (t) { return t.prop_id; });
        if (ids.indexOf('share-toggle.n_clicks') >= 0) {
            if (dialog.open) {
                dialog.close();
            } else {
                dialog.showModal();
                document.getElementById('share-close').focus();  // not the link
            }
        } else if (ids.indexOf('share-close.n_clicks') >= 0) {
            dialog.close();
        }
        if (!dialog.open) { return window.dash_clientside.no_update; }
        path = window.playgroundAddress(path);
        var address = path ? new URL(path, window.location.href).href : window.location.href;
        // the code on show is hidden until the server has drawn this address's code
        return [address, 'share-qr pending'];
    }""",
    Output("share-address", "data"), Output("share-qr", "className", allow_duplicate=True),
    Input("share-toggle", "n_clicks"),
    Input("share-close", "n_clicks"), Input("page-query", "data"),
    prevent_initial_call=True)


@callback(Output("share-qr", "src"), Output("share-qr", "alt"), Output("share-qr", "className"),
          Output("share-link", "href"), Output("share-link", "children"),
          Input("share-address", "data"), prevent_initial_call=True)
def update_qr(address):
    """The QR code of the address the browser sent and the link under it (a server round
    trip only while the dialog is open)."""
    link = check(address), short_address(address)
    try:
        return (qr_src(address), f"QR code of this page's address, {address}", "share-qr",
                *link)
    except segno.DataOverflowError:
        return "", TOO_LONG, "share-qr too-long", *link
