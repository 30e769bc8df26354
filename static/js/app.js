// Behaviour every page may use, declared in the markup (no inline script or handler: the
// Content-Security-Policy allows scripts from static/ only, see wuye_saas/web.py CSP).
//   data-print           a button that prints the page
//   data-confirm="…"     a form (on submit) or a button (on click) that asks first
//   data-autosubmit      a select that submits its form when changed
//   data-close-editor    a link that, inside the standards builder, closes the editor panel
//                        instead of leaving the page
//   #standard-units      (new evaluation) the chosen standard's unit preselected
//   #firms-all           (new evaluation) ticks every firm
(function () {
  'use strict';

  document.addEventListener('click', function (ev) {
    const el = ev.target.closest('[data-print], button[data-confirm], a[data-close-editor]');
    if (!el) return;
    if (el.hasAttribute('data-print')) {
      window.print();
    } else if (el.hasAttribute('data-confirm')) {
      if (!window.confirm(el.getAttribute('data-confirm'))) ev.preventDefault();
    } else {
      const editor = document.getElementById('editor');
      if (editor && document.getElementById('builder')) {
        editor.replaceChildren();
        ev.preventDefault();
      }
    }
  });

  document.addEventListener('submit', function (ev) {
    const form = ev.target;
    if (form.hasAttribute('data-confirm') && !window.confirm(form.getAttribute('data-confirm'))) {
      ev.preventDefault();
    }
  });

  document.addEventListener('change', function (ev) {
    const el = ev.target;
    if (el.matches('select[data-autosubmit]') && el.form) {
      el.form.submit();
    } else if (el.id === 'firms-all') {
      document.querySelectorAll('input[name=firm_ids]').forEach(function (c) { c.checked = el.checked; });
    } else if (el.id === 'standard_id') {
      const data = document.getElementById('standard-units');
      const unit = data && JSON.parse(data.textContent)[el.value];
      const radio = unit && document.getElementById('unit-' + unit);
      if (radio) radio.checked = true;
    }
  });
})();
