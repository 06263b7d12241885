/* Animation and lecture mode, entirely in the browser (no server round trip per frame).

   The bar under the plots (playground/web/browser.py, animation_bar) has no Dash callbacks: the
   listeners here are delegated from `document`, so they survive Dash re-rendering the page.
   A frame at step t draws every run (the current one and the pinned ones) up to step t on
   all three plots: each trace whose points are steps (x on the lr and loss plots,
   customdata on the path plot) keeps its points up to t, so the curves grow with the
   cursor, every run moves in step and a path's end marker appears when it is reached. Each
   figure's cursor trace (its last one, see playground/web/figure_base.py) marks the
   current run at t on the lr and loss plots and every run's position on the path plot.
   When the server replaces the figures (a control changed) the animation stops; back at
   rest (reset) every trace is whole again.

   prefers-reduced-motion: reduce: Play does not animate, it shows the whole run at once
   (the last step); the step buttons and keys still move one frame at a time.

   Keys (not while typing in a field): space plays or pauses, the arrows step (shift: ten
   steps), Home goes back to step 0, Esc leaves lecture mode. */
(function () {
  "use strict";

  var GRAPH_IDS = ["lr-graph", "loss-graph", "path-graph"];
  var RUN_TRACE = {"lr-graph": 0, "loss-graph": 0, "path-graph": 2};  // slot 0's first trace
  var PATH = 2;            // the current run's path on path-graph (slot 0)
  var HEAD = 15;           // marker size of each run's position on the path plot
  var LECTURE_SCALE = 1.3;   // the plots' type in lecture mode
  var MAX_FRAME = 0.25;      // s; a frame after a stall (hidden tab) moves at most this much
  // the play button's text (playground/web/browser.py starts it as PLAY); not "⏸", which many fonts lack
  var PLAY = "▶ Play", PAUSE = "❚❚ Pause";
  var PER_POINT = ["x", "y", "customdata", "text", "hovertext"];  // cut to the shown points

  var state = {
    t: null,           // the step on show, null when no frame is drawn
    playing: false,
    raf: 0,
    last: 0,           // time of the previous animation frame (ms)
    carry: 0,          // fractional steps owed to the next frame
    shown: null,       // graph id -> the trace the frame reads (the run's first trace)
    plans: null,       // graph id -> {gd, traces: [...]}: what a frame cuts (see plan)
    styled: []         // [{gd, trace, restore}]: cursors made ready for frames (see prepareCursor)
  };

  function reducedMotion() {
    return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }

  // --- Reading the figures -------------------------------------------------------------

  function plot(id) {
    var el = document.getElementById(id);
    return el && (el.classList.contains("js-plotly-plot") ? el : el.querySelector(".js-plotly-plot"));
  }

  function fullTrace(gd, index) {
    return (gd._fullData || []).find(function (d) { return d.index === index; });
  }

  /* A trace's values as Plotly decoded them (the server sends base64 typed arrays). */
  function values(gd, index, key) {
    var full = fullTrace(gd, index);
    var arr = full && full[key];
    if (arr && arr.length !== undefined && typeof arr !== "string") { return arr; }
    arr = gd.data && gd.data[index] && gd.data[index][key];
    return arr && arr.length !== undefined && typeof arr !== "string" ? arr : null;
  }

  function finite(v) { return typeof v === "number" && isFinite(v); }

  /* The current run as drawn: its path, lr and loss, the last step with a finite point
     (`end`), the run's length `n` and the step it diverged at (or null). The server draws
     runs up to their divergence (the path then has no more points than the lr has
     values); a NaN in the arrays counts as the divergence as well. */
  function currentRun() {
    var gd = plot("path-graph");
    if (!gd || !gd.data || gd.data.length <= PATH + 1) { return null; }
    var saved = savedValues(gd, PATH);
    var px = saved ? saved.x : values(gd, PATH, "x"), py = saved ? saved.y : values(gd, PATH, "y");
    if (!px || !px.length || !py) { return null; }
    var lrGd = plot("lr-graph"), lossGd = plot("loss-graph");
    var lrSaved = lrGd && savedValues(lrGd, 0), lossSaved = lossGd && savedValues(lossGd, 0);
    var lr = lrSaved ? lrSaved.y : lrGd && values(lrGd, 0, "y");
    var loss = lossSaved ? lossSaved.y : lossGd && values(lossGd, 0, "y");
    var pts = Math.min(px.length, py.length);
    var end = 0;
    while (end + 1 < pts && finite(px[end + 1]) && finite(py[end + 1]) &&
           !(loss && end + 1 < loss.length && !finite(loss[end + 1]))) { end++; }
    var diverged = end + 1 < pts || (lr && pts <= lr.length) ? end + 1 : null;
    var n = end;
    if (diverged !== null) {
      var steps = parseInt((document.getElementById("steps") || {}).value, 10);
      n = steps >= diverged ? steps : (lr ? Math.max(lr.length, end) : end);
    }
    return {gd: gd, lrGd: lrGd, lossGd: lossGd, px: px, py: py, lr: lr, loss: loss,
            end: end, n: n, diverged: diverged};
  }

  // --- What a frame cuts -----------------------------------------------------------------

  /* For one graph: each trace whose points are steps, with its whole values (decoded) and
     the values it had in the figure (put back by reset). On the lr and loss plots a
     point's step is its x, on the path plot its customdata; traces without steps (the
     contour's hover grid, the minimum) are left alone. */
  function plan(id) {
    var gd = plot(id);
    if (!gd || !gd.data || !gd._fullData) { return null; }
    var cursor = gd.data.length - 1, traces = [];
    gd._fullData.forEach(function (d) {
      if (d.type !== "scatter" || d.index === cursor || d.visible === false) { return; }
      var steps = values(gd, d.index, id === "path-graph" ? "customdata" : "x");
      if (!steps || !steps.length || !finite(steps[0])) { return; }
      var whole = {}, original = {};
      PER_POINT.forEach(function (key) {
        var v = values(gd, d.index, key);
        if (v && v.length !== undefined) {
          whole[key] = Array.prototype.slice.call(v);
          original[key] = gd.data[d.index][key];
        }
      });
      if (!whole.x || !whole.y) { return; }
      traces.push({index: d.index, trace: gd.data[d.index], steps: Array.prototype.slice.call(steps),
                   whole: whole, original: original,
                   colour: (d.line && d.line.color) || (d.marker && d.marker.color),
                   lines: String(d.mode || "").indexOf("lines") >= 0, cut: -1});
    });
    return {gd: gd, traces: traces};
  }

  function plans() {
    if (!state.plans) {
      state.plans = {};
      GRAPH_IDS.forEach(function (id) { state.plans[id] = plan(id); });
    }
    return state.plans;
  }

  /* The whole values of a trace a frame has cut (null if none has). */
  function savedValues(gd, index) {
    var found = null;
    GRAPH_IDS.forEach(function (id) {
      var pl = state.plans && state.plans[id];
      if (!pl || pl.gd !== gd) { return; }
      pl.traces.forEach(function (tr) {
        if (tr.index === index && gd.data[index] === tr.trace) { found = tr.whole; }
      });
    });
    return found;
  }

  /* The last step any run reaches: where playing stops (the current run's own end, a
     NaN included, and the ends of the other paths). */
  function lastStep(run) {
    var p = plans(), last = run ? run.end : 0;
    var path = p["path-graph"];
    (path ? path.traces : []).forEach(function (tr) {
      if (tr.index === PATH || tr.index === PATH + 1) { return; }
      tr.steps.forEach(function (k) { if (k > last) { last = k; } });
    });
    return last;
  }

  /* How many leading points of a trace are at steps up to t. */
  function upTo(steps, t) {
    var k = 0;
    while (k < steps.length && !(steps[k] > t)) { k++; }
    return k;
  }

  // --- Drawing a frame -----------------------------------------------------------------

  function restyle(gd, update, index) {
    try {
      var p = window.Plotly.restyle(gd, update, index === undefined || Array.isArray(index) ? index : [index]);
      if (p && p.catch) { p.catch(function () {}); }  // a figure replaced under us
    } catch (e) { /* the graph is being replaced; the next frame or reset catches up */ }
  }

  function cursorOf(gd) { return gd.data.length - 1; }

  /* A graph's cursor made ready for frames, once per cursor trace: its zorder goes (see
     move) and its style for frames is set. What it had is kept for reset(), which gives
     the hover ring back. */
  function prepareCursor(gd, update) {
    var cursor = gd.data[cursorOf(gd)];
    if (state.styled.some(function (s) { return s.trace === cursor; })) { return; }
    var restore = {};
    Object.keys(update).forEach(function (key) {
      restore[key] = cursor[key] === undefined ? null : JSON.parse(JSON.stringify(cursor[key]));
    });
    if (cursor.zorder !== undefined && cursor.zorder !== null) {
      restore.zorder = cursor.zorder;
      update.zorder = null;
    }
    state.styled.push({gd: gd, trace: cursor, restore: restore});
    if (Object.keys(update).length) { restyle(gd, update, cursorOf(gd)); }
  }

  function slice(arr, stop) { return Array.prototype.slice.call(arr, 0, stop); }

  /* New points for a graph's traces, drawn without redrawing the figure: Plotly.animate with
     no transition and no redraw recomputes and draws the traces it is given (a restyle of
     x/y redraws every trace, the contour map and the axes: ~4x slower). It is given every
     scatter trace, the unchanged ones empty: a transition of some traces alone drops the
     ones drawn in other zorder layers (Plotly 3.8), and leaves a cursor with a zorder
     undrawn. `updates`: trace index -> its new values. */
  function move(gd, updates) {
    if (!window.Plotly.animate) {
      Object.keys(updates).forEach(function (i) { restyle(gd, wrap(updates[i]), +i); });
      return;
    }
    var traces = [], frames = [];
    (gd._fullData || []).forEach(function (d) {
      if (d.type === "scatter" || updates[d.index]) {
        traces.push(d.index);
        frames.push(updates[d.index] || {});
      }
    });
    try {
      var p = window.Plotly.animate(gd, {data: frames, traces: traces},
                                    {transition: {duration: 0},
                                     frame: {duration: 0, redraw: false}, mode: "immediate"});
      if (p && p.catch) { p.catch(function () {}); }
    } catch (e) { /* the graph is being replaced; reset() follows */ }
  }

  function wrap(update) {
    var out = {};
    Object.keys(update).forEach(function (k) { out[k] = [update[k]]; });
    return out;
  }

  /* Every stepped trace of a graph cut to the points up to t (only those whose cut moved). */
  function cut(pl, t, updates) {
    pl.traces.forEach(function (tr) {
      if (pl.gd.data[tr.index] !== tr.trace) { return; }
      var k = upTo(tr.steps, t);
      if (k === tr.cut) { return; }
      tr.cut = k;
      var u = {};
      Object.keys(tr.whole).forEach(function (key) { u[key] = slice(tr.whole[key], k); });
      updates[tr.index] = u;
    });
  }

  /* The y range of a graph's stepped traces (on its first y axis), so that the cursor can
     hold the axes where the whole runs put them: a redraw in the middle of an animation
     (a resize, lecture mode) autoranges on what is drawn. */
  function extent(pl) {
    var lo = Infinity, hi = -Infinity, xhi = 0, log = false;
    var ax = pl.gd._fullLayout && pl.gd._fullLayout.yaxis;
    log = !!(ax && ax.type === "log");
    pl.traces.forEach(function (tr) {
      var d = fullTrace(pl.gd, tr.index);
      if (d && d.yaxis && d.yaxis !== "y") { return; }
      tr.whole.y.forEach(function (v) {
        if (finite(v) && (!log || v > 0)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      });
      tr.whole.x.forEach(function (v) { if (finite(v)) { xhi = Math.max(xhi, v); } });
    });
    return lo <= hi ? {lo: lo, hi: hi, xhi: xhi} : null;
  }

  /* The cursor of the lr or loss plot: one ring at (x, y) (none without a value), and two
     invisible points at the corners of the whole runs' extent. */
  function mark(pl, x, y) {
    var gd = pl && pl.gd;
    if (!gd || !gd.data || !gd.data.length) { return {}; }
    if (pl.extent === undefined) { pl.extent = extent(pl); }
    prepareCursor(gd, {marker: JSON.parse(JSON.stringify(gd.data[cursorOf(gd)].marker || {}))});
    var xs = [], ys = [], op = [];
    if (finite(x) && finite(y)) { xs.push(x); ys.push(y); op.push(1); }
    if (pl.extent) {
      xs.push(0, pl.extent.xhi); ys.push(pl.extent.lo, pl.extent.hi); op.push(0, 0);
    }
    var update = {};
    update[cursorOf(gd)] = {x: xs, y: ys, marker: {opacity: op}};
    return update;
  }

  /* Every run's position at step t on the path plot, in its colour. */
  function heads(pl, t) {
    var gd = pl.gd, xs = [], ys = [], colours = [];
    pl.traces.forEach(function (tr) {
      if (!tr.lines || gd.data[tr.index] !== tr.trace) { return; }
      var k = upTo(tr.steps, t);
      if (k < 1) { return; }
      var x = tr.whole.x[k - 1], y = tr.whole.y[k - 1];
      if (!finite(x) || !finite(y)) { return; }
      xs.push(x); ys.push(y); colours.push(tr.colour || "#000000");
    });
    var paper = (gd._fullLayout && gd._fullLayout.paper_bgcolor) || "#ffffff";
    prepareCursor(gd, {mode: "markers",
                       marker: {symbol: "circle", size: HEAD, opacity: 1, color: "#000000",
                                line: {width: 2.5, color: paper}}});
    var update = {};
    update[cursorOf(gd)] = {x: xs, y: ys, marker: {color: colours}};
    return update;
  }

  function draw(t) {
    var run = currentRun();
    if (!run) { return; }
    var p = plans();
    t = Math.max(0, Math.min(lastStep(run), t));
    state.t = t;
    state.shown = {};
    GRAPH_IDS.forEach(function (id) {
      var gd = plot(id);
      state.shown[id] = gd && gd.data && gd.data[RUN_TRACE[id]];
    });
    var at = Math.min(t, run.end);
    var lr = run.lr && at < run.lr.length ? run.lr[at] : undefined;
    var loss = run.loss && at < run.loss.length ? run.loss[at] : undefined;
    GRAPH_IDS.forEach(function (id) {
      var pl = p[id];
      if (!pl || !pl.gd.data) { return; }
      var updates = id === "path-graph" ? heads(pl, t)
        : mark(pl, at === t ? t : undefined, id === "lr-graph" ? lr : loss);
      cut(pl, t, updates);
      move(pl.gd, updates);
    });
    readout(run, t, at === t ? lr : undefined, at === t ? loss : undefined);
  }

  /* 3 significant digits, like figures.fmt: 0.0123, 0.456, 1.23e-5, 2.5e3. */
  function fmt(v) {
    if (!finite(v)) { return String(v); }
    if (v === 0) { return "0"; }
    var e = Math.floor(Math.log10(Math.abs(v)));
    if (e < -4 || e >= 3) {
      var parts = v.toExponential(2).split("e");
      return parseFloat(parts[0]) + "e" + parseInt(parts[1], 10);
    }
    return String(parseFloat(v.toPrecision(3)));
  }

  function readout(run, t, lr, loss) {
    var el = document.getElementById("anim-readout");
    if (!el) { return; }
    var parts = ["step " + t + " / " + Math.max(run.n, lastStep(run))];
    if (finite(lr)) { parts.push("lr " + fmt(lr)); }
    if (finite(loss)) { parts.push("loss " + fmt(loss)); }
    if (run.diverged !== null && t >= run.end) { parts.push("diverged at step " + run.diverged); }
    el.textContent = parts.join(" · ");
    el.classList.toggle("diverged", run.diverged !== null && t >= run.end);
  }

  // --- Playing ---------------------------------------------------------------------------

  function speed() {
    var v = parseFloat((document.getElementById("anim-speed") || {}).value);
    return v > 0 ? v : 30;
  }

  function setPlaying(on) {
    state.playing = on;
    var button = document.getElementById("anim-play");
    if (button) { button.textContent = on ? PAUSE : PLAY; }
    // a screen reader hears where the animation stopped, not 30 steps a second
    var readout = document.getElementById("anim-readout");
    if (readout) { readout.setAttribute("aria-live", on ? "off" : "polite"); }
    if (!on && state.raf) { window.cancelAnimationFrame(state.raf); state.raf = 0; }
  }

  function frame(now) {
    state.raf = 0;
    if (!state.playing) { return; }
    var run = currentRun();
    if (!run) { setPlaying(false); return; }
    var last = lastStep(run);
    state.carry += Math.min(MAX_FRAME, Math.max(0, now - state.last) / 1000) * speed();
    state.last = now;
    var k = Math.floor(state.carry);
    if (k >= 1) {  // fast speeds skip steps; slow ones wait for a whole step
      state.carry -= k;
      draw(Math.min(last, (state.t || 0) + k));
    }
    if (state.t >= last) { setPlaying(false); return; }
    state.raf = window.requestAnimationFrame(frame);
  }

  function play() {
    var run = currentRun();
    if (!run) { return; }
    hook();
    var last = lastStep(run);
    if (reducedMotion()) {  // no motion: the whole run at once, the same frame as its end
      setPlaying(false);
      draw(last);
      return;
    }
    if (state.t === null || state.t >= last) { draw(0); }
    state.last = window.performance.now();
    state.carry = 0;
    setPlaying(true);
    state.raf = window.requestAnimationFrame(frame);
  }

  function step(by) {
    setPlaying(false);
    hook();
    draw((state.t === null ? 0 : state.t) + by);
  }

  function toHome() {
    setPlaying(false);
    hook();
    draw(0);
  }

  /* Whether a trace still holds the points a frame cut it to. The figure's own trace
     objects hold them (dcc.Graph hands Plotly the figure it keeps), so a patched figure
     whose pinned runs the server left alone carries them over in new objects; a trace the
     server sent anew has other values. */
  function stillCut(gd, tr) {
    if (!gd.data[tr.index]) { return false; }
    if (gd.data[tr.index] === tr.trace) { return true; }
    var x = values(gd, tr.index, "x"), y = values(gd, tr.index, "y");
    if (!x || !y || x.length !== tr.cut || y.length !== tr.cut) { return false; }
    for (var i = 0; i < tr.cut; i++) {
      if (x[i] !== tr.whole.x[i] && !(x[i] !== x[i] && tr.whole.x[i] !== tr.whole.x[i])) { return false; }
      if (y[i] !== tr.whole.y[i] && !(y[i] !== y[i] && tr.whole.y[i] !== tr.whole.y[i])) { return false; }
    }
    return true;
  }

  /* Back to the plain figures: every trace a frame cut whole again (unless the server has
     replaced it), the cursors empty (hover moves them again). */
  function reset() {
    setPlaying(false);
    state.t = null;
    state.shown = null;
    var p = state.plans;
    state.plans = null;
    GRAPH_IDS.forEach(function (id) {
      var g = plot(id);
      if (!g || !g.data || !g.data.length) { return; }
      var pl = p && p[id];
      if (pl && pl.gd === g) {  // one restyle puts every cut trace back
        var cut = pl.traces.filter(function (tr) { return tr.cut >= 0 && stillCut(g, tr); });
        var back = {};
        PER_POINT.forEach(function (key) {
          if (cut.some(function (tr) { return key in tr.original; })) {
            back[key] = cut.map(function (tr) { return tr.original[key]; });  // undefined: unchanged
          }
        });
        if (cut.length) {
          try {
            var done = window.Plotly.restyle(g, back, cut.map(function (tr) { return tr.index; }));
            if (done && done.catch) { done.catch(function () {}); }
          } catch (e) { /* replaced meanwhile */ }
        }
      }
      var update = {x: [[]], y: [[]]};
      state.styled.forEach(function (s) {
        if (s.gd === g && g.data[cursorOf(g)] === s.trace) {
          Object.keys(s.restore).forEach(function (key) { update[key] = [s.restore[key]]; });
        }
      });
      restyle(g, update, cursorOf(g));
    });
    state.styled = [];
    var el = document.getElementById("anim-readout");
    if (el) { el.textContent = ""; el.classList.remove("diverged"); }
  }

  /* For assets/hover.js: while a frame is on show the cursors are the frame's. */
  window.playgroundFrameShown = function () { return state.t !== null; };

  // --- Figures replaced by the server, hover ---------------------------------------------

  /* Whether the server replaced a run's traces since the frame was drawn: a control
     change sends new trace objects (a Patch or a whole figure). Plotly.react alone says
     nothing: dcc.Graph also reacts to its own relayouts (a zoom, our lecture fonts) with
     the same data. */
  function replaced() {
    var shown = state.shown;
    if (!shown) { return false; }
    return GRAPH_IDS.some(function (id) {
      var gd = plot(id);
      return !gd || !gd.data || gd.data[RUN_TRACE[id]] !== shown[id];
    });
  }

  /* Listeners on the graphs themselves (dcc.Graph drops them with its element, so they are
     added again for a new one). Plotly.react is how Dash draws a new or patched figure;
     our own restyles and animate calls never emit plotly_react. */
  function hook() {
    GRAPH_IDS.forEach(function (id) {
      var gd = plot(id);
      if (!gd || !gd.on || gd._animateHooked) { return; }
      gd._animateHooked = true;
      gd.on("plotly_react", function () {
        if (replaced()) { reset(); }
        if (document.body.classList.contains("lecture")) { enlarge(gd, true); }
      });
      gd.on("plotly_afterplot", function () { toolbar(gd); });
    });
  }

  // --- Lecture mode ----------------------------------------------------------------------

  /* Plots other than the run's three whose type lecture mode enlarges too: the "Loss
     against the lr" panel's (a lesson may lead with it). It is drawn when the panel opens,
     so it is hooked when it appears: each of its draws in lecture mode enlarges it (a
     draw of a figure already enlarged changes nothing). */
  var LECTURE_ALSO = ["sensitivity-graph"];
  function hookAlso() {
    LECTURE_ALSO.forEach(function (id) {
      var gd = plot(id);
      if (!gd || !gd.on || gd._lectureHooked) { return; }
      gd._lectureHooked = true;
      gd.on("plotly_afterplot", function () {
        if (document.body.classList.contains("lecture")) { enlarge(gd, true); }
        toolbar(gd);
      });
    });
  }
  new MutationObserver(hookAlso).observe(document.documentElement,
                                         {childList: true, subtree: true});

  /* Every font size in a layout ("font.size", "title.font.size", "annotations[0].font.size",
     ...): the figures set most of them, so the base font alone would change little. */
  function fontSizes(layout) {
    var out = {};
    function walk(obj, prefix, depth) {
      if (!obj || typeof obj !== "object" || depth > 4) { return; }
      Object.keys(obj).forEach(function (key) {
        var value = obj[key];
        var path = Array.isArray(obj) ? prefix + "[" + key + "]" : (prefix ? prefix + "." : "") + key;
        if (/font$/.test(key) && value && typeof value === "object" && !Array.isArray(value)) {
          if (typeof value.size === "number") { out[path + ".size"] = value.size; }
        } else if (value && typeof value === "object" && key !== "images" && key !== "template" &&
                   !(value.bdata || ArrayBuffer.isView(value))) {
          walk(value, path, depth + 1);
        }
      });
    }
    walk(layout, "", 0);
    return out;
  }

  /* In lecture mode the plots' type grows by LECTURE_SCALE; leaving puts each size back.
     A size already enlarged (a patched figure keeps our change) is left as it is. The
     layout's fonts (titles, ticks, axis titles, annotations, hover labels) and the traces'
     own text ("minimum", a lesson's labels) grow; so do the toolbar (upright in the right
     margin, which grows with it) and the ticks' length. */
  function enlarge(gd, on) {
    if (!gd || !gd.layout) { return; }
    var update = {};
    var sizes = fontSizes(gd.layout);
    if (!("font.size" in sizes)) { sizes["font.size"] = 14; }
    if (gd.layout.margin && typeof gd.layout.margin.r === "number") {
      sizes["margin.r"] = gd.layout.margin.r;
    }
    if (on) {
      var before = gd._lectureFonts || {};
      var record = {};
      Object.keys(sizes).forEach(function (path) {
        var old = before[path];
        if (old && sizes[path] === old.big) { record[path] = old; return; }
        var big = Math.round(sizes[path] * LECTURE_SCALE);
        record[path] = {orig: sizes[path], big: big};
        update[path] = big;
      });
      gd._lectureFonts = record;
    } else {
      var rec = gd._lectureFonts || {};
      Object.keys(rec).forEach(function (path) {
        if (sizes[path] === rec[path].big) { update[path] = rec[path].orig; }
      });
      delete gd._lectureFonts;
    }
    if (Object.keys(update).length) {
      var p = window.Plotly.relayout(gd, update);
      if (p && p.catch) { p.catch(function () {}); }
    }
    enlargeTraces(gd, on);
    toolbar(gd);
  }

  /* The toolbar (Plotly draws it anew with the plot) scaled with the type in lecture mode. */
  function toolbar(gd) {
    var on = document.body.classList.contains("lecture");
    var bar = gd.querySelector(".modebar");
    if (bar) {
      bar.style.transform = on ? "scale(" + LECTURE_SCALE + ")" : "";
      bar.style.transformOrigin = on ? "top right" : "";
    }
  }

  var traceFonts = new WeakMap();  // trace -> {orig, big}: its text size before lecture mode

  /* The traces' own text sizes (textfont.size, a number) in lecture mode, and back. */
  function enlargeTraces(gd, on) {
    var indices = [], sizes = [];
    (gd.data || []).forEach(function (trace, i) {
      var size = trace && trace.textfont && trace.textfont.size;
      if (typeof size !== "number") { return; }
      var rec = traceFonts.get(trace);
      if (on) {
        if (rec && size === rec.big) { return; }
        rec = {orig: size, big: Math.round(size * LECTURE_SCALE)};
        traceFonts.set(trace, rec);
        indices.push(i); sizes.push(rec.big);
      } else if (rec) {
        traceFonts.delete(trace);
        if (size === rec.big) { indices.push(i); sizes.push(rec.orig); }
      }
    });
    if (indices.length) { restyle(gd, {"textfont.size": sizes}, indices); }
  }

  function setLecture(on) {
    document.body.classList.toggle("lecture", on);
    var button = document.getElementById("lecture-toggle");
    if (button) { button.textContent = on ? "Leave lecture mode" : "Lecture mode"; }
    hook();
    GRAPH_IDS.concat(LECTURE_ALSO).forEach(function (id) { enlarge(plot(id), on); });
    window.dispatchEvent(new Event("resize"));  // the plots take the freed width
  }

  // --- Listeners -------------------------------------------------------------------------

  var CLICKS = {
    "#anim-play": function () { if (state.playing) { setPlaying(false); } else { play(); } },
    "#anim-start": function () { toHome(); },
    "#anim-back": function (e) { step(e.shiftKey ? -10 : -1); },
    "#anim-forward": function (e) { step(e.shiftKey ? 10 : 1); },
    "#lecture-toggle": function () { setLecture(!document.body.classList.contains("lecture")); }
  };

  document.addEventListener("click", function (e) {
    if (!e.target || !e.target.closest) { return; }
    Object.keys(CLICKS).forEach(function (selector) {
      if (e.target.closest(selector)) { CLICKS[selector](e); }
    });
  });

  var DROPDOWN = ".dash-dropdown, .Select, [role='combobox'], [role='listbox']";

  /* Typing goes to the field: an lr, a dropdown's choice, the slider's arrows. */
  function typing(el) {
    return !!(el && el.closest && el.closest(
      "input, select, textarea, [contenteditable=''], [contenteditable='true'], " +
      "[role='slider'], [role='textbox'], " + DROPDOWN));
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || !e.target.closest) { return; }
    if (e.key === "Escape" && document.body.classList.contains("lecture") &&
        !e.target.closest(DROPDOWN)) {  // Esc in an open dropdown closes the dropdown
      setLecture(false);
      return;
    }
    if (typing(e.target)) { return; }
    var inBar = e.target.closest(".animation-bar");
    var onButton = e.target.closest("button, a, summary, [role='button']");
    switch (e.key) {
      case " ":
      case "Spacebar":
        if (onButton && !inBar) { return; }  // a focused button (Pin, Remove) gets its click
        e.preventDefault();  // no page scroll, and no second toggle by a focused bar button
        CLICKS["#anim-play"](e);
        break;
      case "ArrowRight": e.preventDefault(); step(e.shiftKey ? 10 : 1); break;
      case "ArrowLeft": e.preventDefault(); step(e.shiftKey ? -10 : -1); break;
      case "Home": e.preventDefault(); toHome(); break;
      default:
    }
  });

  /* A space on a focused bar button clicks it on keyup; the keydown above has played. */
  document.addEventListener("keyup", function (e) {
    if ((e.key === " " || e.key === "Spacebar") && e.target.closest &&
        e.target.closest(".animation-bar button")) { e.preventDefault(); }
  });
})();
