// SDK-HMAC-SHA256 request signing in the browser, as the official SDKs sign
// (shared/api/SIGNING.md): canonical request over the method, the path with
// a trailing "/", the sorted query, the signed headers and the SHA-256 of the
// body; the secret key is imported once as a non-extractable WebCrypto HMAC
// key, so no script can read it back, and is forgotten on sign-out.

const enc = new TextEncoder();

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

async function sha256Hex(bytes) {
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

// Percent-encoding keeping only A-Z a-z 0-9 - _ . ~ (UTF-8, upper-case hex).
function encode(s) {
  return Array.from(enc.encode(s), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
}

function canonicalUri(path) {
  const p = decodeURIComponent(path).split("/").map(encode).join("/");
  return p.endsWith("/") ? p : `${p}/`;
}

function canonicalQuery(params) {
  return [...params.entries()]
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1))
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join("&");
}

// The UTC time as YYYYMMDDTHHMMSSZ.
function sdkDate(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export async function importSecret(sk) {
  return crypto.subtle.importKey("raw", enc.encode(sk), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

// Adds X-Sdk-Date and Authorization to `headers` (names lower-case) for a
// request to `url` with `body` (a string or undefined).
export async function sign({ ak, key }, method, url, headers, body) {
  headers["x-sdk-date"] = sdkDate(new Date());
  const names = Object.keys(headers).map((n) => n.toLowerCase()).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join("");
  const signed = names.join(";");
  const canonical = [
    method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.searchParams),
    canonicalHeaders,
    signed,
    await sha256Hex(enc.encode(body || "")),
  ].join("\n");
  const toSign = `SDK-HMAC-SHA256\n${headers["x-sdk-date"]}\n${await sha256Hex(enc.encode(canonical))}`;
  const signature = hex(await crypto.subtle.sign("HMAC", key, enc.encode(toSign)));
  headers.authorization = `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${signed}, Signature=${signature}`;
}
