// Start-up, sign-in/out and the hash router (#kms, #csms, #vpcep).
import * as api from "./api.js";
import { run, clearError, notice } from "./ui.js";
import { kmsView } from "./kms.js";
import { csmsView } from "./csms.js";
import { vpcepView } from "./vpcep.js";
import { trailView } from "./trail.js";

const views = { kms: kmsView, csms: csmsView, vpcep: vpcepView, trail: trailView };
const $ = (id) => document.getElementById(id);

function route() {
  if (!api.current()) return;
  const name = window.location.hash.slice(1) || "kms";
  const view = views[name] || views.kms;
  for (const a of $("nav").querySelectorAll("a")) {
    if (a.getAttribute("href") === `#${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  clearError();
  const section = $("view");
  section.replaceChildren();
  view(section);
}

function showSignedIn(session) {
  $("sign-in").hidden = true;
  $("key-sign-in").hidden = true;
  $("nav").hidden = false;
  $("who").hidden = false;
  $("view").hidden = false;
  $("who-name").textContent = `${session.user.name} @ ${session.user.domain.name} / ${session.project.name}`;
  route();
}

function showSignedOut() {
  api.signOut();
  $("view").replaceChildren();
  $("view").hidden = true;
  $("nav").hidden = true;
  $("who").hidden = true;
  $("key-sign-in").hidden = false;
  $("key-sign-in").elements.sk.value = "";
  const f = $("sign-in");
  f.hidden = false;
  f.elements.password.value = "";
  clearError();
  notice("Signed out.");
  f.elements.domain.focus();
}

$("sign-in").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const creds = Object.fromEntries(new FormData(f).entries());
  const res = await run(() => api.signIn(creds));
  f.elements.password.value = "";
  if (res.ok) {
    notice("");
    showSignedIn(res.value);
  }
});
$("key-sign-in").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const creds = Object.fromEntries(new FormData(f).entries());
  f.elements.sk.value = "";
  const res = await run(() => api.signInWithKey(creds));
  if (res.ok) {
    notice("");
    showSignedIn(res.value);
  }
});
$("sign-out").addEventListener("click", showSignedOut);
window.addEventListener("hashchange", route);
$("si-domain").focus();
