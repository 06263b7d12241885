"""The JavaScript bench/page.py runs in the browser: the page-load probe (every new
document: when the three graphs are drawn) and its result, the change harness (when a
change starts, when each graph holds the new data, where the time goes) and the wait for
its result.
"""
from __future__ import annotations

import json


GRAPHS = ("lr-graph", "loss-graph", "path-graph")

# Runs in every new document: polls (every 4 ms) until the three graphs hold data and an
# SVG, recording performance.now() (ms since navigation start) for each.
LOAD_PROBE = """
(function () {
  var IDS = %s;
  var L = window.__load = {drawn: {}, all: null};
  function gd(id) {
    var el = document.getElementById(id);
    return el && (el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot'));
  }
  function drawn(id) {
    var g = gd(id);
    if (!g || !g._fullData || !g._fullLayout || !g.querySelector('.main-svg')) { return false; }
    var t = g._fullData.find(function (d) { return d.index === 0; });
    var a = t && (t.y || t.z);
    return !!(a && a.length);
  }
  var iv = setInterval(function () {
    var now = performance.now();
    IDS.forEach(function (id) { if (L.drawn[id] === undefined && drawn(id)) { L.drawn[id] = now; } });
    if (IDS.every(function (id) { return L.drawn[id] !== undefined; })) {
      L.all = Math.max.apply(null, IDS.map(function (id) { return L.drawn[id]; }));
      clearInterval(iv);
    }
    if (now > 120000) { clearInterval(iv); }
  }, 4);
})();
""" % json.dumps(list(GRAPHS))

LOAD_RESULT = """
var L = window.__load;
if (!L || L.all === null) { return null; }
var nav = performance.getEntriesByType('navigation')[0] || {};
var res = performance.getEntriesByType('resource');
function sum(list, key) { return list.reduce(function (a, e) { return a + (e[key] || 0); }, 0); }
var upd = res.filter(function (e) { return e.name.indexOf('_dash-update-component') >= 0; });
var lay = res.filter(function (e) { return e.name.indexOf('_dash-layout') >= 0; });
return {all: L.all, drawn: L.drawn, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
        resources: res.length, transfer: sum(res, 'transferSize') + (nav.transferSize || 0),
        decoded: sum(res, 'decodedBodySize') + (nav.decodedBodySize || 0),
        layout_bytes: sum(lay, 'encodedBodySize'), update_bytes: sum(upd, 'encodedBodySize'),
        updates: upd.length,
        layout_end: lay.length ? lay[lay.length - 1].responseEnd : null,
        update_end: upd.length ? Math.max.apply(null, upd.map(function (e) { return e.responseEnd; })) : null};
"""

# The change harness: installed once the page is drawn.
HARNESS = """
(function (spec) {
  var IDS = Object.keys(spec);
  var B = window.__bench;
  if (!B) {
    B = window.__bench = {armed: false, t0: null, spec: spec, plots: [], reacts: []};
    // the events the controls act on: dcc.Input (debounce) commits on keypress Enter, a
    // dcc.Dropdown option on click (its radio input's change)
    ['keypress', 'click'].forEach(function (type) {
      window.addEventListener(type, function (ev) {
        if (!B.armed || B.t0 !== null) { return; }
        if (B.startOn === 'enter' && ev.type === 'keypress' && ev.key === 'Enter') { B.t0 = ev.timeStamp; }
        if (B.startOn === 'option' && ev.type === 'click' && ev.target && ev.target.closest &&
            ev.target.closest('[role="option"]')) { B.t0 = ev.timeStamp; }
      }, true);
    });
    // Plotly time: the synchronous part of each Plotly.react call (where it draws)
    var P = window.Plotly, react = P.react;
    P.react = function (gd) {
      var s = performance.now();
      var out = react.apply(this, arguments);
      var id = IDS.find(function (i) { var el = document.getElementById(i); return el && el.contains(gd); });
      B.reacts.push([id || '?', s, performance.now()]);
      return out;
    };
  }
  B.spec = spec;
  B.gd = function (id) {
    var el = document.getElementById(id);
    return el && (el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot'));
  };
  function digest(a) {  // a cheap fingerprint of a (possibly 2-D) array
    if (!a || a.length === undefined) { return 'none'; }
    var t = 0, n = a.length;
    for (var k = 0; k < n; k++) {
      var v = a[k];
      if (v && v.length !== undefined) { for (var j = 0; j < v.length; j++) { t += (+v[j] || 0) * (j % 7 + 1); } }
      else { t += (+v || 0) * (k % 7 + 1); }
    }
    return n + ':' + t;
  }
  B.sig = function (id) {
    var gd = B.gd(id), fd = gd && gd._fullData;
    if (!fd) { return null; }
    return B.spec[id].map(function (p) {
      var tr = fd.find(function (d) { return d.index === p[0]; });
      return digest(tr && tr[p[1]]);
    }).join('|');
  };
  B.len = function (id, index, key) {
    var gd = B.gd(id), fd = gd && gd._fullData;
    var tr = fd && fd.find(function (d) { return d.index === index; });
    var a = tr && tr[key];
    return a && a.length !== undefined ? a.length : -1;
  };
  function check() {
    if (!IDS.every(function (id) { return B.done[id] !== undefined; })) { return; }
    B.armed = false;
    B.tEnd = Math.max.apply(null, IDS.map(function (id) { return B.done[id]; }));
    requestAnimationFrame(function () { setTimeout(function () {
      B.tPaint = performance.now();
      if (B.resolve) { var r = B.resolve; B.resolve = null; r(B.result()); }
    }, 0); });
  }
  function hook() {
    IDS.forEach(function (id) {
      var gd = B.gd(id);
      if (!gd || !gd.on || gd.__benchHooked) { return; }
      gd.__benchHooked = true;
      gd.on('plotly_afterplot', function () {
        var now = performance.now();
        B.plots.push([id, now]);
        if (!B.armed || B.t0 === null || B.done[id] !== undefined) { return; }
        if (B.sig(id) !== B.before[id]) { B.done[id] = now; check(); }
      });
    });
  }
  B.arm = function (startOn) {
    hook();
    B.t0 = null; B.tEnd = null; B.tPaint = null; B.done = {}; B.before = {};
    B.plots = []; B.reacts = []; B.resolve = null;
    IDS.forEach(function (id) { B.before[id] = B.sig(id); });
    performance.clearResourceTimings();
    B.startOn = startOn;
    B.armed = true;
  };
  B.result = function () {
    var t0 = B.t0;
    var req = performance.getEntriesByType('resource').filter(function (e) {
      return e.name.indexOf('_dash-update-component') >= 0 && e.startTime >= t0;
    }).map(function (e) {
      return {start: e.startTime, reqStart: e.requestStart, respStart: e.responseStart,
              respEnd: e.responseEnd, body: e.encodedBodySize, decoded: e.decodedBodySize,
              connect: e.connectEnd - e.connectStart};
    });
    return {t0: t0, tEnd: B.tEnd, tPaint: B.tPaint, done: B.done, req: req,
            reacts: B.reacts.filter(function (r) { return r[1] >= t0; }),
            plots: B.plots.length};
  };
})(arguments[0]);
"""

WAIT_JS = """
var cb = arguments[arguments.length - 1], B = window.__bench;
if (B.tPaint !== null) { cb(B.result()); } else { B.resolve = cb; }
"""
