// The console's only way to the server: dewstack's public API, with the
// X-Auth-Token of a password sign-in, or every request signed with an AK/SK
// (sign.js). The token or the secret key lives in this module's memory only
// (never localStorage or a cookie), so closing or reloading the tab signs out.
import { importSecret, sign } from "./sign.js";

let session = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.msg = message;
  }
}

// Each service has its own envelope: KMS/VPCEP nest it under "error", CSMS is
// flat, Keystone uses code/message. One reader for all of them.
function errorOf(status, body) {
  const outer = body && typeof body === "object" ? body : {};
  const inner = outer.error && typeof outer.error === "object" ? outer.error : outer;
  const code = inner.error_code || inner.code || outer.error_code || `HTTP ${status}`;
  const msg = inner.error_msg || inner.message || outer.error_msg || outer.message || "request failed";
  return new ApiError(status, String(code), String(msg));
}

async function send(method, path, { body, query, token, keys, projectId } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = { accept: "application/json" };
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (text !== undefined) headers["content-type"] = "application/json";
  if (token) headers["x-auth-token"] = token;
  if (keys) {
    if (projectId) headers["x-project-id"] = projectId;
    await sign(keys, method, url, headers, text);
  }
  const resp = await fetch(url, {
    method,
    headers,
    body: text,
    credentials: "omit",
    cache: "no-store",
  });
  const answer = await resp.text();
  let data = null;
  try {
    data = answer ? JSON.parse(answer) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) throw errorOf(resp.status, data);
  return { data: data || {}, headers: resp.headers };
}

const PROJECT_ID = /^[0-9a-f]{32}$/;

export async function signIn({ domain, user, password, project }) {
  const scope = PROJECT_ID.test(project) ? { id: project } : { name: project, domain: { name: domain } };
  const body = {
    auth: {
      identity: { methods: ["password"], password: { user: { name: user, password, domain: { name: domain } } } },
      scope: { project: scope },
    },
  };
  const { data, headers } = await send("POST", "/v3/auth/tokens", { body });
  const token = headers.get("X-Subject-Token");
  if (!token) throw new ApiError(0, "console", "the sign-in answer carried no X-Subject-Token");
  session = { token, project: data.token.project, user: data.token.user };
  return session;
}

// Signs in with an access key: nothing is exchanged, every later request is
// signed. A project given by name is looked up as the SDKs do
// (GET /v3/projects?name=…).
export async function signInWithKey({ ak, sk, project }) {
  const keys = { ak: ak.trim(), key: await importSecret(sk.trim()) };
  let proj = { id: project, name: project };
  if (!PROJECT_ID.test(project)) {
    const { data } = await send("GET", "/v3/projects", { query: { name: project }, keys });
    const found = (data.projects || [])[0];
    if (!found) throw new ApiError(404, "console", `no project named ${project} for this access key`);
    proj = { id: found.id, name: found.name };
  }
  session = { keys, project: proj, user: { name: keys.ak, domain: { name: "access key" } } };
  return session;
}

export function signOut() {
  session = null;
}

export function current() {
  return session;
}

// `path` may hold "{project_id}", filled from the signed-in project.
export async function call(method, path, opts = {}) {
  if (!session) throw new ApiError(401, "console", "not signed in");
  const p = path.replace("{project_id}", encodeURIComponent(session.project.id));
  const auth = session.keys ? { keys: session.keys, projectId: session.project.id } : { token: session.token };
  const { data } = await send(method, p, { ...opts, ...auth });
  return data;
}
