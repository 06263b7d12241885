/* The browser's own trim and parseFloat/parseInt, not core-js's.

   Dash loads @babel/polyfill (core-js 2) before everything else. Its feature tests still
   count U+180E as white space (it stopped being white space in Unicode 6.3, ES2016), so in
   every current browser it takes the native String.prototype.trim (and trimStart, trimEnd),
   parseFloat and parseInt for broken and puts slower JavaScript in their place. Plotly
   calls them all through every redraw (styles, colours, attributes): 2-4 ms of each of the
   three plots' redraws went to the polyfill's trim alone.

   So this file runs twice (playground/web/server.py): first before the polyfill, where it
   keeps the browser's functions, then as an asset (after the polyfill, before Plotly and
   Dash's renderer), where it puts them back. Loaded only once (after the polyfill), it
   changes nothing. */
(function () {
  var kept = window.playgroundNatives;
  var now = {
    trim: String.prototype.trim, trimStart: String.prototype.trimStart,
    trimEnd: String.prototype.trimEnd, trimLeft: String.prototype.trimLeft,
    trimRight: String.prototype.trimRight, parseFloat: window.parseFloat,
    parseInt: window.parseInt
  };
  if (!kept) {
    window.playgroundNatives = now;
    return;
  }
  ["trim", "trimStart", "trimEnd", "trimLeft", "trimRight"].forEach(function (name) {
    if (kept[name] && now[name] !== kept[name]) { String.prototype[name] = kept[name]; }
  });
  ["parseFloat", "parseInt"].forEach(function (name) {
    if (kept[name] && now[name] !== kept[name]) { window[name] = Number[name] = kept[name]; }
  });
})();
