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
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const lang = document.documentElement.lang || "zh-CN";
  const text = lang.startsWith("zh")
    ? `请求失败（${status}），请刷新页面后重试。`
    : `The request failed (${status}); please reload the page and try again.`;
  window.alert(text);
});
document.addEventListener("htmx:sendError", () => {
  const lang = document.documentElement.lang || "zh-CN";
  window.alert(lang.startsWith("zh") ? "网络连接失败，请检查网络后重试。" : "Network error: please check your connection.");
});
