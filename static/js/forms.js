// Forms (issue 14.3), no inline JavaScript (CSP script-src 'self'):
// - a refused form: the banner lists every fault as a link to its field; the first faulty field is
//   scrolled into view and focused;
// - helpers in the page: <a data-check-all="NAME"> ticks every checkbox NAME of its form, no reload;
// - <form data-draft="KEY">: what is typed is kept in localStorage and offered back after a reload or a
//   dropped connection; it is dropped once the form was saved;
// - [data-voters-present]: the count of voters marked 出席 (rows .att-row[data-voter]).
(function () {
  "use strict";
  var CONTROL = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";

  function text(el) { return (el && el.textContent || "").replace(/\s+/g, " ").trim(); }

  function labelOf(box, control) {
    var label = control && control.id && document.querySelector("label[for='" + control.id + "']");
    if (!label) { label = box.querySelector("label, legend"); }
    if (!label) {
      var section = box.closest("section, fieldset");
      label = section && section.querySelector("h2, legend");
    }
    var clone = label ? label.cloneNode(true) : null;
    if (clone) { clone.querySelectorAll("input, select, textarea, .errorlist, .error, .muted, .req").forEach(function (n) { n.remove(); }); }
    return text(clone) || "此项";
  }

  function faults(form) {
    var list = [];
    form.querySelectorAll(".has-error, .errorlist").forEach(function (box, i) {
      if (box.classList.contains("errorlist") && box.closest(".has-error")) { return; }
      var scope = box.classList.contains("has-error") ? box : (box.closest("section, fieldset, li") || box.parentElement);
      var control = scope.querySelector(CONTROL);
      var message = box.classList.contains("has-error") ? text(box.querySelector(".errorlist, .error")) : text(box);
      if (!box.id) { box.id = "fault-" + (i + 1); }
      list.push({ box: box, control: control, label: labelOf(scope, control), message: message });
    });
    return list;
  }

  function showFaults() {
    var form = document.querySelector("main form.form, main form[data-draft]");
    if (!form) { return; }
    var found = faults(form);
    if (!found.length) { return; }
    var banner = document.querySelector("main .msg-error");
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "msg msg-error";
      banner.textContent = "未保存：请修改下面标红的内容。";
      form.parentNode.insertBefore(banner, form);
    }
    banner.setAttribute("role", "alert");
    var ul = document.createElement("ul");
    ul.className = "fault-links";
    found.forEach(function (f) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#" + (f.control && f.control.id ? f.control.id : f.box.id);
      a.textContent = f.label + (f.message ? "：" + f.message : "");
      a.addEventListener("click", function (event) { event.preventDefault(); go(f); });
      li.appendChild(a);
      ul.appendChild(li);
    });
    banner.appendChild(ul);
    go(found[0]);
  }

  function go(f) {
    var target = f.control || f.box;
    (f.box.closest(".has-error") || f.box).scrollIntoView({ block: "center" });
    if (target === f.box) { f.box.setAttribute("tabindex", "-1"); }
    target.focus({ preventScroll: true });
  }

  // --- in-page helpers ---------------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-check-all]");
    if (!link) { return; }
    var form = link.closest("form") || document;
    var boxes = form.querySelectorAll("input[type=checkbox][name='" + link.getAttribute("data-check-all") + "']");
    if (!boxes.length) { return; }
    event.preventDefault();
    var all = Array.prototype.every.call(boxes, function (b) { return b.checked; });
    boxes.forEach(function (b) { b.checked = !all; b.dispatchEvent(new Event("change", { bubbles: true })); });
    link.textContent = all ? "全部勾选" : "全部取消";
  });

  function countVoters(root) {
    var out = (root || document).querySelectorAll("[data-voters-present]");
    if (!out.length) { return; }
    var n = document.querySelectorAll(".att-row[data-voter] input[type=radio][value=present]:checked").length;
    out.forEach(function (el) { el.textContent = String(n); });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(".att-row input[type=radio]")) { countVoters(); }
  });

  // --- drafts --------------------------------------------------------------------------------------
  var PENDING = "pb-draft-pending";
  function storeKey(form) { return "pb-draft:" + form.getAttribute("data-draft"); }
  function skip(el) { return !el.name || el.name === "csrfmiddlewaretoken" || el.type === "file" || el.type === "password" || el.type === "submit"; }

  function collect(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (skip(el)) { return; }
      if (el.type === "radio") { if (el.checked) { data[el.name] = el.value; } return; }
      if (el.type === "checkbox") { (data["[]" + el.name] = data["[]" + el.name] || []); if (el.checked) { data["[]" + el.name].push(el.value); } return; }
      if (el.tagName === "SELECT" && el.multiple) { data["[]" + el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; }); return; }
      if (el.type !== "hidden") { data[el.name] = el.value; }
    });
    return data;
  }

  function save(form) {
    var data = collect(form);
    try { localStorage.setItem(storeKey(form), JSON.stringify({ at: Date.now(), data: data })); } catch (e) { /* storage full or off */ }
  }

  function restore(form, data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (skip(el) || el.type === "hidden") { return; }
      if (el.type === "radio") { if (el.name in data) { el.checked = el.value === data[el.name]; } return; }
      if (el.type === "checkbox" || (el.tagName === "SELECT" && el.multiple)) {
        var values = data["[]" + el.name];
        if (!values) { return; }
        if (el.type === "checkbox") { el.checked = values.indexOf(el.value) >= 0; } else { Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; }); }
        return;
      }
      if (el.name in data) { el.value = data[el.name]; }
    });
  }

  function initDraft(form) {
    var key = storeKey(form);
    form.setAttribute("data-draft-bound", "1");
    var raw = null;
    try { raw = localStorage.getItem(key); } catch (e) { return; }
    sessionStorage.removeItem(PENDING);
    if (raw && form.getAttribute("data-draft-restore") === "1") {
      var draft = JSON.parse(raw);
      restore(form, draft.data);
      var note = document.createElement("p");
      note.className = "msg msg-warning draft-note";
      note.setAttribute("role", "status");
      var when = new Date(draft.at);
      note.textContent = "已恢复 " + when.getHours() + ":" + String(when.getMinutes()).padStart(2, "0") + " 未提交的内容。";
      var drop = document.createElement("button");
      drop.type = "button";
      drop.className = "btn small";
      drop.textContent = "放弃这些内容";
      drop.addEventListener("click", function () { localStorage.removeItem(key); window.location.reload(); });
      note.appendChild(drop);
      form.parentNode.insertBefore(note, form);
      countVoters();
      form.dispatchEvent(new CustomEvent("draft:restored", { bubbles: true }));
    }
    form.addEventListener("input", function () { save(form); });
    form.addEventListener("change", function () { save(form); });
    form.addEventListener("submit", function () { save(form); sessionStorage.setItem(PENDING, key); });
  }

  function init() {
    // A form submitted from this tab was saved if the next page no longer shows it: drop its draft.
    var pending = sessionStorage.getItem(PENDING);
    if (pending && !document.querySelector("form[data-draft]")) {
      try { localStorage.removeItem(pending); } catch (e) { /* ignore */ }
      sessionStorage.removeItem(PENDING);
    }
    document.querySelectorAll("form[data-draft]").forEach(initDraft);
    countVoters();
    showFaults();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
  // A part of the page replaced by htmx (the roster after a type or date change): recount, keep saving.
  // The answer is rendered from the values sent with the request; whatever the user typed or ticked
  // while it was on its way (a slow phone network) is carried over into the new form, and the field
  // being typed in keeps the focus.
  var sent = null;
  var typedMeanwhile = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest("form[data-draft]");
    sent = form ? collect(form) : null;
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.target.closest && event.target.closest("form[data-draft]");
    if (!form && event.target.matches && event.target.matches("form[data-draft]")) { form = event.target; }
    typedMeanwhile = null;
    if (!form || !sent) { return; }
    var now = collect(form);
    var changed = {};
    Object.keys(now).forEach(function (name) {
      if (JSON.stringify(now[name]) !== JSON.stringify(sent[name])) { changed[name] = now[name]; }
    });
    var active = document.activeElement;
    typedMeanwhile = { data: changed, focus: active && form.contains(active) ? active.name : null };
  });
  document.addEventListener("htmx:afterSwap", function () {
    var form = document.querySelector("form[data-draft]");
    if (form && typedMeanwhile) {
      restore(form, typedMeanwhile.data);
      var focus = typedMeanwhile.focus && form.querySelector("[name='" + typedMeanwhile.focus + "']:not([type=hidden])");
      if (focus) { focus.focus({ preventScroll: true }); }
    }
    typedMeanwhile = null;
    sent = null;
    if (form && !form.hasAttribute("data-draft-bound")) { form.setAttribute("data-draft-restore", "0"); initDraft(form); save(form); }
    countVoters();
  });
})();
