/* Animation and lecture mode, entirely in the browser (no server round trip per frame).

   The bar under the plots (playground/web/browser.py, animation_bar) has no Dash callbacks: the
   listeners here are delegated from `document`, so they survive Dash re-rendering the page.
   A frame at step t dims the current run's path (path-graph trace 2) and draws points
   0..t in the figure's cursor trace (its last one, see playground/web/figure_base.py); on the lr
   and loss plots the cursor marks the value at t. When the server replaces the figures
   (a control changed) the animation stops and the path is shown whole again.

   Keys (not while typing in a field): space plays or pauses, the arrows step (shift: ten
   steps), Home goes back to step 0, Esc leaves lecture mode. */
(function () {
  "use strict";

  var GRAPH_IDS = ["lr-graph", "loss-graph", "path-graph"];
  var RUN_TRACE = {"lr-graph": 0, "loss-graph": 0, "path-graph": 2};  // slot 0's first trace
  var PATH = 2;            // the current run's path on path-graph (slot 0)
  var DIM = 0.15;          // its opacity while the animation draws it growing
  var POINT = 5, HEAD = 17;  // marker sizes of the grown path and of its step t
  var LECTURE_SCALE = 1.3;   // the plots' type in lecture mode
  var MAX_FRAME = 0.25;      // s; a frame after a stall (hidden tab) moves at most this much
  // the play button's text (playground/web/browser.py starts it as PLAY); not "⏸", which many fonts lack
  var PLAY = "▶ Play", PAUSE = "❚❚ Pause";

  var state = {
    t: null,           // the step on show, null when no frame is drawn
    playing: false,
    raf: 0,
    last: 0,           // time of the previous animation frame (ms)
    carry: 0,          // fractional steps owed to the next frame
    shown: null,       // graph id -> the trace the frame reads (the run's first trace)
    dimmed: null,      // {gd, trace, opacity}: the path we dimmed and its own opacity
    styled: []         // [{gd, trace, restore}]: cursors made ready for frames (see prepareCursor)
  };

  // --- Reading the figures -------------------------------------------------------------

  function plot(id) {
    var el = document.getElementById(id);
    return el && (el.classList.contains("js-plotly-plot") ? el : el.querySelector(".js-plotly-plot"));
  }

  /* A trace's values as Plotly decoded them (the server sends base64 typed arrays). */
  function values(gd, index, key) {
    var full = (gd._fullData || []).find(function (d) { return d.index === index; });
    var arr = full && full[key];
    if (arr && arr.length !== undefined) { return arr; }
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
    var px = values(gd, PATH, "x"), py = values(gd, PATH, "y");
    if (!px || !px.length || !py) { return null; }
    var lrGd = plot("lr-graph"), lossGd = plot("loss-graph");
    var lr = lrGd && values(lrGd, 0, "y"), loss = lossGd && values(lossGd, 0, "y");
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
    var full = (gd._fullData || []).find(function (d) { return d.index === PATH; });
    var colour = (full && full.line && full.line.color) ||
                 (gd.data[PATH].line && gd.data[PATH].line.color) || "#000000";
    return {gd: gd, lrGd: lrGd, lossGd: lossGd, px: px, py: py, lr: lr, loss: loss,
            end: end, n: n, diverged: diverged, colour: colour};
  }

  // --- Drawing a frame -----------------------------------------------------------------

  function restyle(gd, update, index) {
    try {
      var p = window.Plotly.restyle(gd, update, [index]);
      if (p && p.catch) { p.catch(function () {}); }  // a figure replaced under us
    } catch (e) { /* the graph is being replaced; the next frame or reset catches up */ }
  }

  function cursorOf(gd) { return gd.data.length - 1; }

  function dim(run) {
    var trace = run.gd.data[PATH];
    if (state.dimmed && state.dimmed.trace === trace) { return; }
    state.dimmed = {gd: run.gd, trace: trace, opacity: trace.opacity};
    restyle(run.gd, {opacity: DIM}, PATH);
  }

  /* A graph's cursor made ready for frames, once per cursor trace: its zorder goes (see
     move) and the path plot's gets the run's colour and a line. What it had is kept for
     reset(), which gives the hover ring back. */
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

  function pathCursorStyle(run) {
    return {mode: "lines+markers", line: {color: run.colour, width: 3.5},
            marker: {symbol: "circle", color: run.colour, size: POINT, opacity: 1,
                     line: {width: 0}}};
  }

  function slice(arr, stop) { return Array.prototype.slice.call(arr, 0, stop); }

  /* New points for a graph's cursor, drawn without redrawing the figure: Plotly.animate with
     no transition and no redraw recomputes and draws the traces it is given (a restyle of
     x/y redraws every trace, the contour map and the axes: ~4x slower). It is given every
     scatter trace, the others unchanged: a transition of some traces alone drops the ones
     drawn in other zorder layers (Plotly 3.8), and leaves a cursor with a zorder undrawn. */
  function move(gd, data) {
    var index = cursorOf(gd);
    if (!window.Plotly.animate) { restyle(gd, data, index); return; }
    var traces = [], frames = [];
    (gd._fullData || []).forEach(function (d) {
      if (d.type === "scatter" || d.index === index) {
        traces.push(d.index);
        frames.push(d.index === index ? data : {});
      }
    });
    try {
      var p = window.Plotly.animate(gd, {data: frames, traces: traces},
                                    {transition: {duration: 0},
                                     frame: {duration: 0, redraw: false}, mode: "immediate"});
      if (p && p.catch) { p.catch(function () {}); }
    } catch (e) { /* the graph is being replaced; reset() follows */ }
  }

  /* The cursor of the lr or loss plot: one marker at (x, y), none when there is no value. */
  function mark(gd, x, y) {
    if (!gd || !gd.data || !gd.data.length) { return; }
    prepareCursor(gd, {});
    var ok = finite(x) && finite(y);
    move(gd, {x: ok ? [x] : [], y: ok ? [y] : []});
  }

  function draw(t) {
    var run = currentRun();
    if (!run) { return; }
    t = Math.max(0, Math.min(run.end, t));
    state.t = t;
    state.shown = {};
    GRAPH_IDS.forEach(function (id) {
      var gd = plot(id);
      state.shown[id] = gd && gd.data && gd.data[RUN_TRACE[id]];
    });
    dim(run);
    prepareCursor(run.gd, pathCursorStyle(run));
    var sizes = new Array(t + 1).fill(POINT);
    sizes[t] = HEAD;
    move(run.gd, {x: slice(run.px, t + 1), y: slice(run.py, t + 1), marker: {size: sizes}});
    var lr = run.lr && t < run.lr.length ? run.lr[t] : undefined;
    var loss = run.loss && t < run.loss.length ? run.loss[t] : undefined;
    mark(run.lrGd, t, lr);
    mark(run.lossGd, t, loss);
    readout(run, t, lr, loss);
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
    var parts = ["step " + t + " / " + run.n];
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
    state.carry += Math.min(MAX_FRAME, Math.max(0, now - state.last) / 1000) * speed();
    state.last = now;
    var k = Math.floor(state.carry);
    if (k >= 1) {  // fast speeds skip steps; slow ones wait for a whole step
      state.carry -= k;
      draw(Math.min(run.end, (state.t || 0) + k));
    }
    if (state.t >= run.end) { setPlaying(false); return; }
    state.raf = window.requestAnimationFrame(frame);
  }

  function play() {
    var run = currentRun();
    if (!run) { return; }
    hook();
    if (state.t === null || state.t >= run.end) { draw(0); }
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

  /* Back to the plain figures: the path whole, the cursors empty (hover moves them again). */
  function reset() {
    setPlaying(false);
    state.t = null;
    state.shown = null;
    var d = state.dimmed;
    if (d) {
      var trace = d.gd.data && d.gd.data[PATH];
      if (trace === d.trace) {
        restyle(d.gd, {opacity: d.opacity === undefined ? 1 : d.opacity}, PATH);
      }
      state.dimmed = null;
    }
    var gd = plot("path-graph");  // never leave a dimmed path behind, whatever happened
    if (gd && gd.data && gd.data[PATH] && gd.data[PATH].opacity === DIM) {
      restyle(gd, {opacity: 1}, PATH);
    }
    GRAPH_IDS.forEach(function (id) {
      var g = plot(id);
      if (!g || !g.data || !g.data.length) { return; }
      var update = {x: [[]], y: [[]]};
      state.styled.forEach(function (s) {
        if (s.gd === g && g.data[cursorOf(g)] === s.trace) { Object.assign(update, s.restore); }
      });
      restyle(g, update, cursorOf(g));
    });
    state.styled = [];
    var el = document.getElementById("anim-readout");
    if (el) { el.textContent = ""; el.classList.remove("diverged"); }
  }

  // --- Figures replaced by the server, hover ---------------------------------------------

  /* Whether the server replaced a run's traces since the frame was drawn: a control
     change sends new trace objects (a Patch or a whole figure). Plotly.react alone says
     nothing: dcc.Graph also reacts to its own relayouts (a zoom, our lecture fonts) with
     the same data. */
  function replaced() {
    var shown = state.shown;
    if (!shown) { return state.dimmed !== null; }
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
      // hovering moves the cursors (assets/hover.js); leaving the plot shows our frame again
      gd.on("plotly_unhover", function () {
        if (state.t !== null && !state.playing) {
          window.setTimeout(function () { if (state.t !== null && !state.playing) { draw(state.t); } }, 50);
        }
      });
    });
  }

  // --- Lecture mode ----------------------------------------------------------------------

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
     A size already enlarged (a patched figure keeps our change) is left as it is. */
  function enlarge(gd, on) {
    if (!gd || !gd.layout) { return; }
    var update = {};
    if (on) {
      var before = gd._lectureFonts || {};
      var sizes = fontSizes(gd.layout);
      if (!("font.size" in sizes)) { sizes["font.size"] = 14; }
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
      var current = fontSizes(gd.layout);
      var rec = gd._lectureFonts || {};
      Object.keys(rec).forEach(function (path) {
        if (current[path] === rec[path].big) { update[path] = rec[path].orig; }
      });
      delete gd._lectureFonts;
    }
    if (Object.keys(update).length) {
      var p = window.Plotly.relayout(gd, update);
      if (p && p.catch) { p.catch(function () {}); }
    }
  }

  function setLecture(on) {
    document.body.classList.toggle("lecture", on);
    var button = document.getElementById("lecture-toggle");
    if (button) { button.textContent = on ? "Leave lecture mode" : "Lecture mode"; }
    hook();
    GRAPH_IDS.forEach(function (id) { enlarge(plot(id), on); });
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
