// Small behaviours of the console that need no framework.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-toggle-sidebar]");
  if (toggle) {
    document.getElementById("sidebar").classList.toggle("open");
    return;
  }
  const sidebar = document.getElementById("sidebar");
  if (sidebar && sidebar.classList.contains("open") && !event.target.closest("#sidebar")) {
    sidebar.classList.remove("open");
  }
});

// A failed htmx request (server error, network) must not fail silently.
// Polling elements (data-quiet-errors) just try again at their next tick.
const quiet = (event) => Boolean(event.detail.elt && event.detail.elt.closest("[data-quiet-errors]"));

document.addEventListener("htmx:responseError", (event) => {
  if (quiet(event)) return;
  const status = event.detail.xhr.status;
  const lang = document.documentElement.lang || "zh-CN";
  const text = lang.startsWith("zh")
    ? `请求失败（${status}），请刷新页面后重试。`
    : `The request failed (${status}); please reload the page and try again.`;
  window.alert(text);
});
document.addEventListener("htmx:sendError", (event) => {
  if (quiet(event)) return;
  const lang = document.documentElement.lang || "zh-CN";
  window.alert(lang.startsWith("zh") ? "网络连接失败，请检查网络后重试。" : "Network error: please check your connection.");
});

// A conversation opens (and refreshes) at its latest message.
const chatToBottom = () => document.querySelectorAll(".chat").forEach((chat) => { chat.scrollTop = chat.scrollHeight; });
document.addEventListener("DOMContentLoaded", chatToBottom);
document.addEventListener("htmx:afterSettle", chatToBottom);

// Behaviours that would otherwise be inline handlers, which the Content-Security-Policy forbids.
// A select or checkbox marked data-autosubmit submits its form; a data-print button prints.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches && field.matches("[data-autosubmit]") && field.form) {
    field.form.submit();
    return;
  }
  // A live filter form refreshes on any change except of its search box, which has its own
  // debounced trigger (hx-trigger="filterchange, input from:input[name=q] ...").
  const filters = field.closest && field.closest("form[data-filter-change]");
  if (filters && field.name !== "q" && window.htmx) window.htmx.trigger(filters, "filterchange");
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// Bars take their width from data-width (percent) through the CSSOM: a style attribute would be
// refused by the Content-Security-Policy.
const sizeBars = (root) => {
  root.querySelectorAll("[data-width]").forEach((bar) => { bar.style.width = `${Number(bar.dataset.width) || 0}%`; });
};
document.addEventListener("DOMContentLoaded", () => sizeBars(document));
document.addEventListener("htmx:afterSettle", (event) => sizeBars(event.detail.elt || document));
