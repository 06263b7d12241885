"""The web shell: the Dash app, its server and how it is served.

The engine (``playground`` itself) never imports this package; this package imports the
engine. ``playground.web.server`` builds the app; ``playground.web.serve`` starts it.
"""
