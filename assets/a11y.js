/* Names for the controls that Dash and MathJax draw without one: the sliders' thumbs
   (Dash 4's dcc.Slider takes no aria-label for them) and the typeset formula, which
   MathJax makes focusable. Labelled as they appear (the page redraws parts of itself). */
(function () {
  'use strict';
  var SLIDERS = {'lr-slider': 'Learning rate (log10 scale)',
                 'inspect-step': 'Step to inspect'};
  var pending = false;

  function label() {
    pending = false;
    Object.keys(SLIDERS).forEach(function (id) {
      var root = document.getElementById(id);
      var box = root && (root.closest('.dash-slider-container') || root.parentElement);
      (box ? box.querySelectorAll('[role=slider]') : []).forEach(function (thumb) {
        if (!thumb.getAttribute('aria-label')) {
          thumb.setAttribute('aria-label', SLIDERS[id]);
        }
      });
    });
    // a parameter's slider (playground/web/sliders.py) is named after its box's label
    // (a pair box's slider moves the pair's first number: Adam's beta1 of its betas)
    document.querySelectorAll('.param-slider').forEach(function (root) {
      var field = root.closest('.field'), lab = field && field.querySelector('label');
      var box = root.closest('.dash-slider-container') || root.parentElement;
      var what = root.classList.contains('pair-slider') ? ': first number (slider)' : ' (slider)';
      (box ? box.querySelectorAll('[role=slider]') : []).forEach(function (thumb) {
        if (lab && !thumb.getAttribute('aria-label')) {
          thumb.setAttribute('aria-label', lab.textContent + what);
        }
      });
    });
    document.querySelectorAll('mjx-container[tabindex]').forEach(function (m) {
      if (!m.getAttribute('aria-label')) {
        m.setAttribute('aria-label', 'The schedule\'s formula with the run\'s numbers');
      }
    });
  }

  function schedule() {
    if (!pending) { pending = true; window.requestAnimationFrame(label); }
  }

  function start() {
    new MutationObserver(schedule).observe(document.body, {childList: true, subtree: true});
    schedule();
  }
  if (document.body) { start(); } else { document.addEventListener('DOMContentLoaded', start); }
})();
