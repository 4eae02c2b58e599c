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
