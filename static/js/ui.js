// Layout helpers (issue 14.2, 14.5), no inline JavaScript (CSP script-src 'self'):
// - every table sits in a horizontally scrolling box with its first column fixed; a box that
//   overflows gets the class .is-scrollable (shadow + "左右滑动" hint) so no data hides without a cue;
// - a long <select> (30+ options, e.g. 120 organizations) gets a search box that narrows it;
// - <details data-open-wide> opens by itself on a wide screen (chart data tables);
// - printed pages show links in full, prefixed with PB_REPORT_SITE_URL (<meta name=pb-site-url>);
// - messages marked data-transient go away once the page says its work is done ([data-work-done]).
(function () {
  "use strict";
  var WIDE = window.matchMedia("(min-width: 641px)");

  function wrapTables(root) {
    root.querySelectorAll("main table").forEach(function (table) {
      var box = table.parentElement;
      if (!box.classList.contains("table-wrap")) {
        box = document.createElement("div");
        box.className = "table-wrap auto";
        table.parentNode.insertBefore(box, table);
        box.appendChild(table);
      }
      if (!box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        var caption = table.querySelector("caption") || (box.closest("section, figure") || document).querySelector("h2, h3, figcaption");
        box.setAttribute("aria-label", (caption ? caption.textContent.trim() + " " : "") + "表格");
      }
      markScroll(box);
    });
  }

  function markScroll(box) {
    var over = box.scrollWidth > box.clientWidth + 2;
    box.classList.toggle("is-scrollable", over);
    box.classList.toggle("at-end", over && box.scrollLeft + box.clientWidth >= box.scrollWidth - 2);
  }

  document.addEventListener("scroll", function (event) {
    if (event.target.classList && event.target.classList.contains("table-wrap")) { markScroll(event.target); }
  }, true);
  window.addEventListener("resize", function () { document.querySelectorAll(".table-wrap").forEach(markScroll); });

  function pickers(root) {
    root.querySelectorAll("main select:not([multiple]):not([data-picker])").forEach(function (select) {
      if (select.options.length < 30) { return; }
      select.setAttribute("data-picker", "1");
      var search = document.createElement("input");
      search.type = "search";
      search.className = "picker-search";
      search.placeholder = "输入名称筛选（共 " + select.options.length + " 项）";
      var label = select.id && document.querySelector("label[for='" + select.id + "']");
      search.setAttribute("aria-label", "筛选" + (label ? label.textContent.trim() : "选项"));
      var all = Array.prototype.map.call(select.options, function (o) { return o; });
      search.addEventListener("input", function () {
        var q = search.value.trim().toLowerCase();
        var first = null;
        all.forEach(function (o) {
          var hit = !q || o.value === "" || o.text.toLowerCase().indexOf(q) >= 0;
          o.hidden = !hit;
          o.disabled = !hit && o.value !== select.value;
          if (hit && o.value !== "" && !first) { first = o; }
        });
        if (q && first && (select.selectedOptions[0] || {}).hidden !== false) { select.value = first.value; select.dispatchEvent(new Event("change", { bubbles: true })); }
      });
      select.parentNode.insertBefore(search, select);
    });
  }

  function openWide(root) {
    root.querySelectorAll("details[data-open-wide]").forEach(function (d) { if (WIDE.matches) { d.open = true; } });
  }

  function transient() {
    if (!document.querySelector("[data-work-done]")) { return; }
    document.querySelectorAll(".messages [data-transient]").forEach(function (m) {
      var list = m.parentElement;
      m.remove();
      if (list && !list.children.length) { list.remove(); }
    });
  }

  window.addEventListener("beforeprint", function () {
    var meta = document.querySelector("meta[name=pb-site-url]");
    var base = meta ? meta.content.replace(/\/$/, "") : window.location.origin;
    document.querySelectorAll("main a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (/^(#|javascript:|mailto:)/.test(href)) { return; }
      var url = new URL(href, window.location.href);
      a.setAttribute("data-print-href", url.origin === window.location.origin ? base + url.pathname + url.search + url.hash : url.href);
    });
  });

  // A control drawn without a <label> (filter bars) is named after what it shows: its placeholder,
  // its title, or a select's first option ("全部状态"), so a screen reader says what it is.
  function names(root) {
    root.querySelectorAll("main input:not([type=hidden]), main select, main textarea").forEach(function (el) {
      if (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.closest("label")) { return; }
      if (el.id && document.querySelector("label[for='" + el.id + "']")) { return; }
      var name = el.getAttribute("placeholder") || el.getAttribute("title") || (el.tagName === "SELECT" && el.options.length ? el.options[0].text : "");
      if (name) { el.setAttribute("aria-label", name.replace(/^[—\s-]+|[—\s-]+$/g, "")); }
    });
  }

  function init(root) { wrapTables(root); pickers(root); names(root); openWide(root); transient(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", function () { init(document); }); } else { init(document); }
  document.addEventListener("htmx:afterSwap", function () { init(document); });
})();
