/*
 * Contact center web chat widget. Add it to any page with one tag:
 *
 *   <script src="https://<contact center>/static/webchat/widget.js" data-entry-point="website" async></script>
 *
 * It adds a "chat" button and opens the chat (/chat/<entry point>/ from the same server) in a panel
 * (an iframe, full screen on small screens). The chat runs in the iframe, on the contact center's
 * origin; this script only shows and hides it and tells it which page the visitor is on. Its texts
 * come from the chat itself (translated server-side). No dependencies, no build step.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var slug = script.getAttribute("data-entry-point") || "website";
  var server = new URL(script.src, window.location.href).origin;
  var key = "cc-chat-open:" + slug;
  var tokenKey = "cc-chat:" + slug + ":token";
  var activeKey = "cc-chat:" + slug + ":active";
  if (window.__ccChatWidgets && window.__ccChatWidgets[slug]) return;
  window.__ccChatWidgets = window.__ccChatWidgets || {};
  window.__ccChatWidgets[slug] = true;

  var lang = (document.documentElement.getAttribute("lang") || navigator.language || "").slice(0, 12);
  var src = server + "/chat/" + encodeURIComponent(slug) + "/?embed=1&lang=" + encodeURIComponent(lang);

  var host = document.createElement("div");
  host.setAttribute("data-cc-chat", slug);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = [
    ":host { all: initial; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: none;",
    "  align-items: center; gap: 8px; padding: 12px 18px; border: 0; border-radius: 999px;",
    "  background: #1f6feb; color: #fff; font: 600 15px/1.2 system-ui, -apple-system, 'Segoe UI', sans-serif;",
    "  box-shadow: 0 4px 14px rgba(0,0,0,.25); cursor: pointer; }",
    ".launcher.ready { display: inline-flex; }",
    ".launcher:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }",
    ".badge { min-width: 20px; padding: 1px 6px; border-radius: 999px; background: #b42318; font-size: 12px; text-align: center; }",
    ".badge[hidden] { display: none; }",
    ".panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483000; width: 380px; height: 600px;",
    "  max-height: calc(100vh - 110px); border-radius: 12px; overflow: hidden; background: #fff;",
    "  box-shadow: 0 8px 30px rgba(0,0,0,.3); display: none; }",
    ".panel.open { display: block; }",
    "iframe { width: 100%; height: 100%; border: 0; display: block; }",
    "@media (max-width: 480px) { .panel { inset: 0; width: 100vw; height: 100%; max-height: none; border-radius: 0; }",
    "  .launcher.open { display: none; } }",
  ].join("\n");

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "cc-chat-panel");
  var label = document.createElement("span");
  var badge = document.createElement("span");
  badge.className = "badge";
  badge.hidden = true;
  launcher.appendChild(label);
  launcher.appendChild(badge);

  var panel = document.createElement("div");
  panel.className = "panel";
  panel.id = "cc-chat-panel";
  var frame = document.createElement("iframe");
  frame.src = src;
  frame.setAttribute("title", "Chat");
  frame.setAttribute("allow", "clipboard-write");
  panel.appendChild(frame);

  // A constructed stylesheet is not inline style: pages with a strict Content-Security-Policy
  // (style-src without 'unsafe-inline', like this server's own) keep the widget styled.
  if (host.attachShadow && "adoptedStyleSheets" in root && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style");
    style.textContent = css;
    root.appendChild(style);
  }
  root.appendChild(panel);
  root.appendChild(launcher);

  var labels = { open: "", close: "", title: "" };
  var isOpen = false;

  function remember(open) {
    try {
      window.sessionStorage.setItem(key, open ? "1" : "0");
    } catch (error) {
      /* storage blocked: the panel just starts closed after a reload */
    }
  }
  function remembered() {
    try {
      return window.sessionStorage.getItem(key) === "1";
    } catch (error) {
      return false;
    }
  }

  // The visitor's chat token is kept in this website's storage too: browsers partition or block
  // the storage of third-party iframes, and the visitor must stay the same visitor across pages.
  function load(name) {
    try {
      return window.localStorage.getItem(name);
    } catch (error) {
      return null;
    }
  }
  function store(name, value) {
    try {
      if (value === null) window.localStorage.removeItem(name);
      else window.localStorage.setItem(name, value);
    } catch (error) {
      /* storage blocked: the chat still works for this page view */
    }
  }

  function toChat(message) {
    message.source = "cc-chat-host";
    if (frame.contentWindow) frame.contentWindow.postMessage(message, server);
  }

  function setOpen(open, focus) {
    isOpen = open;
    panel.classList.toggle("open", open);
    launcher.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    label.textContent = open ? labels.close : labels.open;
    remember(open);
    toChat({ type: open ? "open" : "closed" });
    if (open) {
      badge.hidden = true;
      if (focus) frame.focus();
    } else if (focus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () {
    setOpen(!isOpen, true);
  });

  var lastPage = "";
  function reportPage() {
    var page = window.location.href + "\n" + document.title;
    if (page === lastPage) return;
    lastPage = page;
    toChat({ type: "page", url: window.location.href, title: document.title });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== server || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.source !== "cc-chat") return;
    if (data.type === "ready") {
      labels = data.labels || labels;
      frame.setAttribute("title", labels.title || "Chat");
      launcher.classList.add("ready");
      lastPage = window.location.href + "\n" + document.title;
      toChat({
        type: "init",
        token: load(tokenKey),
        active: load(activeKey) === "1",
        page: { url: window.location.href, title: document.title },
        open: remembered(),
      });
      setOpen(remembered(), false);
    } else if (data.type === "state") {
      if (typeof data.token === "string" && data.token.length < 500) store(tokenKey, data.token);
      store(activeKey, data.active ? "1" : "0");
    } else if (data.type === "close") {
      setOpen(false, true);
    } else if (data.type === "unread") {
      badge.hidden = !data.count || isOpen;
      badge.textContent = data.count ? String(data.count) : "";
      badge.setAttribute("aria-label", data.label || "");
    }
  });

  // Single-page sites change pages without loading: notice it cheaply.
  window.addEventListener("popstate", reportPage);
  window.addEventListener("hashchange", reportPage);
  window.setInterval(reportPage, 2000);

  function mount() {
    document.body.appendChild(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
