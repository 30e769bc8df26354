// The pages' charts (Chart.js, loaded just before this file), drawn from the JSON data blocks
// the templates render: #sim-data (fee simulation), #rate-data (collection rates), #trend-data
// (a firm's results), #board-data (the dashboard, redrawn after an HTMX drill-down).
(function () {
  'use strict';
  const data = (id) => {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  };

  function simulation() {
    const d = data('sim-data');
    if (!d) return;
    const money = (v) => '¥' + v.toLocaleString('zh-CN', {minimumFractionDigits: 2, maximumFractionDigits: 2});
    const opts = {responsive: true, scales: {x: {stacked: true}, y: {stacked: true, ticks: {callback: money}}},
                  plugins: {tooltip: {callbacks: {label: (c) => c.dataset.label + '：' + money(c.parsed.y)}}}};
    const sets = (g, f, r) => [
      {label: '政府承担', data: g, backgroundColor: '#c0392b'},
      {label: '企业让利', data: f, backgroundColor: '#e67e22'},
      {label: '居民缴纳', data: r, backgroundColor: '#2e86c1'}];
    new Chart(document.getElementById('sim-by-class'), {type: 'bar', data: {labels: d.labels, datasets: sets(d.gov, d.firm, d.resident)}, options: opts});
    new Chart(document.getElementById('sim-by-month'), {type: 'bar', data: {labels: d.months, datasets: sets(d.month_gov, d.month_firm, d.month_resident)}, options: opts});
  }

  function collection() {
    // Rates in percent; null months (nothing billed) are gaps in the line, not zeros.
    const d = data('rate-data');
    if (!d) return;
    new Chart(document.getElementById('rate-chart'), {
      type: 'line',
      // The first series is the total: drawn thick; the others thin.
      data: {labels: d.labels, datasets: d.series.map((s, i) => ({label: s.label, data: s.data, spanGaps: false, tension: 0.2,
                                                                 borderWidth: i === 0 ? 4 : 1.5}))},
      options: {maintainAspectRatio: false, scales: {y: {min: 0, max: 100, ticks: {callback: v => v + '%'}}},
                plugins: {tooltip: {callbacks: {label: c => c.dataset.label + '：' + (c.raw === null ? '—' : c.raw + '%')}}}}
    });
  }

  function trend() {
    const d = data('trend-data');
    if (!d) return;
    new Chart(document.getElementById('trend'), {type: 'line',
      data: {labels: d.map(r => r[0]), datasets: [{label: '总分', data: d.map(r => r[1]), borderColor: '#b71c1c', backgroundColor: '#b71c1c', tension: 0.2}]},
      options: {maintainAspectRatio: false, plugins: {legend: {display: false}}, scales: {y: {suggestedMin: 0, suggestedMax: 100}}}});
  }

  function board() {
    const d = data('board-data');
    if (!d) return;
    const pct = {min: 0, max: 100, ticks: {callback: v => v + '%'}};
    // Every series has an explicit colour from the page's palette (link blue, the gold darkened to
    // amber, the brand red: each at least 4.5:1 on white) and its own dash and point shape, so the
    // lines stay apart without colour too; the legend boxes carry the same border and dash.
    const STYLE = {
      blue: {color: '#1d4ed8', tint: 'rgba(29,78,216,.25)', dash: [], point: 'circle'},
      amber: {color: '#b45309', tint: 'rgba(180,83,9,.25)', dash: [6, 4], point: 'triangle'},
      red: {color: '#b71c1c', tint: 'rgba(183,28,28,.25)', dash: [2, 3], point: 'rect'},
    };
    const line = (label, values, style) => {
      const s = STYLE[style];
      return {type: 'line', label, data: values, spanGaps: false, tension: 0.2, yAxisID: 'y', order: 0,
              borderColor: s.color, backgroundColor: s.tint, borderDash: s.dash, borderWidth: 2,
              pointStyle: s.point, pointRadius: 3, pointHoverRadius: 5,
              pointBorderColor: s.color, pointBackgroundColor: s.color};
    };
    const bar = (label, values, color, extra) => Object.assign({type: 'bar', label, data: values, order: 1,
                                                                backgroundColor: color, borderColor: color}, extra);
    const mk = (id, cfg) => {
      const el = document.getElementById('chart-' + id);
      if (!el) return;
      const old = Chart.getChart(el); if (old) old.destroy();
      new Chart(el, Object.assign({options: {maintainAspectRatio: false, animation: false}}, cfg));
    };
    mk('rates', {type: 'line', data: {labels: d.labels, datasets: [line('组建率', d.rates.committee_rate, 'blue'), line('服务覆盖率', d.rates.service_rate, 'amber'), line('组织覆盖率', d.rates.party_rate, 'red')]},
                 options: {maintainAspectRatio: false, animation: false, scales: {y: pct}}});
    mk('clearing', {type: 'bar', data: {labels: d.labels, datasets: [bar('无物业小区', d.counts.no_service, '#b71c1c')]},
                    options: {maintainAspectRatio: false, animation: false, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}});
    mk('demands', {data: {labels: d.labels, datasets: [
        bar('受理', d.counts.received, '#9ca3af', {yAxisID: 'n'}),
        bar('逾期', d.counts.overdue, '#b71c1c', {yAxisID: 'n'}),
        line('按时办结率', d.rates.on_time_rate, 'blue'), line('满意率', d.rates.satisfaction_rate, 'amber')]},
      options: {maintainAspectRatio: false, animation: false, scales: {y: Object.assign({position: 'right'}, pct), n: {position: 'left', beginAtZero: true, ticks: {precision: 0}}}}});
    mk('money', {type: 'line', data: {labels: d.labels, datasets: [line('缴费率', d.rates.collection_rate, 'blue'), line('公示按时率', d.rates.publicity_rate, 'amber')]},
                 options: {maintainAspectRatio: false, animation: false, scales: {y: pct}}});
  }

  // Draw once the page (or the swapped-in board) has been laid out, or Chart.js sizes every
  // canvas at 300×150.
  const later = (draw) => requestAnimationFrame(() => requestAnimationFrame(draw));
  document.addEventListener('DOMContentLoaded', function () {
    simulation(); collection(); trend(); later(board);
  });
  document.addEventListener('htmx:afterSettle', function (ev) {
    const el = document.getElementById('board-data');
    if (el && ev.target.contains(el)) later(board);
  });
})();
