// Requests the agent pages make: the CSRF token, server-rendered fragments, form posts and the
// error text of a refused request ({"error": {"code", "message", "fields"}}).
import { format } from "./i18n.js";

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

export async function fetchFragment(url) {
  const response = await fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  return template.content;
}

export async function postForm(form) {
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  return { response, data };
}

// fallback: a text with %(status)s, shown when the server gave no message.
export function errorText(data, response, fallback) {
  const message = data && data.error && data.error.message;
  return message || format(fallback, { status: response.status });
}
