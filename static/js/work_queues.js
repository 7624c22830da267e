// Agent desktop: My queue and the service queues (pull), and the case actions (Pending, Resolve).
// The queues are a server-rendered fragment fetched again when an event says they may have
// changed (the desktop's socket hands its events over as "desktop:event"), so a live page shows
// what a fresh render shows.
import { errorText as httpErrorText, fetchFragment, postForm as post } from "./http.js";
import { strings } from "./i18n.js";

const panel = document.getElementById("work-queues");
const TEXT = strings("desktop-strings");
const REFRESHING_EVENTS = /^(queue|offer|conversation|interaction)\./;

function errorText(data, response) {
  return httpErrorText(data, response, TEXT.error);
}

let refreshing = null;
let stale = false;
function refresh() {
  if (refreshing) {
    stale = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        stale = false;
        panel.replaceChildren(await fetchFragment(panel.dataset.fragmentUrl));
      } while (stale);
    } catch (error) {
      console.error(error);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

if (panel) {
  document.addEventListener("desktop:event", (event) => {
    if (REFRESHING_EVENTS.test(event.detail.type || "")) refresh();
  });
  panel.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.classList.contains("js-pull")) return;
    event.preventDefault();
    form.querySelector("button").disabled = true;
    const { response, data } = await post(form);
    if (response.ok && data.conversation_url) {
      window.location.assign(data.conversation_url);
      return;
    }
    window.alert(errorText(data, response));
    refresh();
  });
}

document.querySelectorAll("form.js-case").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = form.closest(".case").querySelector(".case-error");
    error.textContent = "";
    const { response, data } = await post(form);
    if (response.ok) window.location.assign("/");
    else error.textContent = errorText(data, response);
  });
});
