// VPCEP: endpoint services (connections: accept/reject, descriptions;
// permissions) and endpoints with their status. Offset-paged, like the API.
import { call } from "./api.js";
import { h, run, form, button, table, offsetPager, detailsPanel, notice } from "./ui.js";

const PAGE = 20;
const servicePath = (id) => `/v1/{project_id}/vpc-endpoint-services/${encodeURIComponent(id)}`;

export function vpcepView(root) {
  const services = h("div", { class: "list" });
  const panel = h("div", { class: "detail" });
  const svcPager = offsetPager(PAGE, async (offset, limit) => {
    const r = await call("GET", "/v1/{project_id}/vpc-endpoint-services", { query: { offset, limit } });
    return { rows: r.endpoint_services || [], total: r.total_count || 0 };
  }, (rows) => services.replaceChildren(table("Endpoint services", [
    ["Name", (s) => button(s.service_name || s.id, () => openService(s, panel, changed), { class: "link" })],
    ["Status", (s) => s.status],
    ["Type", (s) => `${s.service_type} / ${s.server_type}`],
    ["Approval", (s) => (s.approval_enabled ? "required" : "automatic")],
    ["Connections", (s) => s.connection_count],
  ], rows)));

  const endpoints = h("div", { class: "list" });
  const epPager = offsetPager(PAGE, async (offset, limit) => {
    const r = await call("GET", "/v1/{project_id}/vpc-endpoints", { query: { offset, limit } });
    return { rows: r.endpoints || [], total: r.total_count || 0 };
  }, (rows) => endpoints.replaceChildren(table("Endpoints", [
    ["Id", (e) => e.id],
    ["Service", (e) => e.endpoint_service_name],
    ["Status", (e) => e.status],
    ["IP", (e) => e.ip],
    ["Marker", (e) => e.marker_id],
    ["Description", (e) => e.description],
  ], rows)));

  // Accepting or rejecting a connection changes the service's connection
  // count and the endpoint's status: both lists are read again.
  const changed = () => { svcPager.show(); epPager.show(); };
  root.append(h("h2", {}, "VPC endpoint services"), services, svcPager.nav, panel,
    h("h2", {}, "VPC endpoints"), endpoints, epPager.nav);
  svcPager.show();
  epPager.show();
}

async function openService(s, panel, changed) {
  const connections = h("div", { class: "part" });
  const permissions = h("div", { class: "part" });
  panel.replaceChildren(detailsPanel(`Service ${s.service_name || s.id}`,
    h("p", {}, `Id ${s.id}`), connections, permissions));
  await connectionsPart(s.id, connections, changed);
  await permissionsPart(s.id, permissions);
  panel.querySelector("h3").setAttribute("tabindex", "-1");
  panel.querySelector("h3").focus();
}

async function connectionsPart(serviceId, box, changed) {
  const list = h("div");
  const path = `${servicePath(serviceId)}/connections`;
  const act = async (action, c) => {
    const r = await run(() => call("POST", `${path}/action`, { body: { action, endpoints: [c.id] } }));
    if (r.ok) { notice(`Connection ${c.id} ${action === "receive" ? "accepted" : "rejected"}.`); pager.show(); changed(); }
  };
  const pager = offsetPager(PAGE, async (offset, limit) => {
    const r = await call("GET", path, { query: { offset, limit } });
    return { rows: r.connections || [], total: r.total_count || 0 };
  }, (rows) => list.replaceChildren(table("Connections", [
    ["Endpoint", (c) => c.id],
    ["Status", (c) => c.status],
    ["Domain", (c) => c.domain_id],
    ["Description", (c) => c.description],
    ["", (c) => h("span", { class: "actions" },
      c.status !== "accepted" && button("Accept", () => act("receive", c), { "aria-label": `Accept ${c.id}` }),
      c.status !== "rejected" && button("Reject", () => act("reject", c), { "aria-label": `Reject ${c.id}` }))],
  ], rows)));
  const describe = form("Connection description", [
    { name: "id", label: "Endpoint id", required: true },
    { name: "description", label: "Description" },
  ], "Save description", async (v) => {
    const r = await run(() => call("PUT", `${path}/description`, { body: { connections: [v] } }));
    if (r.ok) { notice("Description saved."); pager.show(); }
  });
  box.replaceChildren(list, pager.nav, describe);
  await pager.show();
}

async function permissionsPart(serviceId, box) {
  const list = h("div");
  const path = `${servicePath(serviceId)}/permissions`;
  const change = async (action, permission) => {
    const body = { action, permissions: [permission], permission_type: "domainId" };
    const r = await run(() => call("POST", `${path}/action`, { body }));
    if (r.ok) { notice(`Permission ${action === "add" ? "added" : "removed"}.`); pager.show(); }
  };
  const pager = offsetPager(PAGE, async (offset, limit) => {
    const r = await call("GET", path, { query: { offset, limit } });
    return { rows: r.permissions || [], total: r.total_count || 0 };
  }, (rows) => list.replaceChildren(table("Permissions", [
    ["Permission", (p) => p.permission],
    ["Type", (p) => p.permission_type],
    ["Description", (p) => p.description],
    ["", (p) => button("Remove", () => change("remove", p.permission), { "aria-label": `Remove ${p.permission}` })],
  ], rows)));
  const add = form("Add permission", [
    { name: "permission", label: "Permission (iam:domain::<domain id>, or *)", required: true },
  ], "Add permission", (v) => change("add", v.permission));
  box.replaceChildren(list, pager.nav, add);
  await pager.show();
}
