/* vicx dashboard behaviour: ECharts from the server's JSON view model, the upload preview, PNG
   export. No build step: plain ES2020, loaded with defer after htmx. */
(function () {
  "use strict";

  var PREVIEW_BYTES = 256 * 1024;
  var registry = {};

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function palette() {
    return {
      positive: cssVar("--positive"),
      neutral: cssVar("--neutral"),
      negative: cssVar("--negative"),
      primary: cssVar("--primary"),
      text: cssVar("--text"),
      muted: cssVar("--muted"),
      border: cssVar("--border"),
      font: cssVar("--chart-font"),
    };
  }

  function drill(data, params) {
    var query = new URLSearchParams(data.filters_query || "");
    Object.keys(params).forEach(function (key) {
      if (params[key] !== null && params[key] !== undefined && params[key] !== "") {
        query.set(key, params[key]);
      }
    });
    window.location.href = data.comments_url + "?" + query.toString();
  }

  // ECharts' containLabel measures with its default font, so long Vietnamese topic labels in
  // our font were clipped; measuring them ourselves sizes the grid exactly.
  function labelWidth(labels, colors, size) {
    var ctx = labelWidth.ctx || (labelWidth.ctx = document.createElement("canvas").getContext("2d"));
    ctx.font = size + "px " + colors.font;
    return labels.reduce(function (widest, label) {
      return Math.max(widest, ctx.measureText(label).width);
    }, 0);
  }

  function categoryGrid(labels, colors, extra) {
    return Object.assign(
      { left: Math.ceil(labelWidth(labels, colors, 12)) + 20, right: 24, top: 36, bottom: 24 },
      extra || {}
    );
  }

  function baseOption(colors) {
    return {
      animationDuration: 400,
      textStyle: { fontFamily: colors.font, color: colors.text },
      tooltip: { confine: true },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
    };
  }

  function sentimentOption(data, colors) {
    var total = data.sentiment.reduce(function (sum, s) { return sum + s.count; }, 0);
    return Object.assign(baseOption(colors), {
      tooltip: {
        trigger: "item",
        formatter: function (p) { return p.name + ": " + p.value + " (" + Math.round(p.percent) + "%)"; },
      },
      legend: { bottom: 0, icon: "circle", textStyle: { color: colors.muted } },
      title: {
        text: String(total),
        subtext: data.labels.comments,
        left: "center",
        top: "38%",
        textStyle: { fontSize: 26, fontWeight: 700, color: colors.text },
        subtextStyle: { color: colors.muted, fontSize: 12 },
      },
      series: [{
        id: "sentiment",
        type: "pie",
        radius: ["52%", "76%"],
        center: ["50%", "46%"],
        avoidLabelOverlap: true,
        itemStyle: { borderColor: "#fff", borderWidth: 2 },
        label: {
          position: "inside",
          color: "#fff",
          fontWeight: 600,
          formatter: function (p) { return p.percent >= 5 ? Math.round(p.percent) + "%" : ""; },
        },
        labelLine: { show: false },
        data: data.sentiment.slice().reverse().map(function (s) {
          return { name: s.label, value: s.count, key: s.key, itemStyle: { color: colors[s.key] } };
        }),
      }],
    });
  }

  function topicsOption(data, colors) {
    var keys = ["negative", "neutral", "positive"];
    var labels = data.topics.map(function (t) { return t.label; });
    return Object.assign(baseOption(colors), {
      grid: categoryGrid(labels, colors),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, icon: "roundRect", textStyle: { color: colors.muted } },
      xAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: colors.border } } },
      yAxis: {
        type: "category",
        inverse: true,
        data: labels,
        axisTick: { show: false },
        axisLine: { lineStyle: { color: colors.border } },
        axisLabel: { color: colors.text, fontSize: 12 },
      },
      series: keys.map(function (key) {
        return {
          id: key,
          name: data.labels[key],
          type: "bar",
          stack: "mentions",
          barMaxWidth: 26,
          itemStyle: { color: colors[key] },
          emphasis: { focus: "series" },
          label: {
            show: true,
            color: "#fff",
            fontSize: 11,
            formatter: function (p) { return p.value > 0 ? p.value : ""; },
          },
          data: data.topics.map(function (t) { return t[key]; }),
        };
      }),
    });
  }

  function driversOption(data, colors) {
    var rows = data.drivers.rows;
    return Object.assign(baseOption(colors), {
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (items) {
          var row = rows[items[0].dataIndex];
          var lines = [row.label, data.drivers.impact_label + ": " + row.impact_text,
            data.labels.mentions + ": " + row.mentions];
          if (row.topic_score_text) { lines.push(data.drivers.score_label + ": " + row.topic_score_text); }
          return lines.join("<br>");
        },
      },
      grid: categoryGrid(rows.map(function (r) { return r.label; }), colors, { right: 48, top: 8 }),
      xAxis: { type: "value", splitLine: { lineStyle: { color: colors.border } } },
      yAxis: {
        type: "category",
        inverse: true,
        data: rows.map(function (r) { return r.label; }),
        axisTick: { show: false },
        axisLabel: { color: colors.text, fontSize: 12 },
        axisLine: { lineStyle: { color: colors.border } },
      },
      series: [{
        id: "impact",
        name: data.drivers.impact_label,
        type: "bar",
        barMaxWidth: 22,
        label: {
          show: true,
          position: "right",
          color: colors.muted,
          fontSize: 11,
          formatter: function (p) { return rows[p.dataIndex].impact_text; },
        },
        data: rows.map(function (r) {
          return { value: r.impact, itemStyle: { color: r.hurts ? colors.negative : colors.positive } };
        }),
      }],
    });
  }

  function trendOption(data, colors) {
    var trend = data.trend;
    var keys = ["negative", "neutral", "positive"];
    var series = keys.map(function (key) {
      return {
        id: key,
        name: data.labels[key],
        type: "bar",
        stack: "comments",
        barMaxWidth: 36,
        itemStyle: { color: colors[key] },
        data: trend.series[key],
      };
    });
    series.push({
      id: "metric",
      name: trend.metric_label,
      type: "line",
      yAxisIndex: 1,
      symbolSize: 7,
      connectNulls: true,
      itemStyle: { color: colors.primary },
      lineStyle: { width: 2.5 },
      data: trend.metric,
    });
    return Object.assign(baseOption(colors), {
      tooltip: { trigger: "axis" },
      legend: { top: 0, icon: "roundRect", textStyle: { color: colors.muted } },
      grid: { left: 8, right: 8, top: 44, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: trend.periods.map(function (p) { return p.label; }),
        axisLine: { lineStyle: { color: colors.border } },
        axisLabel: { color: colors.text },
      },
      yAxis: [
        { type: "value", minInterval: 1, splitLine: { lineStyle: { color: colors.border } } },
        { type: "value", name: trend.metric_unit, splitLine: { show: false },
          nameTextStyle: { color: colors.muted } },
      ],
      series: series,
    });
  }

  var BUILDERS = {
    sentiment: {
      option: sentimentOption,
      click: function (data, p) { drill(data, { sentiment: p.data.key }); },
    },
    topics: {
      option: topicsOption,
      click: function (data, p) {
        drill(data, { topic: data.topics[p.dataIndex].name, polarity: p.seriesId });
      },
    },
    drivers: {
      option: driversOption,
      click: function (data, p) {
        drill(data, { topic: data.drivers.rows[p.dataIndex].name, sort: "detractor" });
      },
    },
    trend: {
      option: trendOption,
      click: function (data, p) {
        var period = data.trend.periods[p.dataIndex];
        var params = { date_from: period.from, date_to: period.to };
        if (p.seriesType === "bar") { params.sentiment = p.seriesId; }
        drill(data, params);
      },
    },
  };

  function renderCharts(root) {
    var source = root.querySelector("#overview-data");
    // Each swap brings a fresh data element; one already drawn is left alone (e.g. on polling).
    if (!source || source.hasAttribute("data-drawn") || typeof echarts === "undefined") { return; }
    source.setAttribute("data-drawn", "true");
    var data = JSON.parse(source.textContent);
    var colors = palette();
    Object.keys(registry).forEach(function (id) {
      if (!registry[id].getDom().isConnected) { registry[id].dispose(); delete registry[id]; }
    });
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-chart");
      var builder = BUILDERS[kind];
      if (!builder) { return; }
      var existing = echarts.getInstanceByDom(el);
      if (existing) { existing.dispose(); }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(builder.option(data, colors));
      chart.on("click", function (params) { builder.click(data, params); });
      el.setAttribute("data-rendered", "true");
      registry[el.id] = chart;
    });
  }

  function downloadPng(button) {
    var el = document.getElementById(button.getAttribute("data-png"));
    var chart = el && echarts.getInstanceByDom(el);
    if (!chart) { return; }
    var link = document.createElement("a");
    link.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#ffffff" });
    link.download = button.getAttribute("data-filename") || "chart.png";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function toast(message) {
    var box = document.getElementById("toast");
    if (!box) { return; }
    box.textContent = message;
    box.className = "toast";
    window.clearTimeout(toast.timer);
    toast.timer = window.setTimeout(function () { box.className = "visually-hidden"; }, 6000);
  }

  async function previewUpload(input) {
    var target = document.getElementById("upload-columns");
    var file = input.files && input.files[0];
    if (!target) { return; }
    if (!file) { target.innerHTML = ""; return; }
    var partial = !/\.xlsx$/i.test(file.name) && file.size > PREVIEW_BYTES;
    var body = new FormData();
    body.append("file", partial ? file.slice(0, PREVIEW_BYTES) : file, file.name);
    body.append("partial", partial ? "1" : "0");
    target.setAttribute("aria-busy", "true");
    try {
      var response = await fetch(input.getAttribute("data-preview-url"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "HX-Request": "true" },
      });
      target.innerHTML = await response.text();
      if (window.htmx) { window.htmx.process(target); }
    } catch (err) {
      toast(document.body.getAttribute("data-network-error"));
    } finally {
      target.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[type=file][data-preview-url]")) { previewUpload(input); }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-png]");
    if (button) { event.preventDefault(); downloadPng(button); }
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("#upload-form");
    if (!form || !event.detail.lengthComputable) { return; }
    var bar = form.querySelector(".upload-progress");
    var percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    bar.hidden = false;
    bar.querySelector(".progress-fill").style.width = percent + "%";
    bar.querySelector("[role=progressbar]").setAttribute("aria-valuenow", String(percent));
  });

  document.addEventListener("htmx:sendError", function () {
    toast(document.body.getAttribute("data-network-error"));
  });
  document.addEventListener("htmx:responseError", function (event) {
    toast(event.detail.xhr.status + " " + (event.detail.xhr.statusText || ""));
  });
  document.addEventListener("htmx:afterSettle", function () { renderCharts(document); });
  window.addEventListener("resize", function () {
    Object.keys(registry).forEach(function (id) { registry[id].resize(); });
  });
  document.addEventListener("DOMContentLoaded", function () { renderCharts(document); });

  window.vicx = { charts: registry, renderCharts: renderCharts };
})();
