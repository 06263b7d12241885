/* Linked hover: a step hovered in any plot is marked in all three, without a server
   round trip. Each figure keeps its last trace as the cursor (see playground/web/figure_base.py). */
(function () {
  var GRAPHS = {
    "lr-graph": {first: function (slot) { return 3 * slot; }, slot: function (c) { return Math.floor(c / 3); }},
    "loss-graph": {first: function (slot) { return 2 * slot; }, slot: function (c) { return Math.floor(c / 2); }},
    "path-graph": {first: function (slot) { return 2 + 2 * slot; }, slot: function (c) { return Math.max(0, Math.floor((c - 2) / 2)); }}
  };

  function plot(id) {
    var el = document.getElementById(id);
    return el && (el.classList.contains("js-plotly-plot") ? el : el.querySelector(".js-plotly-plot"));
  }

  function stepOf(point) {
    var c = point.customdata;
    if (Array.isArray(c)) { c = c[0]; }
    if (typeof c === "number") { return c; }
    return typeof point.x === "number" ? Math.round(point.x) : null;
  }

  function valueAt(trace, key, t) {
    var arr = trace[key];
    if (arr && arr.length !== undefined) { return arr[t]; }
    if (key === "x" && trace.x0 !== undefined) { return trace.x0 + t * (trace.dx || 1); }
    return undefined;
  }

  window.playgroundHover = function (cbctx) {
    var trig = cbctx.triggered && cbctx.triggered[0];
    if (!trig || !trig.value || !trig.value.points || !trig.value.points.length) {
      return window.dash_clientside.no_update;
    }
    var source = trig.prop_id.split(".")[0];
    var point = trig.value.points[0];
    var t = stepOf(point);
    if (t === null || !(source in GRAPHS)) { return window.dash_clientside.no_update; }
    moveCursors(GRAPHS[source].slot(point.curveNumber), t);
    return window.dash_clientside.no_update;
  };

  /* The step inspector's slider moves the cursors to its step on the current run. */
  window.playgroundCursorAt = function (t) {
    if (typeof t === "number") { moveCursors(0, t); }
    return window.dash_clientside.no_update;
  };

  function moveCursors(slot, t) {
    // a frame of the animation on show (assets/animate.js) owns the cursors
    if (window.playgroundFrameShown && window.playgroundFrameShown()) { return; }
    Object.keys(GRAPHS).forEach(function (id) {
      var gd = plot(id);
      if (!gd || !gd.data || !gd.data.length) { return; }
      var index = GRAPHS[id].first(slot);
      var trace = (gd._fullData || []).find(function (d) { return d.index === index; });
      if (!trace) { return; }
      var x = valueAt(trace, "x", t), y = valueAt(trace, "y", t);
      var cursor = gd.data.length - 1;
      var ok = x !== undefined && y !== undefined && isFinite(x) && isFinite(y);
      window.Plotly.restyle(gd, {x: [ok ? [x] : []], y: [ok ? [y] : []],
                                 text: [ok ? ["step " + t] : []]}, [cursor]);
    });
  }
})();
