// Confirmation before destructive actions without inline JavaScript (CSP script-src 'self').
// Usage: <button type="submit" data-confirm="确定撤销该转接？">撤销</button>
//        <form method="post" data-confirm="确定删除？">…</form>
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && el.tagName !== "FORM" && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.hasAttribute && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
}, true);
