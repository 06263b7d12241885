"""What bench/page.py measures: the playground (page loads, lr changes at 1,000 steps,
schedule and surface changes, replays) and a bare Dash page (one input, three 1,000-point
figures: the floor of what Dash + Plotly cost), each served by its own server.
"""
from __future__ import annotations

import os
import sys
import tempfile
import textwrap

try:  # imported as bench.page_scenarios, or from bench/ (bench/page.py run as a script)
    from .harness import ROOT, Server, wait_for
    from .page_js import GRAPHS, HARNESS
    from .page_measure import (Network, measure_dropdown, one_change, page_load, replay,
                               run_changes, summarize, type_into)
except ImportError:
    from harness import ROOT, Server, wait_for
    from page_js import GRAPHS, HARNESS
    from page_measure import (Network, measure_dropdown, one_change, page_load, replay,
                              run_changes, summarize, type_into)


STEPS = 1000
LR_CYCLE = ("0.05", "0.1", "0.2", "0.15")
WARMUP_CHANGES = 5
CHANGES = 60
REPS = 10  # schedule and surface changes
SCHEDULES = ("Step decay", "Cosine annealing", "Exponential decay", "Linear")
# every other surface is Rosenbrock: its lr preset (0.2) differs from the others' (0.05),
# so each change also changes the lr curve
SURFACES = ("Quadratic bowl", "Rosenbrock", "Elongated valley", "Rosenbrock")
REPLAYS = 20
WARM_RELOADS = 3

# What "the new data" is, per graph: (trace index, key) of Plotly's _fullData whose values
# must differ from before the change. The path graph's contour (0, z) changes only with
# the surface; its current path (2, x) with every change.
PLAYGROUND_SIG = {"lr-graph": [[0, "y"]], "loss-graph": [[0, "y"]],
                  "path-graph": [[0, "z"], [2, "x"]]}
BARE_SIG = {g: [[0, "y"]] for g in GRAPHS}

BARE_APP = textwrap.dedent('''
    """A bare Dash page: three 1,000-point line plots redrawn by one callback."""
    import os

    import numpy as np
    import plotly.graph_objects as go
    from dash import Dash, Input, Output, dcc, html

    N = 1000
    IDS = ("lr-graph", "loss-graph", "path-graph")
    rng = np.random.default_rng(0)


    def figure(title):
        fig = go.Figure(go.Scatter(x=np.arange(N), y=rng.random(N), mode="lines"))
        fig.update_layout(title=title)
        return fig


    app = Dash(__name__)
    app.layout = html.Div([
        dcc.Input(id="lr", type="number", value=0.01, debounce=True, step="any"),
        html.Div([dcc.Graph(id=i, figure=figure(i)) for i in IDS]),
    ])


    @app.callback(*[Output(i, "figure") for i in IDS], Input("lr", "value"),
                  prevent_initial_call=True)
    def update(lr):
        return tuple(figure(f"{i} (lr {lr})") for i in IDS)


    if __name__ == "__main__":
        app.run(host="127.0.0.1", port=int(os.environ["PORT"]), debug=False)
''')


def lr_changes(driver, count: int) -> list:
    values = [LR_CYCLE[i % len(LR_CYCLE)] for i in range(count)]
    return [(v, (lambda v=v: type_into(driver, "#lr", v))) for v in values]


# --- the two pages ------------------------------------------------------------------------

def bench_playground(driver, root: str = ROOT) -> dict:
    out = {}
    with Server([sys.executable, "app.py"], cwd=root, name="app.py", probe="/") as srv:
        out["server_ready_s"] = srv.ready_s
        out["server_kind"] = srv.kind
        out["load_cold"] = page_load(driver, srv.url + "/")
        out["load_warm"] = [page_load(driver, srv.url + "/") for _ in range(WARM_RELOADS)]
        net = Network(driver)
        driver.execute_script(HARNESS, PLAYGROUND_SIG)
        type_into(driver, "#steps", str(STEPS))
        wait_for(lambda: driver.execute_script(
            "var B = window.__bench; return B.len('lr-graph', 0, 'y') === %d && "
            "B.len('loss-graph', 0, 'y') === %d && B.len('path-graph', 2, 'x') === %d"
            % (STEPS, STEPS + 1, STEPS + 1)), 30, f"{STEPS}-step plots")
        out["address"] = driver.current_url
        # a warm reload of the 1,000-step page (its link), for comparison with the default
        out["load_1000"] = page_load(driver, driver.current_url)
        driver.execute_script(HARNESS, PLAYGROUND_SIG)
        net.drain("setup")
        lr = run_changes(driver, net, "lr", lr_changes(driver, WARMUP_CHANGES + CHANGES),
                         "enter", WARMUP_CHANGES)
        out["lr"] = summarize(lr)
        out["lr_raw"] = lr
        out["schedule"] = summarize(measure_dropdown(driver, net, "schedule", "schedule",
                                                     SCHEDULES, REPS))
        # untimed: an lr no surface preset has, so the first surface change (whose preset
        # lr replaces it) changes the lr curve too
        one_change(driver, net, "setup", "enter", lambda: type_into(driver, "#lr", "0.12"))
        out["surface"] = summarize(measure_dropdown(driver, net, "surface", "problem",
                                                    SURFACES, REPS))
        out["replay"] = replay(srv.url, out["lr"]["posts"][:4], REPLAYS)
        out["replay_surface"] = replay(srv.url, out["surface"]["posts"][:4], REPLAYS // 2)
    return out


def bench_bare(driver) -> dict:
    out = {}
    with tempfile.TemporaryDirectory(prefix="bare-dash-") as tmp:
        path = os.path.join(tmp, "bare_app.py")
        with open(path, "w") as f:
            f.write(BARE_APP)
        with Server([sys.executable, path], cwd=tmp, name="bare Dash app", probe="/") as srv:
            out["server_ready_s"] = srv.ready_s
            out["server_kind"] = srv.kind
            out["load_cold"] = page_load(driver, srv.url + "/")
            net = Network(driver)
            driver.execute_script(HARNESS, BARE_SIG)
            net.drain("setup")
            res = run_changes(driver, net, "bare", lr_changes(driver, WARMUP_CHANGES + CHANGES),
                              "enter", WARMUP_CHANGES)
            out["lr"] = summarize(res)
            out["replay"] = replay(srv.url, out["lr"]["posts"][:4], REPLAYS)
    return out
