// The audit trail: dewstack's CTS-shaped records of this project (ListTraces),
// newest first, filterable by operation, resource and rating, paged by the
// trace id the API hands back as its marker.
import { call } from "./api.js";
import { h, form, table, markerPager, time } from "./ui.js";

const PAGE = 50;

export function trailView(root) {
  let filter = {};
  const list = h("div", { class: "list" });
  const pager = markerPager(async (marker) => {
    const r = await call("GET", "/v3/{project_id}/traces", {
      query: { ...filter, limit: PAGE, next: marker, from: Date.now() - 7 * 24 * 3600 * 1000, to: Date.now() + 60000 },
    });
    return { rows: r.traces || [], next: (r.meta_data && r.meta_data.marker) || null };
  }, (rows) => list.replaceChildren(table("Audit records (last 7 days)", [
    ["Time", (t) => time(t.time)],
    ["Operation", (t) => t.trace_name],
    ["Resource", (t) => [t.resource_type, t.resource_name || t.resource_id].filter(Boolean).join(" ")],
    ["User", (t) => (t.user && (t.user.name || t.user.access_key_id)) || ""],
    ["Source", (t) => t.source_ip || ""],
    ["Status", (t) => `${t.code} ${t.trace_rating}`],
  ], rows)));
  const search = form("Filter", [
    { name: "trace_name", label: "Operation (e.g. EncryptData)" },
    { name: "resource_id", label: "Resource id" },
    { name: "trace_rating", label: "Rating", options: [["", "any"], "normal", "warning", "incident"] },
  ], "Apply", async (values) => {
    filter = Object.fromEntries(Object.entries(values).filter(([, v]) => v));
    await pager.reset();
  });
  root.append(h("h2", {}, "Audit trail"), search, list, pager.nav);
  pager.show();
}
