// The desktop's context panel (Contact, Activities, Details, Knowledge) and, on a phone, the
// switch between the list, the conversation and the panel. The panel is a server-rendered
// fragment, read again when its contact or conversation changes (events from desktop.js).
import { strings } from "./i18n.js";
import { errorText, fetchFragment, postForm } from "./http.js";

const desktop = document.getElementById("desktop");
const panel = document.getElementById("context-panel");
const toggle = document.getElementById("context-toggle");
const conversationId = Number(document.body.dataset.conversationId || 0);
const TEXT = strings("desktop-strings");
const TAB_KEY = "contextPanel.tab";
const COLLAPSED_KEY = "contextPanel.collapsed";

function stored(key, fallback) {
  try {
    return window.localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

function store(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}

// --- Views on a phone: list / conversation / context -----------------------------------------
function showView(view) {
  if (!desktop) return;
  desktop.dataset.view = view;
  for (const button of desktop.querySelectorAll(".view-switch button")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
  }
}

if (desktop) {
  showView(desktop.dataset.view);
  for (const button of desktop.querySelectorAll(".view-switch button")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
}

// --- Collapse (wide screens) -------------------------------------------------------------------
function setCollapsed(collapsed) {
  desktop.classList.toggle("context-collapsed", collapsed);
  toggle.setAttribute("aria-expanded", String(!collapsed));
  store(COLLAPSED_KEY, collapsed ? "1" : "0");
}

if (panel && toggle) {
  setCollapsed(stored(COLLAPSED_KEY, "0") === "1");
  toggle.addEventListener("click", () => {
    if (window.matchMedia("(max-width: 700px)").matches) showView("context");
    else setCollapsed(!desktop.classList.contains("context-collapsed"));
  });
}

// --- Tabs ------------------------------------------------------------------------------------
function selectTab(name, { focus = false } = {}) {
  const tabs = [...panel.querySelectorAll("[role=tab]")];
  const chosen = tabs.find((tab) => tab.dataset.tab === name) || tabs[0];
  if (!chosen) return;
  for (const tab of tabs) {
    const selected = tab === chosen;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    panel.querySelector(`[data-tab-panel="${tab.dataset.tab}"]`).hidden = !selected;
  }
  if (focus) chosen.focus();
  store(TAB_KEY, chosen.dataset.tab);
}

function currentTab() {
  const selected = panel.querySelector("[role=tab][aria-selected=true]");
  return selected ? selected.dataset.tab : stored(TAB_KEY, "contact");
}

if (panel) {
  panel.addEventListener("click", (event) => {
    const tab = event.target.closest("[role=tab]");
    if (tab) selectTab(tab.dataset.tab);
    const insert = event.target.closest(".js-insert");
    if (insert) insertInComposer(insert.dataset.text);
  });
  panel.addEventListener("keydown", (event) => {
    const tab = event.target.closest("[role=tab]");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    const tabs = [...panel.querySelectorAll("[role=tab]")];
    const step = event.key === "ArrowRight" ? 1 : -1;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    selectTab(next.dataset.tab, { focus: true });
  });
  panel.addEventListener("input", (event) => {
    if (event.target.id === "knowledge-search") filterKnowledge(event.target.value);
  });
  panel.addEventListener("submit", async (event) => {
    const form = event.target.closest(".js-panel-form");
    if (!form) return;
    event.preventDefault();
    const error = form.querySelector(".error");
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const { response, data } = await postForm(form);
      if (!response.ok) {
        error.textContent = errorText(data, response, TEXT.error);
        markInvalid(form, (data.error && data.error.fields) || {});
        return;
      }
      error.textContent = "";
      await refreshPanel({ force: true });
    } catch {
      error.textContent = TEXT.network_error;
    } finally {
      if (button) button.disabled = false;
    }
  });
}

function markInvalid(form, fields) {
  for (const input of form.querySelectorAll("input, select")) {
    const key = input.name.startsWith("field-") ? input.name.slice(6) : input.name;
    if (fields[key]) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

function filterKnowledge(text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  for (const item of panel.querySelectorAll(".knowledge-item")) {
    const haystack = item.dataset.search || "";
    item.hidden = !words.every((word) => haystack.includes(word));
  }
}

function insertInComposer(text) {
  const box = document.getElementById("composer-body");
  if (!box) return;
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? box.value.length;
  box.value = box.value.slice(0, start) + text + box.value.slice(end);
  box.dispatchEvent(new Event("input", { bubbles: true }));
  if (desktop && desktop.dataset.view === "context") showView("conversation");
  box.focus();
  box.setSelectionRange(start + text.length, start + text.length);
}

// --- Live: read the panel again when what it shows changed -----------------------------------
let refreshing = null;
let stale = false;

function changedInput(form) {
  for (const field of form.elements) {
    if (field.tagName === "SELECT") {
      if ([...field.options].some((option) => option.selected !== option.defaultSelected)) return true;
    } else if (field.type !== "hidden" && "defaultValue" in field && field.value !== field.defaultValue) {
      return true;
    }
  }
  return false;
}

function editing() {
  // Never replace what the agent is typing into (an edit form, fields, the search box), input
  // not saved yet, or an error the agent has not dealt with: the panel is read again after.
  const active = document.activeElement;
  if (active && panel.contains(active) && active.matches("input, select, textarea")) return true;
  return [...panel.querySelectorAll(".js-panel-form")].some(
    (form) => changedInput(form) || [...form.querySelectorAll(".error")].some((e) => e.textContent.trim()),
  );
}

async function refreshPanel({ force = false, tab: firstTab = "" } = {}) {
  if (!panel) return;
  if (!force && editing()) {
    stale = true;
    return;
  }
  if (refreshing) {
    stale = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        stale = false;
        const tab = firstTab || currentTab();
        const search = panel.querySelector("#knowledge-search")?.value || "";
        const fragment = await fetchFragment(panel.dataset.fragmentUrl);
        panel.replaceChildren(fragment);
        selectTab(tab);
        if (search) {
          panel.querySelector("#knowledge-search").value = search;
          filterKnowledge(search);
        }
        const name = panel.querySelector(".context-contact-name");
        const header = document.querySelector(".workspace-header .contact-name");
        if (name && header) header.textContent = name.textContent;
        const missing = document.getElementById("wrap-up-missing");
        if (missing) missing.hidden = !panel.querySelector(".count-warn");
      } while (stale && !editing());
    } catch {
      // The next event reads it again; the page keeps what it shows (or says it failed).
      const loading = panel.querySelector(".context-loading");
      if (loading) loading.textContent = TEXT.network_error || "";
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

if (panel) {
  // The page comes without the panel's content: read it now (and again on changes).
  refreshPanel({ force: true, tab: stored(TAB_KEY, "contact") });
  panel.addEventListener("focusout", () => {
    window.setTimeout(() => {
      if (stale && !editing()) refreshPanel();
    }, 0);
  });
  document.addEventListener("desktop:event", (event) => {
    const { type, payload = {} } = event.detail || {};
    const contactId = Number(panel.dataset.contactId);
    const aboutContact =
      type.startsWith("contact.") &&
      (payload.contact_id === contactId || payload.merged_into_id === contactId);
    // (Its close and wrap-up reload the whole page.)
    const aboutConversation = payload.conversation_id === conversationId && type === "conversation.updated";
    if (aboutContact || aboutConversation) refreshPanel();
  });
}
