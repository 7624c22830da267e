// Agent desktop, composer: the email fields (subject, CC, attachments, another address, simple
// formatting) shown when "Reply on" is an email. An email goes to the email endpoint with its
// files (desktop.js posts the form as it is); the other channels keep the composer's own action.
const composer = document.getElementById("composer");
const fields = document.getElementById("email-composer");
const target = document.getElementById("composer-target");
const body = document.getElementById("composer-body");

function selected() {
  return target && target.selectedOptions[0];
}

if (composer && fields && target) {
  const replyUrl = composer.getAttribute("action");
  const newAddressLine = fields.querySelector(".email-new-address");
  const newAddress = document.getElementById("email-new-address");

  const update = () => {
    const option = selected();
    const email = Boolean(option && option.dataset.channel === "email");
    const asksAddress = email && option.dataset.askAddress === "1";
    fields.hidden = !email;
    fields.disabled = !email; // a disabled fieldset's inputs (and files) are not sent
    composer.setAttribute("action", email ? fields.dataset.sendUrl : replyUrl);
    newAddressLine.hidden = !asksAddress;
    newAddress.required = asksAddress;
  };
  target.addEventListener("change", update);
  update();

  composer.addEventListener("composer:sent", () => {
    fields.querySelectorAll("input").forEach((input) => {
      input.value = "";
    });
  });

  const wrap = (before, after) => {
    const { selectionStart: start, selectionEnd: end, value } = body;
    body.value = value.slice(0, start) + before + value.slice(start, end) + after + value.slice(end);
    body.setSelectionRange(start + before.length, end + before.length);
    body.focus();
  };
  const listify = () => {
    const { selectionStart: start, selectionEnd: end, value } = body;
    const from = value.lastIndexOf("\n", start - 1) + 1;
    const lines = value.slice(from, end).split("\n").map((line) => (line.startsWith("- ") ? line : `- ${line}`));
    body.value = value.slice(0, from) + lines.join("\n") + value.slice(end);
    body.focus();
  };
  fields.querySelector(".email-format").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-format]");
    if (!button) return;
    if (button.dataset.format === "bold") wrap("**", "**");
    else if (button.dataset.format === "italic") wrap("_", "_");
    else listify();
  });
}
