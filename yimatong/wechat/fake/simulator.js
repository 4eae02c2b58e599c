// The fake WeChat's simulator: a person plays an investor against one official account.
// Talks to /simulator/api/* on the same fake server; no external assets.
(function () {
  "use strict";

  const COOKIE = "fake_wechat_openid";
  const POLL_MS = 2000;
  const STATE_MS = 10000;
  const params = new URLSearchParams(window.location.search);
  const sim = {
    appid: params.get("appid") || localStorage.getItem("fakeWechat.appid") || "",
    openid: params.get("openid") || "",
    ticket: params.get("ticket") || "",
    lastSeq: -1,
    busy: false,
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function toast(message) {
    const box = $("toast");
    box.textContent = message;
    box.style.display = "block";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.style.display = "none"; }, 4000);
  }

  async function getJSON(path, query) {
    const url = path + "?" + new URLSearchParams(query).toString();
    const response = await fetch(url, { cache: "no-store" });
    return response.json();
  }

  async function postJSON(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return response.json();
  }

  function randomOpenid() {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    return "o_demo_" + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
  }

  function identityKey() {
    return "fakeWechat.openid." + sim.appid;
  }

  function setIdentity(openid) {
    sim.openid = openid.trim();
    sim.lastSeq = -1;
    $("identity").value = sim.openid;
    if (sim.appid) localStorage.setItem(identityKey(), sim.openid);
    // The dev sign-in page of this fake preselects this identity (cookies ignore the port).
    document.cookie = COOKIE + "=" + encodeURIComponent(sim.openid) + "; path=/; SameSite=Lax";
  }

  function setAccount(appid) {
    sim.appid = appid;
    localStorage.setItem("fakeWechat.appid", appid);
    setIdentity(localStorage.getItem(identityKey()) || "");
  }

  // Rendering -----------------------------------------------------------------------------------

  function renderAccounts(accounts) {
    const select = $("account");
    select.replaceChildren(
      ...accounts.map((a) => el("option", { value: a.appid }, a.name + " · " + a.appid + " (" + a.mode + ")"))
    );
    if (!accounts.length) select.append(el("option", { value: "" }, "没有公众号 / no account"));
    select.value = sim.appid;
  }

  function renderUsers(users) {
    $("known-users").replaceChildren(...(users || []).map((openid) => el("option", { value: openid })));
  }

  function renderPortal(url) {
    const link = $("portal");
    if (url) {
      link.href = url;
      link.style.visibility = "visible";
    } else {
      link.removeAttribute("href");
      link.style.visibility = "hidden";
    }
  }

  function renderCodes(codes) {
    const list = $("codes");
    if (!codes || !codes.length) {
      list.replaceChildren(el("li", {}, el("span", { class: "en" }, "还没有二维码 / no QR codes yet")));
      return;
    }
    list.replaceChildren(
      ...codes.map((code) => {
        const button = el("button", { class: "primary", type: "button" }, "扫码 ", el("span", { class: "en" }, "Scan"));
        button.disabled = Boolean(code.expired);
        button.addEventListener("click", () =>
          act(code.ticket ? { action: "scan", ticket: code.ticket } : { action: "scan", scene: code.scene })
        );
        const what = el(
          "div",
          { class: "what" },
          el("div", {}, code.name || "二维码 / QR code"),
          code.caption ? el("div", { class: "en" }, code.caption) : null,
          el("code", {}, "scene: " + code.scene + (code.expired ? " · 已过期 / expired" : ""))
        );
        return el("li", { class: code.expired ? "expired" : "" }, what, button);
      })
    );
  }

  function renderMenu(menu) {
    $("menu").replaceChildren(
      ...(menu || []).map((item) => {
        const button = el("button", { type: "button", title: "key: " + item.key }, item.name);
        button.addEventListener("click", () => act({ action: "click", key: item.key }));
        return button;
      })
    );
  }

  function renderFollower(follower) {
    const status = $("status");
    const following = Boolean(follower && follower.subscribe);
    status.className = following ? "following" : "";
    if (!sim.openid) status.textContent = "请先选择身份 / choose an identity first";
    else if (following) {
      const scene = follower.qr_scene_str || follower.qr_scene || "";
      status.textContent = "已关注 / Following" + (scene ? " · 来源场景 / scene " + scene : " · 搜索关注 / by search");
    } else status.textContent = "未关注 / Not following";
    $("follow").disabled = following || !sim.openid;
    $("unfollow").disabled = !following;
  }

  function clock(at) {
    return new Date(at * 1000).toLocaleTimeString("zh-CN", { hour12: false });
  }

  function renderTemplate(entry) {
    const rows = [];
    for (const [key, item] of Object.entries(entry.data || {})) {
      const value = item && typeof item === "object" ? item.value : item;
      rows.push(el("dt", {}, key), el("dd", {}, value));
    }
    return el(
      "div",
      { class: "card" },
      el("h3", {}, "模板消息 / Template message"),
      el("div", { class: "en" }, entry.template_id),
      el("dl", {}, ...rows),
      entry.url ? el("a", { href: entry.url, target: "_blank", rel: "noopener" }, "详情 / Details → " + entry.url) : null,
      el("span", { class: "en" }, clock(entry.at))
    );
  }

  function renderEntry(entry) {
    if (entry.side === "system") return el("div", { class: "notice error" }, entry.text);
    if (entry.side === "user" && entry.kind === "event") {
      return el("div", { class: "notice" }, entry.text + " · " + clock(entry.at));
    }
    if (entry.kind === "template") return el("div", { class: "msg" }, renderTemplate(entry));
    const label = { passive: "被动回复 / passive reply", custom: "客服消息 / customer service" }[entry.kind] || "";
    const bubble = el(
      "div",
      { class: "bubble" },
      entry.text || "",
      entry.url ? el("a", { href: entry.url, target: "_blank", rel: "noopener", style: "display:block" }, entry.url) : null,
      el("span", { class: "meta" }, clock(entry.at) + (label ? " · " + label : ""))
    );
    return el("div", { class: "msg " + (entry.side === "user" ? "user" : "account") }, bubble);
  }

  function renderConversation(conversation) {
    const entries = conversation || [];
    const last = entries.length ? entries[entries.length - 1].seq : 0;
    if (last === sim.lastSeq) return;
    sim.lastSeq = last;
    const chat = $("chat");
    if (!sim.openid) {
      chat.replaceChildren(el("div", { class: "notice" }, "点击“新访客”开始 / press “New visitor” to start"));
      return;
    }
    chat.replaceChildren(...entries.map(renderEntry));
    chat.scrollTop = chat.scrollHeight;
  }

  function renderTicket() {
    const banner = $("ticket-banner");
    banner.style.display = sim.ticket ? "block" : "none";
    if (!sim.ticket) return;
    try {
      const padded = sim.ticket.replace(/-/g, "+").replace(/_/g, "/");
      const payload = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(padded + "===".slice((padded.length + 3) % 4)), (c) => c.charCodeAt(0))));
      $("ticket-scene").textContent = String(payload.scene);
    } catch (error) {
      $("ticket-scene").textContent = sim.ticket.slice(0, 16) + "…";
    }
  }

  // Loading -------------------------------------------------------------------------------------

  async function loadState() {
    const state = await getJSON("/simulator/api/state", { appid: sim.appid, openid: sim.openid });
    if (state.appid && state.appid !== sim.appid) setAccount(state.appid);
    renderAccounts(state.accounts || []);
    renderUsers(state.users);
    renderCodes(state.codes);
    renderMenu(state.menu);
    renderPortal(state.portal_url);
    renderFollower(state.follower);
    renderConversation(state.conversation);
    if (state.errors && state.errors.length) toast(state.errors.join("\n"));
  }

  async function poll() {
    if (!sim.appid || !sim.openid || sim.busy) return;
    const state = await getJSON("/simulator/api/inbox", { appid: sim.appid, openid: sim.openid });
    renderFollower(state.follower);
    renderConversation(state.conversation);
  }

  async function act(body) {
    if (!sim.openid) {
      toast("请先选择身份 / choose an identity first");
      return;
    }
    sim.busy = true;
    toast("发送中… / sending…");
    try {
      const answer = await postJSON("/simulator/api/act", { appid: sim.appid, openid: sim.openid, ...body });
      if (!answer.ok) {
        toast(answer.error || "失败 / failed");
        return;
      }
      const failed = (answer.results || []).filter((r) => r.error);
      toast(failed.length ? "回调问题 / callback problem: " + failed[failed.length - 1].error : "已送达 / delivered");
      renderFollower(answer.follower);
      renderConversation(answer.conversation);
      if (body.action === "scan" || body.action === "follow") loadState();
    } catch (error) {
      toast(String(error));
    } finally {
      sim.busy = false;
    }
  }

  // Wiring --------------------------------------------------------------------------------------

  $("account").addEventListener("change", (event) => {
    setAccount(event.target.value);
    loadState();
  });
  $("identity").addEventListener("change", (event) => {
    setIdentity(event.target.value);
    loadState();
  });
  $("new-visitor").addEventListener("click", () => {
    setIdentity(randomOpenid());
    loadState();
  });
  $("follow").addEventListener("click", () => act({ action: "follow" }));
  $("unfollow").addEventListener("click", () => act({ action: "unfollow" }));
  $("refresh").addEventListener("click", loadState);
  $("ticket-scan").addEventListener("click", async () => {
    await act({ action: "scan", ticket: sim.ticket });
    sim.ticket = "";
    renderTicket();
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    act({ action: "text", text });
  });

  if (sim.appid) setAccount(sim.appid);
  if (params.get("openid")) setIdentity(params.get("openid"));
  renderTicket();
  loadState();
  setInterval(poll, POLL_MS);
  setInterval(loadState, STATE_MS);
})();
