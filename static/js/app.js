// Page behaviour that htmx attributes cannot express. No inline scripts, so a strict CSP holds.
// Both scripts are deferred, so htmx is loaded when this runs.

// A form answered with 422 carries its errors: swap it in like a success.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[23]..", swap: true },
  { code: "422", swap: true },
  { code: "[45]..", swap: false, error: true },
];
// Restore pages from the server, not a stale snapshot, when going back.
htmx.config.historyCacheSize = 0;

// Times are shown in the browser's time zone: tell the server which one that is.
const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (timeZone) document.cookie = `tz=${encodeURIComponent(timeZone)}; path=/; SameSite=Lax; max-age=31536000`;

// Close an open header menu when clicking elsewhere or pressing Escape.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    menu.removeAttribute("open");
    menu.querySelector("summary").focus();
  }
});

// A message sent with an htmx answer (the "showMessage" event) shows like the page's own.
document.addEventListener("showMessage", (event) => {
  let list = document.getElementById("messages");
  if (!list) {
    list = Object.assign(document.createElement("ul"), { id: "messages", className: "messages" });
    list.setAttribute("role", "status");
    document.getElementById("main").prepend(list);
  }
  const { level, text } = event.detail;
  list.replaceChildren(
    Object.assign(document.createElement("li"), { className: `message message--${level}`, textContent: text }),
  );
});

// A dialog sent with data-autoshow opens as a modal once it is in the page.
htmx.onLoad((content) => {
  const dialogs = content.matches("dialog[data-autoshow]") ? [content] : content.querySelectorAll("dialog[data-autoshow]");
  for (const dialog of dialogs) {
    if (!dialog.open) dialog.showModal();
  }
});
