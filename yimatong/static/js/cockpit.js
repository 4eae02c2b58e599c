// The cockpit's charts: each .chart-canvas draws the ECharts option in its json_script (served
// with the app, no CDN); hover shows values; 数据表 toggles the figures as a table; 导出图片
// saves the chart as PNG. Excel comes from the server (the same rows as the table).
(function () {
  "use strict";
  const locale = (document.currentScript && document.currentScript.dataset.locale) || "ZH";
  const charts = [];
  document.querySelectorAll(".chart-canvas[data-option]").forEach(function (el) {
    const source = document.getElementById(el.dataset.option);
    if (!source || !window.echarts) return;
    const chart = window.echarts.init(el, null, { locale: locale, renderer: "canvas" });
    const option = JSON.parse(source.textContent);
    option.animation = false;
    // Tooltips drawn on the canvas: ECharts' HTML tooltips carry style attributes, which the
    // Content-Security-Policy refuses.
    if (option.tooltip) option.tooltip.renderMode = "richText";
    chart.setOption(option);
    charts.push(chart);
    el.dataset.ready = "1";
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-toggle-table]");
    if (toggle) {
      const table = document.getElementById(toggle.dataset.toggleTable);
      table.hidden = !table.hidden;
      toggle.setAttribute("aria-expanded", String(!table.hidden));
      return;
    }
    const save = event.target.closest("[data-save-png]");
    if (save) {
      const el = document.getElementById(save.dataset.savePng);
      const chart = el && window.echarts.getInstanceByDom(el);
      if (!chart) return;
      const link = document.createElement("a");
      link.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
      link.download = (save.dataset.name || "chart") + ".png";
      document.body.appendChild(link);
      link.click();
      link.remove();
    }
  });
})();
