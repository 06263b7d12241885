/* Scrubbing: while a slider is dragged, the plots follow it with no server round trip per
   frame (playground/web/scrub.py says how the frames are made).

   A grab of the lr slider, the steps slider or a parameter's slider
   (playground/web/sliders.py) asks the server for the frames of the run, once per run and
   slider (one sweep over the slider's positions: the scrub-request store, answered in
   scrub-data). Each change of the thumb's value then draws the frame of the slider's
   position: the current run's lr, loss and path (each line drawn straight into its SVG
   path, at most once per animation frame; an axis change goes through Plotly), the
   slider's box and the status line. The steps slider's frames differ in length: the step
   axes stay put while they shrink and grow in round steps past the longest. Letting go
   sets the slider's value; the main callback then draws the exact run, as for any change.

   The frames do not depend on the lr the run had before the grab (they replace it), so
   they stay good while only the lr changes: a run's key is its query without the swept
   field. */
(function () {
  "use strict";

  var GRAPHS = ["lr-graph", "loss-graph", "path-graph"];
  var LR_TRACE = 0, LR_EVENTS = 2, LOSS_TRACE = 0, LOSS_OBSERVED = 1, PATH = 2, ENDS = 3;
  var SCRUB_MARKER = 5;  // px: the path's points while scrubbing (at rest sized by the lr)

  var state = {
    frames: null,   // the decoded answer for the run `key`
    key: null,
    asked: null,    // the key of the run whose frames are on their way
    askedField: null, // the query's key that key leaves out (fieldOf)
    slider: null,   // the held slider ("lr-slider", "steps-slider" or a form key) and its element
    root: null,
    drawn: -1,      // the frame on the plots
    grabbed: false, // the slider is held (pointer down on it)
    saved: [],      // [{gd, axis}]: each y axis as it was before the scrub changed it
    hidden: [],     // [{gd, el}]: elements a frame hid (shown when Plotly next redraws)
    from: null,     // the held slider's position when it was grabbed
    autoBox: false, // its box was empty when grabbed (a T_max left to the run)
    rest: [],       // per plot: its traces as they were when it was grabbed (restTraces)
    raf: 0
  };

  function plot(id) {
    var el = document.getElementById(id);
    return el && (el.classList.contains("js-plotly-plot") ? el : el.querySelector(".js-plotly-plot"));
  }

  /* The page query's key the slider's frames do not depend on (as
     playground/web/sliders.py query_field says): its box's, or null under a pair box. */
  function fieldOf(slider, root) {
    if (slider === "lr-slider") { return "optimizer.lr"; }
    if (slider === "steps-slider") { return "steps"; }
    if (root && root.classList.contains("pair-slider")) { return null; }
    var parts = slider.split(".");
    return parts[0] + "." + parts.slice(2).join(".");
  }

  /* The box a slider writes into. */
  function boxOf(slider) {
    return document.getElementById(slider === "lr-slider" ? "lr"
      : slider === "steps-slider" ? "steps" : JSON.stringify({key: slider, type: "param"}));
  }

  /* The page's query without the swept field (what the frames depend on). */
  function runKey(query, field) {
    var parts = String(query || "").replace(/^\/?\?/, "").split("&");
    return parts.filter(function (p) {
      var k = p.split("=")[0];
      return p && k !== field && k !== "lesson";
    }).join("&");
  }

  var HALF = null;  // float16 bits -> float32, built on first use
  function halfTable() {
    if (HALF) { return HALF; }
    HALF = new Float32Array(65536);
    for (var h = 0; h < 65536; h++) {
      var sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
      HALF[h] = exp === 0 ? sign * Math.pow(2, -14) * (frac / 1024)
        : exp === 31 ? (frac ? NaN : sign * Infinity)
        : sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
    }
    return HALF;
  }

  /* base64 little-endian float16 -> Float32Array (10^x of each when `log`). */
  function decode(b64, log) {
    var bin = atob(b64), n = bin.length >> 1, out = new Float32Array(n), table = halfTable();
    for (var i = 0; i < n; i++) {
      var v = table[bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8)];
      out[i] = log ? Math.pow(10, v) : v;
    }
    return out;
  }

  function unpack(f) {
    return {slider: f.slider, field: f.field, valid: f.valid, positions: f.positions,
            values: f.values, texts: f.texts, stepsOf: f.steps_of,
            decimatedTo: f.decimated_to, steps: f.lr_steps,
            points: f.points, lr: decode(f.lr, true), loss: decode(f.loss, true),
            path: decode(f.path, false), ends: decode(f.ends, false),
            lossRange: f.loss_range, divergedAt: f.diverged_at, lrTop: f.lr_top,
            lrLow: f.lr_low};
  }

  function nearest(frames, position) {
    var p = frames.positions, best = 0;
    for (var i = 1; i < p.length; i++) {
      if (Math.abs(p[i] - position) < Math.abs(p[best] - position)) { best = i; }
    }
    return best;
  }

  /* As playground/web/scrub.py decimate: at most `points` indices into `count` values,
     the k-th rounded half up from k (count - 1) / (points - 1), in integers. */
  function decimate(count, points) {
    var out = [];
    for (var k = 0; k < Math.min(count, points); k++) {
      out.push(count <= points ? k
        : Math.floor((2 * k * (count - 1) + (points - 1)) / (2 * (points - 1))));
    }
    return out;
  }

  function row(array, i, width) { return Array.prototype.slice.call(array, i * width, (i + 1) * width); }

  // frames drawn and the time spent in draw() (bench/page_scrub.py reads them)
  var STATS = window.__scrubStats = {frames: 0, ms: 0};

  var FAST = {frame: {redraw: false, duration: 0}, transition: {duration: 0}, mode: "immediate"};

  /* Move some scatter traces of a plot to new data: Plotly.animate without a redraw
     (half the cost of a restyle: the other traces and the axes stay as drawn), or, when
     an axis must change, one Plotly.update (a full redraw). */
  function move(gd, traces, data, layout) {
    if (!layout) { return Plotly.animate(gd, {data: data, traces: traces}, FAST); }
    var restyle = {};
    data.forEach(function (d, k) {
      Object.keys(d).forEach(function (key) {
        var value = key === "marker" ? d.marker.size : d[key];
        var name = key === "marker" ? "marker.size" : key;
        (restyle[name] = restyle[name] || [])[k] = value;
      });
    });
    return Plotly.update(gd, restyle, layout, traces);
  }

  /* The edit that gives a plot's axis (`name`: "xaxis", "yaxis") a new range, its
     settings kept first (letGo puts them back). The first change in a scrub also fixes
     the range and sets the ticks: a log axis's whole decades, labelled as the server
     labels them (logTicks), a linear one's Plotly's own. After it, a change of the range
     alone costs Plotly ~6 ms, where one that touches the ticks too costs ~25: a log axis's
     ticks change again only when the span needs other labels (other decades, or 1-2-5
     under three decades). */
  function axisChange(gd, name, range) {
    var entry = savedOf(gd), first = !(entry && (name + ".range") in entry.axis), edit = {};
    entry = save(gd, [name + ".range", name + ".autorange", name + ".tickmode",
                      name + ".tickvals", name + ".ticktext"]);
    edit[name + ".range"] = range;
    if (first) { edit[name + ".autorange"] = false; }
    if (gd._fullLayout[name].type === "log") {
      var ticks = logTicks(range);
      if (entry.every !== ticks.every) {  // the first change, or other labels needed
        entry.every = ticks.every;
        edit[name + ".tickmode"] = "array";
        edit[name + ".tickvals"] = ticks.vals;
        edit[name + ".ticktext"] = ticks.text;
      }
    } else if (first) {
      edit[name + ".tickmode"] = "auto";
    }
    return edit;
  }

  /* A log axis's labelled ticks for a range (log10 units), as the server labels them
     (playground/web/figure_base.py log_ticks): with three whole decades or more inside,
     whole decades, every `every`-th so that at most LOG_LABELS show; with fewer, 1, 2 and
     5 times each power of ten (`every` "125"); written as decade_text writes them. The
     arrays hold every decade an axis can show (Plotly draws those inside the range), so a
     change of the range alone keeps them: they change only with `every`. */
  var LOG_LABELS = 7, DECADES = [-46, 40];
  function logTicks(range) {
    var a = Math.min(range[0], range[1]), b = Math.max(range[0], range[1]);
    var inside = Math.floor(b + 1e-9) - Math.ceil(a - 1e-9) + 1;
    var every = inside >= 3 ? Math.max(1, Math.ceil((b - a) / LOG_LABELS)) : "125";
    var vals = [], text = [];
    for (var e = DECADES[0]; e <= DECADES[1]; e++) {
      var mantissas = every === "125" ? [1, 2, 5] : e % every === 0 ? [1] : [];
      for (var k = 0; k < mantissas.length; k++) {
        var v = mantissas[k] * Math.pow(10, e);
        vals.push(v);
        text.push(e >= -2 && e <= 3 ? v.toFixed(Math.max(0, -e)) : mantissas[k] + "e" + e);
      }
    }
    return {every: every, vals: vals, text: text};
  }

  /* The first 1-2-5 value (1, 2, 5, 10, 20, ...) at or above v > 0: an axis top that
     changes in steps, not with every frame. */
  function roundUp(v) {
    var e = Math.pow(10, Math.floor(Math.log10(v)));
    return [1, 2, 5, 10].map(function (m) { return m * e; }).find(function (t) { return t >= v; });
  }

  /* The y range a frame needs (`want`: [low, high], log10 units on a log axis), or null
     while the one drawn still shows it well: an axis changes in steps (a change is a full
     Plotly redraw, ~30 ms), not on every frame. A log axis keeps its range while it holds
     the frame and is at most two decades wider, and changes with half a decade of
     headroom; a linear one (from 0) keeps its top while it is 1 to 5 times the frame's and
     changes to the next 1-2-5 value above it. */
  function yRange(gd, want, log) {
    var now = gd._fullLayout.yaxis.range;
    if (!want || !now || !isFinite(want[0]) || !isFinite(want[1])) { return null; }
    var lo = Math.min(now[0], now[1]), hi = Math.max(now[0], now[1]), range;
    if (log) {
      if (lo <= want[0] && hi >= want[1] && (hi - lo) <= (want[1] - want[0]) + 2) { return null; }
      range = [want[0] - 0.5, want[1] + 0.5];
    } else {
      if (lo <= 0 && hi >= want[1] && hi <= 5 * want[1]) { return null; }
      var top = roundUp(want[1]);
      range = [-0.03 * top, top * 1.03];
    }
    // (the server's ticks, for the run at rest, come back with the exact run)
    return axisChange(gd, "yaxis", range);
  }

  /* The SVG group Plotly drew a scatter trace into (class "trace<uid>", in the layer of
     its zorder), or null. */
  function traceGroup(gd, index) {
    var full = (gd._fullData || []).find(function (d) { return d.index === index; });
    return full ? gd.querySelector("g.trace" + full.uid) : null;
  }

  /* Draw a trace's line straight into its SVG path, in the axes as they stand: a frame
     costs a millisecond, where any Plotly call recomputes the whole figure (17-37 ms a
     plot here). Plotly's own state is brought up to date on release (letGo). */
  function fastLine(gd, index, xs, ys) {
    var g = traceGroup(gd, index), lines = g && g.querySelectorAll("path.js-line");
    var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    if (!lines || !lines.length || !xa || !ya) { return false; }
    var d = "", pen = "M";
    for (var k = 0; k < xs.length; k++) {
      var px = xa.c2p(xs[k]), py = ya.c2p(ys[k]);
      if (isFinite(px) && isFinite(py)) {
        d += pen + px.toFixed(1) + "," + py.toFixed(1);
        pen = "L";
      } else {
        pen = "M";
      }
    }
    lines[0].setAttribute("d", d || "M0,0");
    for (var j = 1; j < lines.length; j++) { lines[j].setAttribute("d", "M0,0"); }
    return true;
  }

  /* The plot's margins as drawn, kept while the scrub lasts: with automargin, new tick
     labels (0.0005 after 0.001) move the margins, and Plotly then draws the whole figure
     again (~50 ms instead of ~6 for the axes alone). The first change of an axis in a
     scrub freezes them (a full redraw, once); letGo puts the figure's back, and with them
     what the axes' labels pushed the margins by (Plotly's _pushmargin, which a frozen
     axis drops): without it the exact run's redraw first draws with the bare margins and
     then again with the pushed ones (~30 ms more for the lr plot here). */
  function frozenMargins(gd) {
    var size = gd._fullLayout._size, entry = savedOf(gd);
    if (entry && "margin.l" in entry.axis) { return null; }  // frozen since the first change
    entry = save(gd, ["xaxis.automargin", "yaxis.automargin", "margin.l", "margin.r",
                      "margin.t", "margin.b"]);
    entry.labels = entry.grabLabels = labelWidth(gd);
    entry.pushed = JSON.parse(JSON.stringify(gd._fullLayout._pushmargin || {}));
    return {"xaxis.automargin": false, "yaxis.automargin": false, "margin.l": size.l,
            "margin.r": size.r, "margin.t": size.t, "margin.b": size.b};
  }

  /* The widest y tick label of a plot as drawn, px. */
  function labelWidth(gd) {
    var w = 0;
    gd.querySelectorAll("g.ytick text").forEach(function (t) {
      w = Math.max(w, t.getBoundingClientRect().width);
    });
    return w;
  }

  /* With its margins frozen, a plot whose new y tick labels are wider than any before in
     the scrub gets a left margin wider by the difference (a full redraw, rare: the
     margin only grows), so that they neither leave the plot nor cover its axis title. */
  function roomForLabels(gd) {
    var entry = savedOf(gd);
    if (!entry || entry.labels === undefined) { return; }
    var grown = Math.ceil(labelWidth(gd) - entry.labels);
    if (grown > 0) {
      entry.labels += grown;
      Plotly.update(gd, {}, {"margin.l": gd._fullLayout.margin.l + grown});
    }
  }

  /* Draw a frame's line (`plotData`: [traces, data] as frameData gives them, the line
     first) on a plot, after changing its axes where `axis` says. Only the axes go through
     Plotly (an update of the layout alone, margins frozen: ~6 ms here, where one that
     also restyles the data redraws the whole figure, ~40 ms); the line is then drawn by
     hand in the new axes, and Plotly's traces keep the run at rest. (Plotly.relayout
     would do the same but tell dcc.Graph, which then redraws the whole figure.) */
  function follow(gd, index, plotData, axis) {
    var line = plotData[1][0];
    if (axis) {
      Plotly.update(gd, {}, merged(axis, frozenMargins(gd)));
      roomForLabels(gd);
    }
    if (!fastLine(gd, index, line.x, line.y)) { move(gd, plotData[0], plotData[1], null); }
  }

  /* Hide what a frame does not redraw (markers sized for the run at rest, the minibatch
     loss), until letGo. */
  function hide(gd, index, selector) {
    var g = traceGroup(gd, index);
    (g ? g.querySelectorAll(selector) : []).forEach(function (el) {
      if (el.style.display !== "none") {
        el.style.display = "none";
        state.hidden.push({gd: gd, el: el});
      }
    });
  }

  /* Move a marker of a trace (its k-th point) to (x, y) in the axes as they stand. */
  function movePoint(gd, index, k, x, y) {
    var g = traceGroup(gd, index), pts = g && g.querySelectorAll("path.point");
    var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    if (!pts || pts.length <= k) { return; }
    var px = xa.c2p(x), py = ya.c2p(y);
    if (isFinite(px) && isFinite(py)) { pts[k].setAttribute("transform", "translate(" + px + "," + py + ")"); }
  }

  /* The steps frame i holds (its lr's) and its points (its loss's and path's): the
     same for every frame, but a steps slider's frames each have their own. */
  function framePoints(i) {
    var f = state.frames, n = f.stepsOf && f.stepsOf[i];
    return typeof n === "number" ? [decimate(n, f.decimatedTo), decimate(n + 1, f.decimatedTo)]
      : [f.steps, f.points];
  }

  /* Frame i's data per plot: [graph id, traces, data] as Plotly takes it. */
  function frameData(i) {
    var f = state.frames, nl = f.steps.length, np = f.points.length;
    var at = framePoints(i), steps = at[0], points = at[1], n = points.length;
    var xy = row(f.path, i, 2 * np), px = [], py = [];
    for (var k = 0; k < n; k++) { px.push(xy[2 * k]); py.push(xy[2 * k + 1]); }
    return {
      "lr-graph": [[LR_TRACE, LR_EVENTS],
                   [{x: steps, y: row(f.lr, i, nl).slice(0, steps.length)}, {x: [], y: []}]],
      "loss-graph": [[LOSS_TRACE, LOSS_OBSERVED],
                     [{x: points, y: row(f.loss, i, np).slice(0, n)}, {x: [], y: []}]],
      "path-graph": [[PATH, ENDS],
                     [{x: px, y: py, customdata: points, marker: {size: SCRUB_MARKER}},
                      {x: [px[0], f.ends[2 * i]], y: [py[0], f.ends[2 * i + 1]],
                       customdata: [0, points[n - 1]]}]]
    };
  }

  /* What the scrub keeps of a plot ({gd, axis: its layout settings as they were, ...}),
     or undefined before it changes any. */
  function savedOf(gd) { return state.saved.find(function (s) { return s.gd === gd; }); }

  /* Keep an axis's settings before the scrub first changes them (letGo puts them back);
     returns the plot's entry (savedOf). */
  function save(gd, keys) {
    var entry = savedOf(gd);
    if (!entry) { state.saved.push(entry = {gd: gd, axis: {}}); }
    var layout = gd.layout;
    keys.forEach(function (key) {
      if (key in entry.axis) { return; }
      var parts = key.split("."), axis = layout[parts[0]] || {}, v = axis[parts[1]];
      entry.axis[key] = v === undefined ? (parts[1] === "autorange" ? true : null)
        : Array.isArray(v) ? v.slice() : v;
    });
    return entry;
  }

  /* The step axis a steps-slider frame of `steps` needs, or null while the one drawn
     reaches past them: it stays put while the frames shrink and grows to the next 1-2-5
     value past the longest frame (a change is a full Plotly redraw, not one per frame),
     so the curves visibly grow and shrink against a fixed axis. */
  function xRange(gd, steps) {
    var now = gd._fullLayout.xaxis.range;
    if (!state.frames.stepsOf || !now || Math.max(now[0], now[1]) >= steps) { return null; }
    return axisChange(gd, "xaxis", [0, roundUp(steps)]);
  }

  function merged(a, b) { return a && b ? Object.assign({}, a, b) : a || b; }

  /* Draw frame i on the three plots, the slider's box and the status line. */
  function draw(i) {
    if (!state.frames.valid[i]) { return; }  // no run there (e.g. nesterov at momentum 0)
    var t0 = performance.now();
    var f = state.frames, data = frameData(i);
    var lrGd = plot("lr-graph"), lossGd = plot("loss-graph"), pathGd = plot("path-graph");
    if (lrGd && lrGd.data && lrGd.data.length > LR_EVENTS && lrGd._fullLayout.yaxis) {
      var top = f.lrTop[i], log = lrGd._fullLayout.yaxis.type === "log";
      var want = top === null ? null : log ? [Math.log10(f.lrLow[i]), Math.log10(top)]
        : [0, top];
      var lr = data["lr-graph"];
      var axis = merged(yRange(lrGd, want, log), xRange(lrGd, lr[1][0].x.length &&
        lr[1][0].x[lr[1][0].x.length - 1] + 1));
      follow(lrGd, LR_TRACE, lr, axis);
      hide(lrGd, LR_EVENTS, "path.point");
    }
    if (lossGd && lossGd.data && lossGd.data.length > LOSS_OBSERVED && lossGd._fullLayout.yaxis) {
      var loss = data["loss-graph"];
      var lossAxis = merged(yRange(lossGd, f.lossRange[i], true),
                            xRange(lossGd, loss[1][0].x[loss[1][0].x.length - 1]));
      follow(lossGd, LOSS_TRACE, loss, lossAxis);
      hide(lossGd, LOSS_OBSERVED, "path.js-line");
    }
    if (pathGd && pathGd.data && pathGd.data.length > ENDS && !pathGd._fullLayout.scene) {
      var path = data["path-graph"], line = path[1][0], ends = path[1][1];
      if (fastLine(pathGd, PATH, line.x, line.y)) {
        hide(pathGd, PATH, "g.points");
        movePoint(pathGd, ENDS, 1, ends.x[1], ends.y[1]);
      } else {
        move(pathGd, path[0], path[1], null);
      }
    }
    var box = boxOf(f.slider);
    if (box && document.activeElement !== box) {
      var text = f.texts ? f.texts[i] : String(f.values[i]);
      // a box left empty stays empty at the run's own value, which its placeholder names
      // ("auto: 450"), as it does once let go there (playground/web/sliders.py
      // released_text)
      box.value = state.autoBox && box.placeholder === "auto: " + text ? "" : text;
    }
    var status = document.getElementById("status");
    if (status) {
      var d = f.divergedAt[i];
      status.textContent = d === null ? "" : "Diverged at step " + d +
        ": the loss left the surface's range. Try a smaller lr.";
    }
    state.drawn = i;
    STATS.frames += 1;
    STATS.ms += performance.now() - t0;
    STATS.last = {steps: data["lr-graph"][1][0].x, lr: data["lr-graph"][1][0].y, value: f.values[i]};
    document.dispatchEvent(new CustomEvent("playground:scrubframe"));
  }

  function schedule() {
    if (state.raf || !state.frames) { return; }
    state.raf = window.requestAnimationFrame(function () {
      state.raf = 0;
      if (!state.grabbed) { return; }  // let go: the exact run is on its way
      var at = position();
      if (at === null) { return; }
      // not moved since the grab: the plots keep the exact run (the nearest frame may be
      // a neighbour's: a long run's grab has a frame at every k-th position only)
      if (state.drawn < 0 && at === state.from) { return; }
      var i = nearest(state.frames, at);
      if (i !== state.drawn) { draw(i); }
    });
  }

  // A drag is followed from the slider's thumb (its aria-valuenow), not from its
  // drag_value: a Dash callback on every move (60 a second) kept the page's renderer too
  // busy to draw.
  // Frames are drawn only while a slider is held (its value also changes on keys, which go
  // to the server at once, like a release), from the thumb's first move: a new grab draws
  // its first frame even where the last drag ended (the plots may show a typed lr since).
  function held(e) {
    var root = e.target && e.target.closest && e.target.closest(".lr-slider, .scrub-slider");
    if (!root) { return null; }
    if (root.classList.contains("lr-slider")) { return {slider: "lr-slider", root: root}; }
    if (root.classList.contains("steps-slider")) { return {slider: "steps-slider", root: root}; }
    var field = root.closest(".field");
    try { return {slider: JSON.parse(field.id).key, root: root}; } catch (err) { return null; }
  }

  /* Where the held slider's thumb stands (Radix keeps aria-valuenow up to date). */
  function position() {
    var thumb = state.root && state.root.querySelector("[role=slider]");
    var v = thumb && parseFloat(thumb.getAttribute("aria-valuenow"));
    return isFinite(v) ? v : null;
  }

  /* The frames of this run and slider, asked for once (the server's scrub-data answer). */
  function ensureFrames() {
    var query = window.location.search;  // the page keeps its address = its runs
    var field = fieldOf(state.slider, state.root);
    var key = state.slider + " " + runKey(query, field);
    if (state.frames && state.key === key) { return; }
    if (state.asked === key) { return; }
    state.asked = key;
    state.askedField = field;
    state.frames = null;
    state.drawn = -1;
    window.dash_clientside.set_props("scrub-request", {data: {slider: state.slider, query: query}});
  }

  document.addEventListener("pointerdown", function (e) {
    var h = held(e);
    if (!h) { return; }
    state.grabbed = true;
    state.slider = h.slider;
    state.root = h.root;
    state.from = position();
    var box = boxOf(h.slider);
    state.autoBox = !!box && !box.value.trim();
    state.rest = GRAPHS.map(function (id) { return restTraces(plot(id)); });
    state.drawn = -1;
    watcher.disconnect();
    watcher.observe(h.root, {attributes: true, attributeFilter: ["aria-valuenow"], subtree: true});
    ensureFrames();
  }, true);
  // the thumb's value changes after the pointer's event (React renders it): follow the
  // value itself
  var watcher = new MutationObserver(function () { if (state.grabbed) { schedule(); } });

  /* Put a plot's axes back in its figure as they were before the scrub changed them,
     without a redraw; the server's next redraw draws them. Plotly counts an axis set
     through its API as the user's (its _preGUI record) and keeps it across a redraw while
     the figure's uirevision stays, as it keeps a zoom: the record goes too, else the exact
     run's axes would be lost. */
  function restoreAxes(gd, axis) {
    var edits = (gd._fullLayout && gd._fullLayout._preGUI) || {};
    Object.keys(axis).forEach(function (key) {
      var parts = key.split("."), ax = gd.layout[parts[0]] = gd.layout[parts[0]] || {};
      if (axis[key] === null) { delete ax[parts[1]]; } else { ax[parts[1]] = axis[key]; }
      delete edits[key];
    });
  }

  var CATCH_UP_MS = 1500;  // a release whose exact run has not been drawn by then

  /* The exact run after a release is drawn with a left margin wide enough for its y tick
     labels from the start. Plotly's auto margins otherwise draw the whole plot twice
     whenever those labels are wider or narrower than the ones the margin was last sized
     for (0.0005 after 0.002: ~30 ms more per plot, in two releases out of five here).
     The figure's margin is a lower bound (Plotly widens a margin its labels need), so it
     is raised, for that one redraw, to what the labels needed at the grab plus how much
     wider the last frame's labels are, plus KEEP_SLACK of a label's type for the exact
     run's own ticks: at most that much room is left over beside the axis title until the
     next change draws the figure's own margin. (The map's axes are the surface's
     window, the same for every run: it needs none of this.) `gd._keepMargins` holds it
     until the plot's next Plotly.react, the exact run's (or until KEEP_MS, if none
     comes). */
  var KEEP_MS = 5000, KEEP_SLACK = 0.6;
  function keepMargins(gd, entry) {
    var full = gd && gd._fullLayout;
    var pushed = full && ((entry && entry.pushed) || full._pushmargin);
    var need = pushed && pushed["y.automargin"] && pushed["y.automargin"].l;
    if (!need || full.scene) { return; }
    var font = (full.yaxis.tickfont && full.yaxis.tickfont.size) || 16;
    gd._keepMargins = {need: need.size + KEEP_SLACK * font, until: performance.now() + KEEP_MS,
                       grabLabels: entry ? entry.grabLabels : undefined};
    var P = window.Plotly;
    if (P.react._keepsMargins) { return; }
    var react = P.react;
    P.react = function (plotDiv, data, layout, config) {
      var keep = plotDiv && plotDiv._keepMargins;
      if (keep) {
        plotDiv._keepMargins = null;
        if (performance.now() < keep.until) {
          // the last frame's labels, still on the plot; measured here, after the release's
          // request has left (a measure may wait on the page's layout)
          var now = labelWidth(plotDiv);
          var grown = keep.grabLabels === undefined ? 0 : now - keep.grabLabels;
          var least = {l: Math.ceil(keep.need + grown)};
          if (data && !Array.isArray(data) && data.data) {  // react(gd, figure), as dcc.Graph calls it
            data = Object.assign({}, data, {layout: raised(data.layout, least)});
          } else {
            layout = raised(layout, least);
          }
        }
      }
      return react.call(this, plotDiv, data, layout, config);
    };
    P.react._keepsMargins = true;
  }

  /* A copy of a layout whose margins are at least those in `least` (px). */
  function raised(layout, least) {
    var margin = Object.assign({}, layout && layout.margin);
    Object.keys(least).forEach(function (side) {
      margin[side] = Math.max(typeof margin[side] === "number" ? margin[side] : 0, least[side]);
    });
    return Object.assign({}, layout, {margin: margin});
  }

  /* A plot's traces as they stand (the exact run at rest), kept so that a release where
     the slider was grabbed can put them back: a frame drawn through Plotly (a line that
     fastLine could not draw, the catch-up after a release) writes the frame's decimated
     arrays into the traces themselves. */
  function restTraces(gd) {
    if (!gd || !gd.data) { return null; }
    return {gd: gd, data: gd.data, traces: gd.data.map(function (t) {
      return Object.assign({}, t, t.marker ? {marker: Object.assign({}, t.marker)} : {});
    })};
  }

  /* The Dash id of a held slider (state.slider: its own id, or its field's key). */
  function sliderId(slider) {
    return slider === "lr-slider" || slider === "steps-slider" ? slider
      : {type: "param-slider", key: slider};
  }

  /* A release sends the value the slider's thumb held when the pointer went up (Radix
     commits it on pointerup); a move that arrived just before the release may be drawn
     only after it (React renders a pointer move after the release), leaving the thumb
     elsewhere than the value sent, and Dash's value behind the thumb: the next release
     there would then send nothing. So once the thumb has settled, a thumb that stands
     elsewhere than the value sent is sent too. */
  function commitSettled(slider, root, sent) {
    var thumb = root.querySelector("[role=slider]");
    if (!thumb || sent === null) { return; }
    var watch = new MutationObserver(function () {
      var now = parseFloat(thumb.getAttribute("aria-valuenow"));
      if (state.grabbed || !isFinite(now) || now === sent) { return; }
      watch.disconnect();  // (a new grab's release sends its own value)
      window.dash_clientside.set_props(sliderId(slider), {value: now});
    });
    watch.observe(thumb, {attributes: true, attributeFilter: ["aria-valuenow"]});
    window.setTimeout(function () { watch.disconnect(); }, SETTLE_MS);
  }
  var SETTLE_MS = 500;  // how long after a release the thumb may still move on its own

  /* Let go. The slider's own handler sends the release to the server after this event,
     and the answer redraws the plots with the exact run: nothing here may hold the page's
     thread before that request leaves (three Plotly redraws here delayed it by 150-250
     ms). So the axes go back in the figures without a redraw, and what the frames hid
     shows again when Plotly next redraws its plot. Only a release that sends nothing (the
     slider back where it was grabbed) or whose answer draws nothing (a position that
     makes no run) is redrawn here: the first with the exact run it showed when grabbed
     (the same position), at once; the second with the last frame (its SVG was drawn by
     hand) and the axes as they were, after CATCH_UP_MS. */
  function letGo() {
    if (!state.grabbed) { return; }
    state.grabbed = false;
    var at = position();
    commitSettled(state.slider, state.root, at);
    var hidden = state.hidden, saved = state.saved, drawn = state.frames ? state.drawn : -1;
    var frames = state.frames, unmoved = at === state.from, rest = state.rest;
    var gds = GRAPHS.map(plot);
    var before = gds.map(function (gd) { return gd && gd.data; });
    state.hidden = [];
    state.saved = [];
    state.rest = [];
    saved.forEach(function (s) {
      restoreAxes(s.gd, s.axis);
      if (s.pushed && s.gd._fullLayout) { s.gd._fullLayout._pushmargin = s.pushed; }
    });
    if (drawn >= 0 && !unmoved) {
      gds.slice(0, 2).forEach(function (gd) {  // the lr and loss plots
        keepMargins(gd, saved.find(function (s) { return s.gd === gd; }));
      });
    }
    gds.forEach(function (gd) {
      if (gd && gd.once) {
        gd.once("plotly_afterplot", function () {
          hidden.forEach(function (h) { if (h.gd === gd) { h.el.style.display = ""; } });
        });
      }
    });
    if (drawn < 0) { return; }
    if (unmoved) {  // no request: the plots go back to the run they held
      rest.forEach(function (r) {
        if (!r || r.gd.data !== r.data || (r.gd._fullLayout && r.gd._fullLayout.scene)) { return; }
        r.data.forEach(function (t, k) { Object.assign(t, r.traces[k]); });
        Plotly.redraw(r.gd);
      });
      return;
    }
    window.setTimeout(function () {
      if (state.frames !== frames || state.grabbed) { return; }  // a new grab draws anew
      var data = frameData(drawn);
      gds.forEach(function (gd, k) {
        var id = GRAPHS[k];
        if (!gd || !gd.data || gd.data !== before[k]) { return; }  // the exact run is drawn
        if (gd.data.length <= data[id][0][1] || (id === "path-graph" && gd._fullLayout.scene)) {
          return;
        }
        var axis = saved.find(function (s) { return s.gd === gd; });
        move(gd, data[id][0], data[id][1], axis ? axis.axis : {});
      });
    }, CATCH_UP_MS);
  }
  document.addEventListener("pointerup", letGo, true);
  document.addEventListener("pointercancel", letGo, true);

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    scrub: {
      /* The page query's steps and warmup (playground/web/sliders.py run_length): the
         run-dependent sliders' ranges follow them, and only them. */
      runLength: function (query, last) {
        var pairs = String(query || "").split("?").slice(1).join("?").split("&");
        var key = pairs.filter(function (p) {
          return /^(steps|warmup|warmup\.steps)=/.test(p);
        }).join("&");
        return key === last ? window.dash_clientside.no_update : key;
      },
      /* The frames arrived: keep them and draw the slider's latest position. */
      arrived: function (answer) {
        if (!answer || !answer.frames) { state.asked = null; return; }
        var key = answer.frames.slider + " " + runKey(answer.query, state.askedField);
        if (key !== state.asked) { return; }  // the run changed while they travelled
        state.frames = unpack(answer.frames);
        state.key = key;
        state.drawn = -1;
        schedule();
      }
    }
  });
})();
