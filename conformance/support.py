"""Shared helpers for the dewstack conformance suite.

Everything here is independent of the Huawei SDK internals on purpose:

* ``sign_request`` re-implements SDK-HMAC-SHA256 from /work/shared/api/SIGNING.md so that
  tests can build requests the SDK would never send (tampered method/path/query/body,
  skewed dates, missing signed headers, ...). ``test_signing_vectors.py`` checks it against
  the worked examples produced by the SDK's own signer.
* ``DewstackServer`` starts/stops/restarts the binary under test.
* ``expect_kms_error`` asserts status code + error code of ClientRequestException.
* ``SECRETS`` registers every secret the suite's traffic carries (SDK calls, ``send_raw``,
  generated SKs and passwords, banners, root keys); conftest.py greps every audit trail
  for them at the end of the session.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as _dt
import hashlib
import hmac
import http.client
import json
import os
import random
import secrets
import signal
import string
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION = os.environ.get("DEWSTACK_TEST_REGION", "cn-north-4")

UUID_RE = r"^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# ---------------------------------------------------------------------------------------
# Real error codes, from docs/error-codes.md (section 1 "KMS", section 4 "API gateway").
# Where the document leaves a choice open (two rows could apply), tests pass a tuple.
# ---------------------------------------------------------------------------------------
KMS_INTERNAL = "KMS.0101"
KMS_INVALID_URL = "KMS.0201"        # 400, malformed or unknown URL
KMS_MISSING_PARAM = "KMS.0204"       # required field missing
KMS_INVALID_KEY_ID = "KMS.0205"      # key_id does not match the UUID regex
KMS_NOT_FOUND = "KMS.0207"           # 404, key does not exist
KMS_KEY_DISABLED = "KMS.0209"
KMS_KEY_PENDING_DELETION = "KMS.0210"
KMS_DEFAULT_KEY = "KMS.0211"         # operation refused on a default key (alias */default)
KMS_INVALID_PARAM = "KMS.0308"       # generic invalid field value
KMS_TOKEN_PROJECT_MISMATCH = "KMS.0321"  # 403, project in URI != credential's project
KMS_TAGS_EMPTY = "KMS.0401"
KMS_TAG_ACTION = "KMS.0404"
KMS_TAG_VALUE_INVALID = "KMS.0405"
KMS_TAG_KEY_INVALID = "KMS.0406"
KMS_TAG_LIMIT = "KMS.0409"
KMS_TAG_VALUE_LEN = "KMS.0410"
KMS_TAG_KEY_LEN = "KMS.0411"
KMS_TAG_NOT_FOUND = "KMS.0416"       # 404
KMS_OFFSET_INVALID = "KMS.0417"
KMS_INVALID_ALIAS = "KMS.1101"
KMS_INVALID_DESCRIPTION = "KMS.1103"
KMS_ALIAS_EXISTS = "KMS.1104"
KMS_NOT_DISABLED = "KMS.1201"        # enable-key on a key that is not disabled
KMS_NOT_ENABLED = "KMS.1301"         # disable-key on a key that is not enabled
KMS_PENDING_DAYS = "KMS.1401"        # pending_days outside 7..1096
KMS_ALREADY_PENDING = "KMS.1402"
KMS_NOT_PENDING = "KMS.1501"         # cancel-key-deletion on a key not pending deletion
KMS_LIMIT_RANGE = "KMS.1601"
KMS_MARKER_INVALID = "KMS.1602"
APIGW_AUTH = "APIGW.0301"            # 401 from the gateway: bad signature/unknown AK/bad token/skew


def expect_kms_error(fn: Callable, status: int, code=None, prefix: Optional[str] = "KMS."):
    """Call ``fn`` and assert it raises the SDK's ClientRequestException with ``status``.

    ``code``: exact error code (str), a tuple of acceptable codes, or None; when None only
    ``prefix`` is checked (TODO markers in the tests say which doc row is missing).
    Returns the exception for further checks.
    """
    from huaweicloudsdkcore.exceptions import exceptions as sdk_exc

    try:
        result = fn()
    except sdk_exc.ClientRequestException as e:  # 4xx
        detail = f"(error_code={e.error_code!r}, error_msg={e.error_msg!r})"
        assert e.status_code == status, f"expected HTTP {status}, got {e.status_code} {detail}"
        assert isinstance(e.error_code, str) and e.error_code, f"empty error_code {detail}"
        if code is not None:
            allowed = (code,) if isinstance(code, str) else tuple(code)
            assert e.error_code in allowed, f"expected error_code in {allowed} {detail}"
        elif prefix:
            assert e.error_code.startswith(prefix), f"expected error_code starting {prefix!r} {detail}"
        assert e.error_msg, f"error_msg must be non-empty {detail}"
        return e
    except sdk_exc.ServerResponseException as e:  # 5xx
        raise AssertionError(
            f"expected HTTP {status}, got server error {e.status_code} {e.error_code} {e.error_msg}"
        )
    raise AssertionError(f"expected HTTP {status} error, call succeeded: {result}")


def error_code_of(body: bytes) -> Optional[str]:
    """error_code from a raw error body, flat or wrapped in {"error": {...}} (SDK rules)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    for obj in (data, data.get("error") if isinstance(data.get("error"), dict) else {}):
        for k in ("error_code", "errorCode", "code"):
            if isinstance(obj.get(k), str) and obj.get(k):
                return obj[k]
    return None


# ---------------------------------------------------------------------------------------
# Secrets the suite used, for the end-of-run grep of the audit trails (conftest.py)
# ---------------------------------------------------------------------------------------
# Values shorter than this are not registered: tests reuse short literals ("value-1",
# "hello dewstack", "in the token") that may rightly appear in a record's allow-listed
# fields or error messages (a tag value, a description, "… value in the token."), while
# a generated secret is longer and a chance match of 16 characters is practically
# impossible. A short literal still counts through its longer spellings (base64, hex).
MIN_SECRET_LEN = 16
# ... and neither are values of fewer distinct characters (base64 of zero bytes,
# "0000…"), which are common, not secret.
MIN_SECRET_DISTINCT = 4

# Wire field names whose string values are secrets, at any depth of a JSON body. A request
# carries plaintexts (encrypted, signed, MACed), secret values, passwords, PINs, imported
# (wrapped) key material and tokens; a response carries plaintexts, data keys, private
# keys, shared secrets, random data, generated passwords and temporary credentials.
# `message` and `password` are request-only: error envelopes answer with a `message`, and
# user objects with `password_*` fields.
REQUEST_SECRET_FIELDS = frozenset({
    "plain_text", "plain_text_base64", "message", "secret_string", "secret_binary",
    "password", "old_password", "pin", "encrypted_key_material", "encrypted_privatekey",
    "import_token",
})
RESPONSE_SECRET_FIELDS = frozenset({
    "plain_text", "plain_text_base64", "data_key", "datakey", "private_key",
    "private_key_plain_text", "shared_secret", "random_data", "pin", "import_token",
    "password", "random_password", "secret_string", "secret_binary", "secret",
    "securitytoken",
})
SECRET_HEADERS = ("x-auth-token", "x-subject-token", "x-security-token")


def _hexlike(v: str) -> bool:
    return len(v) % 2 == 0 and all(c in string.hexdigits for c in v)


class SecretRegistry:
    """Every secret value seen, each with a short description of its kind (what a report
    names instead of the value itself)."""

    def __init__(self):
        self._kind: Dict[str, str] = {}     # every spelling searched for -> its kind
        self._sources: Dict[str, str] = {}  # every value registered -> its kind

    def __len__(self) -> int:
        """Values registered (each counted once, whatever its spellings)."""
        return len(self._sources)

    def __contains__(self, spelling) -> bool:
        return spelling in self._kind

    def _keep(self, spelling: str, source: str, kind: str, how: str = ""):
        if len(spelling) >= MIN_SECRET_LEN and len(set(spelling)) >= MIN_SECRET_DISTINCT:
            self._kind.setdefault(spelling, kind + how)
            self._sources.setdefault(source, kind)

    def add(self, value, kind: str):
        """``value`` and the spellings a server could turn it into: its base64, the other
        case of a hex string, and what a base64 string decodes to (hex, or text)."""
        if isinstance(value, bytes):
            return self.add_bytes(value, kind)
        if not isinstance(value, str) or not value:
            return
        keep = lambda spelling, how="": self._keep(spelling, value, kind, how)  # noqa: E731
        keep(value)
        keep(base64.b64encode(value.encode()).decode(), " (base64)")
        if _hexlike(value):
            keep(value.lower())
            keep(value.upper())
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return
        keep(raw.hex(), " (decoded, hex)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return
        if text.isprintable():
            keep(text, " (decoded)")

    def add_bytes(self, data: bytes, kind: str):
        """Raw bytes (key material): as hex (either case) and base64."""
        if data:
            for spelling in (data.hex(), data.hex().upper(), base64.b64encode(data).decode()):
                self._keep(spelling, data.hex(), kind)

    def kinds(self) -> Dict[str, int]:
        """How many values of each kind."""
        out: Dict[str, int] = {}
        for k in self._sources.values():
            out[k] = out.get(k, 0) + 1
        return out

    def spellings(self) -> int:
        return len(self._kind)

    def note_json(self, body, fields, where: str):
        """Registers the string values of ``fields`` anywhere in a JSON body (bytes, str
        or parsed); anything that is not JSON is ignored."""
        if isinstance(body, (bytes, bytearray)):
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                return
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                return
        stack = [(None, body)]
        while stack:
            parent, node = stack.pop()
            if isinstance(node, dict):
                for k, v in node.items():
                    # A token sent as {"token": {"id": …}} (Keystone's token method).
                    token_id = fields is REQUEST_SECRET_FIELDS and parent == "token" and k == "id"
                    if isinstance(v, str) and (k in fields or token_id):
                        self.add(v, f"{k} in a {where}")
                    elif isinstance(v, (dict, list)):
                        stack.append((k, v))
            elif isinstance(node, list):
                stack.extend((parent, v) for v in node)

    def note_headers(self, headers, where: str):
        for k, v in (headers or {}).items():
            name = k.lower() if isinstance(k, str) else ""
            if isinstance(v, bytes):
                v = v.decode("latin-1")
            if not isinstance(v, str):
                continue
            if name in SECRET_HEADERS:
                self.add(v, f"{name} in a {where}")
            elif name == "authorization" and v.startswith("Bearer "):
                self.add(v[len("Bearer "):], f"a bearer token in a {where}")

    def note_request(self, headers, body):
        self.note_headers(headers, "request")
        self.note_json(body, REQUEST_SECRET_FIELDS, "request")

    def note_response(self, headers, body):
        self.note_headers(headers, "response")
        self.note_json(body, RESPONSE_SECRET_FIELDS, "response")

    def find_in(self, paths: Iterable[Path]) -> List[Tuple[str, int, str, str]]:
        """Every line of ``paths`` (JSON-lines trails) holding a registered value:
        [(file name, line number, the record's trace_name, the value's kind)] — never the
        value. A value is searched as is and JSON-escaped once and twice (a record's
        `request`/`response` are JSON strings inside the JSON line), with GNU grep's
        many-pattern fixed-string search."""
        paths = [str(p) for p in paths]
        forms: Dict[str, str] = {}
        for value, kind in self._kind.items():
            once = json.dumps(value)[1:-1]
            for form in (value, once, json.dumps(value, ensure_ascii=False)[1:-1],
                         json.dumps(once)[1:-1]):
                # A line of the pattern file is one pattern; a trail line has no raw newline.
                if "\n" not in form and "\r" not in form:
                    forms.setdefault(form, kind)
        if not paths or not forms:
            return []
        with tempfile.NamedTemporaryFile("wb", suffix=".patterns") as pat:
            pat.write("\n".join(forms).encode("utf-8") + b"\n")
            pat.flush()
            run = subprocess.run(["grep", "-F", "-a", "-o", "-n", "-H", "--null", "-f", pat.name,
                                  "--", *paths], capture_output=True, env={**os.environ, "LC_ALL": "C"})
        if run.returncode == 1:
            return []
        if run.returncode != 0:
            raise RuntimeError(f"grep failed ({run.returncode}): {run.stderr.decode(errors='replace')}")
        hits: Dict[Tuple[str, int], str] = {}
        for line in run.stdout.split(b"\n"):
            if not line:
                continue
            path, rest = line.split(b"\0", 1)
            number, match = rest.split(b":", 1)
            hits.setdefault((path.decode(), int(number)), forms.get(match.decode("utf-8", "replace"), "?"))
        out = []
        lines_of: Dict[str, List[str]] = {}
        for (path, number), kind in sorted(hits.items()):
            lines = lines_of.setdefault(path, Path(path).read_text(errors="replace").splitlines())
            try:
                trace_name = json.loads(lines[number - 1]).get("trace_name", "?")
            except (ValueError, IndexError, AttributeError):
                trace_name = "(not a JSON record)"
            out.append((Path(path).name, number, trace_name, kind))
        return out


SECRETS = SecretRegistry()


def trail_files(trail: Path) -> List[Path]:
    """The trail file and its rotated predecessors (trail.jsonl.1, .2, …) that exist."""
    out = [trail] if trail.exists() else []
    out += sorted(trail.parent.glob(trail.name + ".*"), key=lambda p: p.name)
    return [p for p in out if p.name == trail.name or p.name[len(trail.name) + 1:].isdigit()]


def capture_sdk_traffic():
    """Registers the secrets in every request the official Python SDKs send and in every
    response they get (plaintexts, secret values, data keys, tokens …), so that tests need
    not register what they pass through the SDK."""
    from huaweicloudsdkcore.http.http_client import HttpClient

    original = HttpClient.do_request_sync
    if getattr(original, "dewstack_captures", False):
        return

    def do_request_sync(self, request):
        SECRETS.note_request(request.header_params, request.body)
        response = original(self, request)
        if not request.stream:
            SECRETS.note_response(response.headers, response.content)
        return response

    do_request_sync.dewstack_captures = True
    HttpClient.do_request_sync = do_request_sync


# ---------------------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------------------
def gen_ak() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))


def gen_sk() -> str:
    alphabet = string.ascii_letters + string.digits
    sk = "".join(secrets.choice(alphabet) for _ in range(40))
    SECRETS.add(sk, "a secret key (SK)")
    return sk


def gen_hex32() -> str:
    return uuid.uuid4().hex


@dataclasses.dataclass
class Identity:
    ak: str
    sk: str
    domain_id: str
    project_id: str
    user: str
    password: str
    domain_name: Optional[str] = None
    project_name: str = REGION


def new_identity(domain_name: Optional[str] = None, user: str = "admin") -> Identity:
    password = "Pw-" + secrets.token_urlsafe(12)
    SECRETS.add(password, "a user's password")
    return Identity(
        ak=gen_ak(),
        sk=gen_sk(),
        domain_id=gen_hex32(),
        project_id=gen_hex32(),
        user=user,
        password=password,
        domain_name=domain_name,
    )


def config_toml(tenants: Iterable[Identity], extra_projects: Optional[Dict[str, List[Tuple[str, str]]]] = None) -> str:
    """TOML config declaring ``tenants`` (one domain each). ``extra_projects`` maps a
    domain id to more (project_id, project_name) pairs for that domain."""
    extra_projects = extra_projects or {}
    out: List[str] = []
    for t in tenants:
        out += [
            "[[domains]]",
            f'id = "{t.domain_id}"',
            f'name = "{t.domain_name}"',
            "",
            "[[domains.projects]]",
            f'id = "{t.project_id}"',
            f'name = "{t.project_name}"',
            "",
        ]
        for pid, pname in extra_projects.get(t.domain_id, []):
            out += ["[[domains.projects]]", f'id = "{pid}"', f'name = "{pname}"', ""]
        out += [
            "[[domains.users]]",
            f'name = "{t.user}"',
            f'password = "{t.password}"',
            "",
            "[[domains.access_keys]]",
            f'access_key = "{t.ak}"',
            f'secret_key = "{t.sk}"',
            f'user = "{t.user}"',
            "",
        ]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# SDK-HMAC-SHA256 signing (SIGNING.md sections 3 and 4)
# ---------------------------------------------------------------------------------------
def _enc(s: str) -> str:
    # keep only A-Z a-z 0-9 - _ . ~ ; UTF-8, upper-case hex
    return urllib.parse.quote(s, safe="~")


def canonical_uri(raw_path: str) -> str:
    decoded = urllib.parse.unquote(raw_path)
    out = "/".join(_enc(seg) for seg in decoded.split("/"))
    if not out.endswith("/"):
        out += "/"
    return out


def canonical_query(raw_query: str) -> str:
    if not raw_query:
        return ""
    pairs: List[Tuple[str, str]] = []
    for part in raw_query.split("&"):
        if part == "":
            continue
        if "=" in part:
            k, v = part.split("=", 1)
        else:
            k, v = part, ""
        pairs.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    pairs.sort()
    return "&".join(f"{_enc(k)}={_enc(v)}" for k, v in pairs)


def encode_query(params: Dict[str, str]) -> str:
    """Wire query the way the SDK writes it (already canonical)."""
    pairs = sorted((str(k), str(v)) for k, v in params.items())
    return "&".join(f"{_enc(k)}={_enc(v)}" for k, v in pairs)


def sdk_date(t: Optional[_dt.datetime] = None) -> str:
    t = t or _dt.datetime.now(_dt.timezone.utc)
    return t.strftime("%Y%m%dT%H%M%SZ")


def canonical_request(method: str, raw_path: str, raw_query: str, headers: Dict[str, str],
                      body: bytes, signed_headers: List[str]) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    canon_headers = "".join(f"{h}:{lower[h].strip()}\n" for h in signed_headers)
    if not body:
        payload_hash = EMPTY_SHA256
    elif "x-sdk-content-sha256" in lower:
        payload_hash = lower["x-sdk-content-sha256"]
    else:
        payload_hash = hashlib.sha256(body).hexdigest()
    return "\n".join([
        method.upper(),
        canonical_uri(raw_path),
        canonical_query(raw_query),
        canon_headers,
        ";".join(signed_headers),
        payload_hash,
    ])


def default_signed_headers(headers: Dict[str, str]) -> List[str]:
    return sorted({k.lower() for k in headers if "_" not in k})


def sign_request(method: str, raw_path: str, raw_query: str, headers: Dict[str, str], body: bytes,
                 ak: str, sk: str, signed_headers: Optional[List[str]] = None) -> str:
    """Return the Authorization header value for an SDK-HMAC-SHA256 request."""
    signed = signed_headers if signed_headers is not None else default_signed_headers(headers)
    date = {k.lower(): v for k, v in headers.items()}["x-sdk-date"]
    creq = canonical_request(method, raw_path, raw_query, headers, body, signed)
    sts = "SDK-HMAC-SHA256\n" + date + "\n" + hashlib.sha256(creq.encode()).hexdigest()
    sig = hmac.new(sk.encode(), sts.encode(), hashlib.sha256).hexdigest()
    return f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders={';'.join(signed)}, Signature={sig}"


# ---------------------------------------------------------------------------------------
# Raw HTTP
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class RawResponse:
    status: int
    headers: Dict[str, str]  # lower-cased names
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())


@dataclasses.dataclass
class RawRequest:
    method: str
    path: str
    query: str
    headers: Dict[str, str]
    body: bytes


def send_raw(endpoint: str, req: RawRequest, timeout: float = 30) -> RawResponse:
    u = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        target = req.path + (("?" + req.query) if req.query else "")
        conn.putrequest(req.method, target, skip_host=True, skip_accept_encoding=True)
        has_len = False
        for k, v in req.headers.items():
            conn.putheader(k, v.encode("utf-8") if isinstance(v, str) else v)
            if k.lower() == "content-length":
                has_len = True
        if req.body and not has_len:
            conn.putheader("Content-Length", str(len(req.body)))
        elif not req.body and req.method in ("POST", "PUT") and not has_len:
            conn.putheader("Content-Length", "0")
        conn.endheaders(req.body if req.body else None)
        SECRETS.note_request(req.headers, req.body)
        r = conn.getresponse()
        body = r.read()
        headers = {k.lower(): v for k, v in r.getheaders()}
        SECRETS.note_response(headers, body)
        return RawResponse(r.status, headers, body)
    finally:
        conn.close()


def build_signed(endpoint: str, ident: Optional[Identity], method: str, path: str,
                 query: str = "", body=None, *, project_header: Optional[str] = "auto",
                 content_type: Optional[str] = "application/json;charset=utf-8",
                 date: Optional[str] = None, extra_headers: Optional[Dict[str, str]] = None,
                 signed_headers: Optional[List[str]] = None, sign: bool = True) -> RawRequest:
    """Build a request signed exactly like the SDK would (then free to be tampered with).

    ``body`` may be bytes, str or a JSON-able object (serialised like the SDK: json.dumps
    default separators, ASCII escaped).
    """
    if body is None:
        body_bytes = b""
    elif isinstance(body, bytes):
        body_bytes = body
    elif isinstance(body, str):
        body_bytes = body.encode()
    else:
        body_bytes = json.dumps(body).encode()
    netloc = urllib.parse.urlsplit(endpoint).netloc
    headers: Dict[str, str] = {}
    if content_type:
        headers["Content-Type"] = content_type
    headers["Host"] = netloc
    headers["User-Agent"] = "huaweicloud-usdk-python/3.0; dewstack-conformance"
    if ident is not None and project_header:
        headers["X-Project-Id"] = ident.project_id if project_header == "auto" else project_header
    headers["X-Sdk-Date"] = date or sdk_date()
    if extra_headers:
        headers.update(extra_headers)
    if sign and ident is not None:
        headers["Authorization"] = sign_request(method, path, query, headers, body_bytes,
                                                ident.ak, ident.sk, signed_headers)
    return RawRequest(method, path, query, headers, body_bytes)


def set_header(req: RawRequest, name: str, value: Optional[str]):
    for k in list(req.headers):
        if k.lower() == name.lower():
            del req.headers[k]
    if value is not None:
        req.headers[name] = value


# ---------------------------------------------------------------------------------------
# Server process management
# ---------------------------------------------------------------------------------------
def dewstack_bin() -> Path:
    p = os.environ.get("DEWSTACK_BIN")
    if p:
        return Path(p).resolve()
    return REPO_ROOT / "target" / "dist" / "dewstack"


def parse_banner(text: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("export ") and "=" in line:
            k, v = line[len("export "):].split("=", 1)
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            out[k.strip()] = v
    return out


# Every server the session started, so that the end-of-run check (conftest.py) reads the
# trail of each, not only the shared server's.
SERVERS: List["DewstackServer"] = []


class DewstackServer:
    """One dewstack process bound to a data directory; can be restarted on the same dir."""

    def __init__(self, data_dir: Path, log_dir: Path, *, config: Optional[Path] = None,
                 identity_env: Optional[Dict[str, str]] = None, name: str = "server",
                 shared_database: bool = True):
        self.data_dir = Path(data_dir)
        # False: always the embedded database in data_dir, even in the PostgreSQL pass
        # (for tests that need a dewstack with no state of its own yet).
        self.shared_database = shared_database
        self.log_dir = Path(log_dir)
        self.config = config
        self.identity_env = dict(identity_env or {})
        self.name = name
        self.proc: Optional[subprocess.Popen] = None
        self.banner: Dict[str, str] = {}
        self.endpoint: Optional[str] = None
        self.generation = 0
        self.last_exit_code: Optional[int] = None

    # -- lifecycle ------------------------------------------------------------------------
    def _env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DEWSTACK_") and not k.startswith("HUAWEICLOUD_SDK_")}
        # PostgreSQL pass: when DEWSTACK_DATABASE_URL is set for the test run, hand it on.
        if self.shared_database and os.environ.get("DEWSTACK_DATABASE_URL"):
            env["DEWSTACK_DATABASE_URL"] = os.environ["DEWSTACK_DATABASE_URL"]
        env.setdefault("RUST_LOG", "info")
        env.setdefault("RUST_BACKTRACE", "1")
        env.update(self.identity_env)
        return env

    def start(self, timeout: float = 60.0):
        binary = dewstack_bin()
        if not binary.exists():
            raise RuntimeError(
                f"dewstack binary not found at {binary}; run `cargo build --profile dist` or set DEWSTACK_BIN"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self not in SERVERS:
            SERVERS.append(self)
        self.generation += 1
        self.stdout_path = self.log_dir / f"{self.name}-{self.generation}.stdout.log"
        self.stderr_path = self.log_dir / f"{self.name}-{self.generation}.stderr.log"
        args = [str(binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir)]
        if self.config:
            args += ["--config", str(self.config)]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         env=self._env(), cwd=str(self.data_dir))
        deadline = time.monotonic() + timeout
        while True:
            text = self.stdout_path.read_text(errors="replace")
            banner = parse_banner(text)
            if "DEWSTACK_ENDPOINT" in banner:
                break
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"dewstack exited with {self.proc.returncode} before printing its banner\n"
                    f"stdout:\n{text}\nstderr:\n{self.stderr_path.read_text(errors='replace')[-4000:]}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"no DEWSTACK_ENDPOINT line within {timeout}s; stdout:\n{text}")
            time.sleep(0.05)
        # the banner may still be being written: wait for it to settle briefly
        time.sleep(0.1)
        self.banner = parse_banner(self.stdout_path.read_text(errors="replace"))
        self.endpoint = self.banner["DEWSTACK_ENDPOINT"].rstrip("/")
        self._wait_health(deadline)
        self._register_secrets()

    def _register_secrets(self):
        """The generated credentials the banner prints and the root key: no record may
        hold them either."""
        for k, v in self.banner.items():
            if k.endswith(("_SK", "SECRET_KEY", "PASSWORD", "TOKEN")):
                SECRETS.add(v, f"{k} from a banner")
        root_key = self.data_dir / "root.key"
        if root_key.exists():
            SECRETS.add_bytes(root_key.read_bytes(), "the root key")
        stored = self.data_dir / "identity.json"
        if stored.exists():
            ident = json.loads(stored.read_text())
            for k in ("secret_key", "password"):
                SECRETS.add(ident.get(k), f"the stored root identity's {k}")

    def _wait_health(self, deadline: float):
        last = None
        while time.monotonic() < deadline:
            try:
                r = send_raw(self.endpoint, RawRequest("GET", "/health", "",
                                                       {"Host": urllib.parse.urlsplit(self.endpoint).netloc},
                                                       b""), timeout=2)
                if r.status == 200:
                    return
                last = f"HTTP {r.status}"
            except OSError as e:
                last = repr(e)
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"GET /health never returned 200 (last: {last}); stderr:\n"
                           f"{self.stderr_path.read_text(errors='replace')[-4000:]}")

    def stop(self, timeout: float = 20.0) -> Optional[int]:
        if not self.proc:
            return self.last_exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                self.last_exit_code = None  # did not stop gracefully
                self.proc = None
                return None
        self.last_exit_code = self.proc.returncode
        self.proc = None
        return self.last_exit_code

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self):
        code = self.stop()
        self.start()
        return code

    @property
    def netloc(self) -> str:
        return urllib.parse.urlsplit(self.endpoint).netloc

    def stderr_tail(self, n: int = 4000) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-n:]
        except Exception:
            return ""


# ---------------------------------------------------------------------------------------
# SDK client construction
# ---------------------------------------------------------------------------------------
def tls_server(base: Path, name: str) -> DewstackServer:
    """A started dewstack of its own (embedded storage) serving HTTPS next to HTTP,
    with the CA it generated in its banner (DEWSTACK_CA_FILE)."""
    srv = DewstackServer(base / "data", base / "logs", name=name,
                         identity_env={"DEWSTACK_TLS_LISTEN": "127.0.0.1:0"},
                         shared_database=False)
    srv.start()
    return srv


def http_config():
    from huaweicloudsdkcore.http.http_config import HttpConfig

    cfg = HttpConfig.get_default_config()
    cfg.timeout = (10, 60)
    cfg.retry_times = 0
    return cfg


def kms_client(endpoint: str, ident: Identity, project_id: Optional[str] = None):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkkms.v2 import KmsClient

    creds = BasicCredentials(ident.ak, ident.sk, project_id or ident.project_id)
    return (KmsClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(creds)
            .with_endpoints([endpoint])
            .build())


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def rand_uuid() -> str:
    return str(uuid.uuid4())


def to_epoch_seconds(value) -> float:
    """KMS timestamps are strings of seconds or milliseconds since the epoch."""
    v = int(str(value))
    return v / 1000.0 if v > 10_000_000_000 else float(v)
