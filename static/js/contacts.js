// Contact page: an activity's timeline loads only when it is expanded, one page at a time.
// Customer text arrives as server-escaped HTML (the same fragments the desktop uses).

import { fetchFragment } from "./http.js";

const activities = document.getElementById("activities");
const ERROR_TEXT = activities ? activities.dataset.errorText || "" : "";

function showError(container, error) {
  console.error(error);
  const message = document.createElement("p");
  message.className = "error";
  message.textContent = ERROR_TEXT;
  container.replaceChildren(message);
}

document.querySelectorAll("details.activity-timeline").forEach((details) => {
  details.addEventListener("toggle", async () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = "1";
    const body = details.querySelector(".timeline-body");
    try {
      body.replaceChildren(await fetchFragment(details.dataset.timelineUrl));
    } catch (error) {
      delete details.dataset.loaded;
      showError(body, error);
    }
  });
});

document.addEventListener("click", async (event) => {
  const link = event.target.closest("a.load-earlier[data-partial-url]");
  if (!link || !link.closest(".timeline-body")) return;
  event.preventDefault();
  link.setAttribute("aria-busy", "true");
  try {
    // The older page replaces the link; it brings its own link when there is more.
    link.replaceWith(await fetchFragment(link.dataset.partialUrl));
  } catch (error) {
    console.error(error);
    link.removeAttribute("aria-busy");
    link.textContent = ERROR_TEXT;
  }
});
