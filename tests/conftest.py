"""Fixtures shared by the test files."""
import pytest


@pytest.fixture
def page(dash_duo):
    """The app in headless Chromium (dash_duo), its three plots drawn."""
    from app import app, warm  # one app per process: Dash hands its callbacks to the first

    warm()
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#path-graph .js-plotly-plot", timeout=20)
    return dash_duo
