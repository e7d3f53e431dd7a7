// The console's only way to the server: dewstack's public API, with the
// X-Auth-Token of a password sign-in. The token lives in this module's memory
// only (never localStorage or a cookie), so closing or reloading the tab signs out.

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

async function send(method, path, { body, query, token } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["X-Auth-Token"] = token;
  const resp = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
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
  const { data } = await send(method, p, { ...opts, token: session.token });
  return data;
}
