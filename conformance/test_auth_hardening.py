"""Security hardening of AK/SK authentication: the body hash is computed, never taken
from a header; V11 credential scopes are checked; paths that would share a signature are
refused; unknown access keys answer exactly like bad signatures.

Requests are signed by the official SDK signers (huaweicloudsdkcore.signer), captured,
and resent modified, as an attacker who saw one request on the wire would.
"""

import hashlib
import json
import re
import urllib.parse
from types import SimpleNamespace

import pytest
from gmssl import sm3, func
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import DerivationAKSKSigner, SM3Signer, Signer

import kms_helpers as kh
import support
from support import RawRequest, set_header

DESCRIBE = "/v1.0/{project_id}/kms/describe-key"
INSTANCES = "/v1.0/{project_id}/kms/user-instances"
JSON = "application/json;charset=utf-8"


def sdk_signed(server, ident, method, path, body=None, *, signer=Signer, content_type=JSON,
               extra_headers=None, v11=None) -> RawRequest:
    """A request exactly as the SDK signer builds it (``v11=(service, region)`` for V11)."""
    path = path.replace("{project_id}", ident.project_id)
    netloc = urllib.parse.urlsplit(server.endpoint).netloc
    headers = {"User-Agent": "huaweicloud-usdk-python/3.0; hardening", "X-Project-Id": ident.project_id}
    if content_type:
        headers["Content-Type"] = content_type
    headers.update(extra_headers or {})
    raw_body = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = SdkRequest(method=method, schema="http", host=netloc, resource_path=path, uri=path,
                     query_params=[], header_params=headers, body=raw_body or None)
    creds = SimpleNamespace(ak=ident.ak, sk=ident.sk)
    if v11:
        DerivationAKSKSigner(creds).sign(req, v11[0], v11[1])
    else:
        signer(creds).sign(req)
    out = dict(req.header_params)
    out["Host"] = netloc
    return RawRequest(method, path, "", out, raw_body)


def send(server, req):
    return support.send_raw(server.endpoint, req)


def sm3_hex(data: bytes) -> str:
    return sm3.sm3_hash(func.bytes_to_list(data))


def assert_401(r):
    assert r.status == 401, (r.status, r.body[:300])
    assert support.error_code_of(r.body) == support.APIGW_AUTH, r.body[:300]


# --------------------------------------------------------------------------- body hash
@pytest.mark.parametrize("signer,header,digest", [
    (Signer, "X-Sdk-Content-Sha256", lambda b: hashlib.sha256(b).hexdigest()),
    (SM3Signer, "X-Sdk-Content-Sm3", sm3_hex),
])
def test_replayed_request_with_other_body_and_declared_hash(server, tenant, kms, signer, header, digest):
    a = kh.default_key(kms).key_id
    captured = sdk_signed(server, tenant, "POST", DESCRIBE, {"key_id": a}, signer=signer)
    r = send(server, captured)
    assert r.status == 200, r.body  # the captured request itself is good
    replay = RawRequest(captured.method, captured.path, "", dict(captured.headers),
                        json.dumps({"key_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}).encode())
    set_header(replay, header, digest(captured.body))
    assert_401(send(server, replay))


def test_signed_unsigned_payload_on_json_is_refused(server, tenant, kms):
    a = kh.default_key(kms).key_id
    req = sdk_signed(server, tenant, "POST", DESCRIBE, {"key_id": a},
                     extra_headers={"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"})
    assert "x-sdk-content-sha256" in req.headers["Authorization"]
    assert_401(send(server, req))


def test_unsigned_payload_never_reaches_a_json_handler(server, tenant, kms):
    """A non-JSON content type makes the SDK sign UNSIGNED-PAYLOAD; the signature is
    accepted, but no dewstack operation takes a body nobody signed."""
    a = kh.default_key(kms).key_id
    req = sdk_signed(server, tenant, "POST", DESCRIBE, {"key_id": a}, content_type="text/plain")
    assert req.headers.get("X-Sdk-Content-Sha256") == "UNSIGNED-PAYLOAD"
    r = send(server, req)
    assert r.status == 400, (r.status, r.body[:300])
    assert "UNSIGNED-PAYLOAD" in r.json()["error"]["error_msg"]


# --------------------------------------------------------------------------- V11 scope
def test_v11_scope_region_and_service(server, tenant):
    ok = send(server, sdk_signed(server, tenant, "GET", INSTANCES, v11=("kms", support.REGION)))
    assert ok.status == 200, ok.body
    assert_401(send(server, sdk_signed(server, tenant, "GET", INSTANCES, v11=("kms", "cn-south-1"))))
    assert_401(send(server, sdk_signed(server, tenant, "GET", INSTANCES, v11=("vpcep", support.REGION))))


# --------------------------------------------------------------------------- paths
def test_signature_for_one_path_does_not_fit_an_encoded_slash(server, tenant, raw):
    """Signed for /secrets/a/versions, sent as /secrets/a%2Fversions: the SDK rule signs both
    alike, the router does not (a secret named "a/versions")."""
    signed_path = f"/v1/{tenant.project_id}/secrets/abc/versions"

    def m(q):
        q.path = f"/v1/{tenant.project_id}/secrets/abc%2Fversions"
    r = raw(tenant, "GET", signed_path, mutate=m)
    assert_401(r)
    assert b"path" in r.body


def test_trailing_slash_and_non_utf8_paths_are_refused(server, tenant, raw):
    def slash(q):
        q.path = q.path + "/"
    # The router has no route with a trailing '/' (404 before authentication); where
    # one would match, the verifier refuses it (Rust test paths_that_would_sign_alike).
    r = raw(tenant, "GET", INSTANCES, mutate=slash)
    assert r.status in (401, 404), (r.status, r.body[:300])
    # Signed for %FE, sent as %FF: both used to decode to U+FFFD.
    signed = f"/v1/{tenant.project_id}/secrets/a%FE"

    def ff(q):
        q.path = f"/v1/{tenant.project_id}/secrets/a%FF"
    assert_401(raw(tenant, "GET", signed, mutate=ff))
    assert_401(raw(tenant, "GET", signed))


# --------------------------------------------------------------------------- enumeration
def _strip_request_id(r):
    body = re.sub(rb'"request_id":\s*"[^"]*"', b'"request_id":""', r.body)
    headers = {k: v for k, v in r.headers.items() if k not in ("x-request-id", "date")}
    return r.status, headers, body


def test_unknown_access_key_is_indistinguishable_from_bad_signature(raw, root_identity):
    ghost = support.new_identity()
    ghost.project_id = root_identity.project_id
    bad_sk = support.Identity(**{**root_identity.__dict__, "sk": support.gen_sk()})
    unknown = raw(ghost, "GET", INSTANCES)
    wrong = raw(bad_sk, "GET", INSTANCES)
    assert unknown.status == 401
    assert _strip_request_id(unknown) == _strip_request_id(wrong), (unknown.body, wrong.body)


# --------------------------------------------------------------------------- lockout
@pytest.fixture
def lockout_server(tmp_path):
    """A server of its own (locking a user of the session server would break other tests),
    with the lockout policy set in its config file."""
    ident = support.new_identity(domain_name="lockme", user="locked-user")
    cfg = tmp_path / "dewstack.toml"
    cfg.write_text("[login_lockout]\nfailures = 3\nreset_minutes = 15\nlockout_minutes = 15\n\n"
                   + support.config_toml([ident]))
    srv = support.DewstackServer(tmp_path / "data", tmp_path / "logs", config=cfg,
                                 identity_env={}, name="lockout", shared_database=False)
    srv.start()
    yield srv, ident
    srv.stop()


def _token(srv, ident, user=None, password=None):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user or ident.user, "password": password or ident.password,
        "domain": {"name": ident.domain_name}}}},
        "scope": {"project": {"id": ident.project_id}}}}
    req = support.build_signed(srv.endpoint, None, "POST", "/v3/auth/tokens", "", body, sign=False)
    return support.send_raw(srv.endpoint, req)


def test_password_guessing_locks_the_user(lockout_server):
    srv, ident = lockout_server
    assert _token(srv, ident).status == 201
    for _ in range(3):
        r = _token(srv, ident, password="not-the-password")
        assert r.status == 401, r.body
    r = _token(srv, ident)  # the right password, while locked
    assert r.status == 401, r.body
    err = r.json()["error"]
    assert err["code"] == 401 and "locked" in err["message"]
    # Another user of the same domain name (made up) is counted separately.
    assert _token(srv, ident, user="someone-else", password="x").json()["error"]["message"] \
        == "The username or password is wrong."
    # A made-up user locks the same way (no user enumeration by lockout).
    for _ in range(3):
        _token(srv, ident, user="ghost", password="x")
    assert "locked" in _token(srv, ident, user="ghost", password="x").json()["error"]["message"]


def test_out_of_range_lockout_policy_is_a_startup_error(tmp_path):
    cfg = tmp_path / "dewstack.toml"
    cfg.write_text("[login_lockout]\nfailures = 11\n")
    srv = support.DewstackServer(tmp_path / "data", tmp_path / "logs", config=cfg,
                                 identity_env={}, name="badpolicy", shared_database=False)
    with pytest.raises(Exception):
        srv.start(timeout=15)
    srv.kill()


# --------------------------------------------------------------------------- credentials at rest
def test_env_secrets_are_not_written_to_the_data_dir(tmp_path):
    ident = support.new_identity(user="env-admin")
    env = {"DEWSTACK_ACCESS_KEY": ident.ak, "DEWSTACK_SECRET_KEY": ident.sk,
           "DEWSTACK_PASSWORD": ident.password, "DEWSTACK_REGION": support.REGION}
    srv = support.DewstackServer(tmp_path / "data", tmp_path / "logs", identity_env=env,
                                 name="envsecrets", shared_database=False)
    srv.start()
    try:
        for p in (tmp_path / "data").rglob("*"):
            if p.is_file() and not p.name.startswith("dewstack.db"):
                text = p.read_bytes()
                assert ident.sk.encode() not in text, p
                assert ident.password.encode() not in text, p
        # (the harness creates the data dir itself; dewstack sets 0700 on the dirs it
        # creates: Rust test tests/file_modes.rs)
        for name in ("identity.json", "root.key", "dewstack.db"):
            m = (tmp_path / "data" / name).stat().st_mode & 0o777
            assert m == 0o600, (name, oct(m))
        # The environment supplies them again after a restart.
        srv.restart()
        ident.project_id = srv.banner["HUAWEICLOUD_SDK_PROJECT_ID"]
        req = support.build_signed(srv.endpoint, ident, "GET",
                                   f"/v1.0/{ident.project_id}/kms/user-instances")
        r = support.send_raw(srv.endpoint, req)
        assert r.status == 200, r.body
    finally:
        srv.stop()
