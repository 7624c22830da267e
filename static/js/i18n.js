// UI text for static JS. Every string is translated on the server, in the page's language, and
// handed over in the page (json_script blocks, or a data-* attribute on the element it belongs
// to); scripts never hard-code English. Placeholders are Django's: %(name)s.

export function strings(id) {
  const element = document.getElementById(id);
  if (!element) return {};
  try {
    return JSON.parse(element.textContent);
  } catch {
    return {};
  }
}

export function format(text, params = {}) {
  let result = String(text ?? "");
  for (const [name, value] of Object.entries(params)) result = result.split(`%(${name})s`).join(String(value));
  return result;
}
