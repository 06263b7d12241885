/* The page's address: the path of its runs (the page-query store, which the server
   writes) and, while the page shows a lesson, the lesson's name (lesson=<name>), which
   only the address carries: a reload, a copied address or the Share dialog's link then
   open the same page, lesson and all. (The page shows a lesson from its load on, through
   every change of the runs.) */
window.playgroundAddress = function (path) {
  var lesson = new URLSearchParams(window.location.search).get("lesson");
  var shown = document.getElementById("lesson-panel");  // (no panel: no such lesson)
  if (!path || !lesson || !shown || /[?&]lesson=/.test(path)) { return path; }
  var sep = /\?./.test(path) ? "&" : path.indexOf("?") >= 0 ? "" : "?";
  return path + sep + "lesson=" + encodeURIComponent(lesson);
};
