// CSMS: secrets (pages, create) and one secret's panel (versions, stages,
// reveal on click, schedule deletion, restore); events and notification records.
import { call } from "./api.js";
import { h, run, form, button, table, markerPager, time, detailsPanel, notice } from "./ui.js";

const PAGE = 20;
const enc = encodeURIComponent;
const secretPath = (name) => `/v1/{project_id}/secrets/${enc(name)}`;

export function csmsView(root) {
  const list = h("div", { class: "list" });
  const panel = h("div", { class: "detail" });
  const pager = markerPager(async (marker) => {
    const r = await call("GET", "/v1/{project_id}/secrets", { query: { limit: PAGE, marker } });
    return { rows: r.secrets || [], next: (r.page_info || {}).next_marker };
  }, (rows) => list.replaceChildren(table("Secrets", [
    ["Name", (s) => button(s.name, () => openSecret(s.name, panel, pager), { class: "link" })],
    ["State", (s) => s.state],
    ["Type", (s) => s.secret_type],
    ["Description", (s) => s.description],
    ["Deletion", (s) => time(s.scheduled_delete_time)],
    ["Updated", (s) => time(s.update_time)],
  ], rows)));

  const create = form("Create secret", [
    { name: "name", label: "Name", required: true },
    { name: "secret_string", label: "Value", type: "textarea", required: true },
    { name: "description", label: "Description" },
    { name: "kms_key_id", label: "KMS key id (empty: csms/default)" },
  ], "Create secret", async (v, f) => {
    const body = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== ""));
    const res = await run(() => call("POST", "/v1/{project_id}/secrets", { body }));
    if (res.ok) {
      notice(`Secret ${v.name} created.`);
      f.reset();
      await pager.reset();
      openSecret(v.name, panel, pager);
    }
  });

  const events = h("div", { class: "part" });
  root.append(h("h2", {}, "CSMS secrets"), h("div", { class: "forms" }, create), list, pager.nav, panel,
    h("h2", {}, "Events and notifications"), events);
  pager.show();
  eventsPart(events);
}

async function openSecret(name, panel, pager) {
  const res = await run(() => call("GET", secretPath(name)));
  if (!res.ok) return;
  const s = res.value.secret;
  const refresh = async () => { await pager.show(); await openSecret(name, panel, pager); };
  const pending = s.state === "PENDING_DELETE";
  const lifecycle = pending
    ? h("div", { class: "actions" }, button("Restore secret", async () => {
      const r = await run(() => call("POST", `${secretPath(name)}/scheduled-deleted-tasks/cancel`));
      if (r.ok) { notice("Secret restored."); await refresh(); }
    }))
    : form("Schedule deletion", [{ name: "recovery_window_in_days", label: "Recovery window (7 to 30 days)",
      type: "number", min: 7, max: 30, value: "30", required: true }], "Schedule deletion", async (v) => {
      const body = { recovery_window_in_days: Number(v.recovery_window_in_days) };
      const r = await run(() => call("POST", `${secretPath(name)}/scheduled-deleted-tasks/create`, { body }));
      if (r.ok) { notice("Deletion scheduled."); await refresh(); }
    });
  const versions = h("div", { class: "part" });
  const addVersion = !pending && form("Add version", [
    { name: "secret_string", label: "New value", type: "textarea", required: true },
    { name: "version_stages", label: "Stages (comma separated; empty: SYSCURRENT)" },
  ], "Add version", async (v, f) => {
    const body = { secret_string: v.secret_string };
    const stages = v.version_stages.split(",").map((x) => x.trim()).filter(Boolean);
    if (stages.length) body.version_stages = stages;
    const r = await run(() => call("POST", `${secretPath(name)}/versions`, { body }));
    if (r.ok) { notice(`Version ${r.value.version_metadata.id} added.`); f.reset(); await refresh(); }
  });
  const moveStage = !pending && form("Move a stage", [
    { name: "stage", label: "Stage name", value: "SYSCURRENT", required: true },
    { name: "version_id", label: "To version id", required: true },
  ], "Move stage", async (v) => {
    const body = { version_id: v.version_id };
    const r = await run(() => call("PUT", `${secretPath(name)}/stages/${enc(v.stage)}`, { body }));
    if (r.ok) { notice(`Stage ${v.stage} moved.`); await refresh(); }
  });
  panel.replaceChildren(detailsPanel(`Secret ${s.name}`,
    h("dl", { class: "facts" },
      fact("Id", s.id), fact("State", s.state), fact("Type", s.secret_type), fact("KMS key", s.kms_key_id),
      fact("Description", s.description), fact("Created", time(s.create_time)),
      pending && fact("Deletion date", time(s.scheduled_delete_time))),
    h("div", { class: "forms" }, lifecycle, addVersion, moveStage), versions));
  await versionsPart(name, versions);
  panel.querySelector("h3").setAttribute("tabindex", "-1");
  panel.querySelector("h3").focus();
}

function fact(name, value) {
  return [h("dt", {}, name), h("dd", {}, value || "")];
}

async function versionsPart(name, box) {
  const list = h("div");
  const pager = markerPager(async (marker) => {
    const r = await call("GET", `${secretPath(name)}/versions`, { query: { limit: PAGE, marker } });
    return { rows: r.version_metadatas || [], next: (r.page_info || {}).next_marker };
  }, (rows) => list.replaceChildren(table("Versions", [
    ["Version", (v) => v.id],
    ["Stages", (v) => (v.version_stages || []).join(", ")],
    ["Created", (v) => time(v.create_time)],
    ["Expires", (v) => time(v.expire_time)],
    ["Value", (v) => revealer(name, v.id)],
  ], rows)));
  box.replaceChildren(list, pager.nav);
  await pager.show();
}

// The value is fetched only when asked for, shown until hidden, and dropped
// from the page when hidden.
function revealer(name, versionId) {
  const out = h("output", { class: "secret-value" });
  const label = (verb) => { btn.textContent = verb; btn.setAttribute("aria-label", `${verb} ${versionId}`); };
  const btn = button("Reveal", async () => {
    if (btn.getAttribute("aria-pressed") === "true") {
      out.value = "";
      label("Reveal");
      btn.setAttribute("aria-pressed", "false");
      return;
    }
    const r = await run(() => call("GET", `${secretPath(name)}/versions/${enc(versionId)}`));
    if (!r.ok) return;
    const v = r.value.version;
    out.value = v.secret_string !== undefined && v.secret_string !== null ? v.secret_string : `(binary) ${v.secret_binary || ""}`;
    label("Hide");
    btn.setAttribute("aria-pressed", "true");
  }, { "aria-pressed": "false", "aria-label": `Reveal ${versionId}` });
  return h("span", {}, btn, " ", out);
}

async function eventsPart(box) {
  const evList = h("div");
  const recList = h("div");
  const evPager = markerPager(async (marker) => {
    const r = await call("GET", "/v1/{project_id}/csms/events", { query: { limit: PAGE, marker } });
    return { rows: r.events || [], next: (r.page_info || {}).next_marker };
  }, (rows) => evList.replaceChildren(table("Events", [
    ["Name", (e) => e.name],
    ["Types", (e) => (e.event_types || []).join(", ")],
    ["State", (e) => e.state],
    ["Target", (e) => (e.notification ? `${e.notification.target_type} ${e.notification.target_name}` : "")],
  ], rows)));
  // ListNotificationRecords takes no paging parameters; the server bounds
  // the records it keeps, and the pager follows a next_marker if one comes.
  const recPager = markerPager(async (marker) => {
    const r = await call("GET", "/v1/{project_id}/csms/notification-records", { query: { marker } });
    return { rows: r.records || [], next: (r.page_info || {}).next_marker };
  }, (rows) => recList.replaceChildren(table("Notification records", [
    ["Event", (r) => r.event_name],
    ["Trigger", (r) => r.trigger_event_type],
    ["Secret", (r) => r.secret_name],
    ["Target", (r) => r.notification_target_name],
    ["Status", (r) => r.notification_status],
    ["Time", (r) => time(r.create_time)],
  ], rows)));
  box.replaceChildren(evList, evPager.nav, recList, recPager.nav);
  await evPager.show();
  await recPager.show();
}
