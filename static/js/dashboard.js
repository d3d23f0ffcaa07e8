/* Dashboard charts (ECharts, served from static/vendor/echarts). Every chart resizes with its box,
   and a click on a bar or slice opens the list behind it. No inline script: CSP allows 'self' only. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  var RED = "#b71c1c";
  var PALETTE = ["#b71c1c", "#e65100", "#f9a825", "#2e7d32", "#1565c0", "#6a1b9a", "#00838f", "#5d4037", "#546e7a"];

  // ECharts writes tooltips with innerHTML: every name that reaches one is escaped here (#21.15).
  // (Axis and series labels are drawn on the canvas as text and need no escaping.)
  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function axisTip(unit) {
    return function (params) {
      var p = Array.isArray(params) ? params[0] : params;
      return esc(p.name) + "：" + (p.value == null ? "—" : esc(p.value) + (unit || ""));
    };
  }

  function itemTip(percent) {
    return function (p) {
      return esc(p.name) + "：" + esc(p.value) + (percent ? "（" + esc(p.percent) + "%）" : "");
    };
  }

  function listUrl(base, metric, value) {
    return base + "&metric=" + encodeURIComponent(metric) + "&value=" + encodeURIComponent(value);
  }

  function barOption(rows) {
    return {
      color: [RED],
      grid: { left: 8, right: 12, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: axisTip("") },
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: { interval: 0, rotate: rows.length > 5 ? 35 : 0, fontSize: 11 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: rows.map(function (r) { return r.count; }), barMaxWidth: 36 }],
    };
  }

  function hbarOption(rows) {
    return {
      color: [RED],
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: axisTip("") },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.label; }), axisLabel: { fontSize: 11 } },
      series: [{ type: "bar", barMaxWidth: 18, data: rows.map(function (r) { return r.count; }), label: { show: true, position: "right", fontSize: 11 } }],
    };
  }

  function hasData(kind, rows) {
    if (kind === "heatmap") return rows.cells.some(function (c) { return c[2] != null; });
    if (kind === "share") return rows.some(function (r) { return r.share_on_time != null; });
    return rows.some(function (r) { return r.count > 0; });
  }

  function pieOption(rows) {
    return {
      color: PALETTE,
      tooltip: { trigger: "item", formatter: itemTip(true) },
      legend: { bottom: 0, type: "scroll", textStyle: { fontSize: 11 } },
      series: [{
        type: "pie", radius: ["35%", "62%"], center: ["50%", "44%"],
        label: { formatter: "{b}\n{c}", fontSize: 11 },
        data: rows.filter(function (r) { return r.count > 0; }).map(function (r) { return { name: r.label, value: r.count, code: r.code }; }),
      }],
    };
  }

  function funnelOption(rows) {
    return {
      color: PALETTE,
      tooltip: { trigger: "item", formatter: itemTip(false) },
      series: [{
        type: "funnel", sort: "none", left: "8%", width: "84%", top: 8, bottom: 8, minSize: "20%",
        label: { position: "inside", formatter: "{b} {c}", color: "#fff", fontSize: 12 },
        data: rows.map(function (r) { return { name: r.label, value: r.count, code: r.code }; }),
      }],
    };
  }

  function shareOption(rows) {
    return {
      color: [RED],
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: axisTip("%") },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.label; }), axisLabel: { fontSize: 11 } },
      series: [{ type: "bar", barMaxWidth: 20, data: rows.map(function (r) { return r.share_on_time; }), label: { show: true, position: "right", formatter: function (p) { return p.value == null ? "—" : p.value + "%"; } } }],
    };
  }

  function heatOption(heat) {
    var months = [];
    for (var m = 1; m <= 12; m++) months.push(m + "月");
    return {
      tooltip: { formatter: function (p) { var v = p.value[2]; return esc(heat.orgs[p.value[1]]) + " · " + months[p.value[0]] + "：" + (v == null ? "无到期事项" : esc(v) + "%"); } },
      grid: { left: 8, right: 8, top: 8, bottom: 48, containLabel: true },
      xAxis: { type: "category", data: months, splitArea: { show: true }, axisLabel: { fontSize: 11 } },
      yAxis: { type: "category", data: heat.orgs, inverse: true, axisLabel: { interval: 0, fontSize: 11, width: 110, overflow: "truncate" } },
      visualMap: { min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120,
        inRange: { color: ["#c62828", "#ef6c00", "#fdd835", "#7cb342", "#2e7d32"] }, text: ["100%", "0%"], textStyle: { fontSize: 11 } },
      series: [{ type: "heatmap", data: heat.cells.filter(function (c) { return c[2] != null; }), label: { show: true, fontSize: 10, formatter: function (p) { return p.value[2]; } } }],
    };
  }

  ready(function () {
    var dataEl = document.getElementById("dashboard-data");
    if (!dataEl || typeof echarts === "undefined") return;
    var data = JSON.parse(dataEl.textContent);
    var links = document.getElementById("dashboard-links").dataset;
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var key = el.dataset.chart, kind = el.dataset.kind, rows = data[key];
      if (!rows) return;
      if (!hasData(kind, rows)) {
        el.classList.add("chart-empty");
        el.style.height = "";
        el.textContent = "暂无数据";
        return;
      }
      if (kind === "heatmap") el.style.height = (rows.orgs.length * 26 + 90) + "px";  // a readable row (and label) per organization
      var option = kind === "hbar" ? hbarOption(rows) : kind === "pie" ? pieOption(rows) : kind === "funnel" ? funnelOption(rows) : kind === "share" ? shareOption(rows) : kind === "heatmap" ? heatOption(rows) : barOption(rows);
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      chart.on("click", function (p) {
        if (kind === "heatmap") {
          var id = data.heat.ids[p.value[1]];
          if (id) window.location.href = "/organizations/" + id + "/dashboard/" + data.dashboard_url;
          return;
        }
        if (kind === "share") return;
        var row = kind === "pie" || kind === "funnel" ? rows.find(function (r) { return r.label === p.name; }) : rows[p.dataIndex];
        if (!row || !row.count) return;
        var base = el.dataset.list === "orgs" ? links.orgs : links.members;
        window.location.href = listUrl(base, el.dataset.metric, row.code);
      });
      charts.push(chart);
      if (window.ResizeObserver) new ResizeObserver(function () { chart.resize(); }).observe(el);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();
