"""Authentication: IAM tokens, AK/SK signature verification (SIGNING.md section 5), project
discovery via /v3/projects, and the with_region-only SDK client.

Raw requests are signed by support.sign_request (validated in test_signing_vectors.py),
then tampered with after signing.
"""

import datetime as dt
import json

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkkms.v2 import KmsClient, ShowUserInstancesRequest
from huaweicloudsdkkms.v2.region.kms_region import KmsRegion

import kms_helpers as kh
import support
from support import RawRequest, set_header

INSTANCES = "/v1.0/{project_id}/kms/user-instances"
DESCRIBE = "/v1.0/{project_id}/kms/describe-key"


def assert_auth_failure(r, status=401, code=support.APIGW_AUTH):
    """``code=None``: status only (IAM endpoints answer in Keystone shape, no error_code)."""
    assert r.status == status, (r.status, r.body[:500])
    if code:
        got = support.error_code_of(r.body)
        assert got == code, (got, r.body[:500])


# --------------------------------------------------------------------------- tokens
def token_body(user, password, domain_name, scope):
    return {"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": user, "password": password,
                                           "domain": {"name": domain_name}}}},
        "scope": scope}}


def get_token(server, ident, scope=None, password=None, user=None, domain=None):
    scope = scope if scope is not None else {"project": {"id": ident.project_id}}
    body = token_body(user or ident.user, password if password is not None else ident.password,
                      domain or ident.domain_name, scope)
    req = support.build_signed(server.endpoint, None, "POST", "/v3/auth/tokens", "", body, sign=False)
    return support.send_raw(server.endpoint, req)


def with_token(server, token, method, path, body=None, project_id=None):
    req = support.build_signed(server.endpoint, None, method,
                               path.replace("{project_id}", project_id or ""), "", body, sign=False)
    set_header(req, "X-Auth-Token", token)
    return support.send_raw(server.endpoint, req)


def test_health_needs_no_auth(server):
    r = support.send_raw(server.endpoint, RawRequest("GET", "/health", "", {"Host": server.netloc}, b""))
    assert r.status == 200


def test_token_password_project_scope_by_id(server, acme_identity):
    r = get_token(server, acme_identity)
    assert r.status == 201, r.body
    tok = r.header("X-Subject-Token")
    assert tok and len(tok) >= 16
    body = r.json()["token"]
    assert body["methods"] == ["password"]
    assert body["project"]["id"] == acme_identity.project_id
    assert body["project"]["name"] == acme_identity.project_name
    assert body["project"]["domain"]["id"] == acme_identity.domain_id
    assert body["user"]["name"] == acme_identity.user
    assert body["user"]["domain"]["id"] == acme_identity.domain_id
    assert body["user"]["domain"]["name"] == "acme"
    assert body["user"]["id"]
    issued = dt.datetime.fromisoformat(body["issued_at"].replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires > issued
    assert abs((issued - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 300
    assert isinstance(body.get("roles"), list)


@pytest.mark.parametrize("scope_form", ["name_only", "name_and_domain"])
def test_token_project_scope_by_name(server, acme_identity, scope_form):
    project = {"name": acme_identity.project_name}
    if scope_form == "name_and_domain":
        project["domain"] = {"name": "acme"}
    r = get_token(server, acme_identity, scope={"project": project})
    assert r.status == 201, r.body
    assert r.header("X-Subject-Token")
    assert r.json()["token"]["project"]["id"] == acme_identity.project_id


def test_token_works_as_x_auth_token(server, acme_identity, make_kms):
    tok = get_token(server, acme_identity).header("X-Subject-Token")
    r = with_token(server, tok, "GET", INSTANCES, project_id=acme_identity.project_id)
    assert r.status == 200, r.body
    assert isinstance(r.json()["instance_num"], int)

    alias = support.unique("by-token")
    r = with_token(server, tok, "POST", "/v1.0/{project_id}/kms/create-key",
                   body={"key_alias": alias}, project_id=acme_identity.project_id)
    assert r.status == 200, r.body
    kid = r.json()["key_info"]["key_id"]
    # the key landed in acme's project: visible with acme's AK/SK through the SDK
    d = kh.describe(make_kms(acme_identity), kid)
    assert d.key_alias == alias and d.domain_id == acme_identity.domain_id


def test_token_on_other_project_is_403(server, acme_identity, root_identity):
    tok = get_token(server, acme_identity).header("X-Subject-Token")
    r = with_token(server, tok, "GET", INSTANCES, project_id=root_identity.project_id)
    assert_auth_failure(r, 403, support.KMS_TOKEN_PROJECT_MISMATCH)


def test_token_wrong_password(server, acme_identity):
    r = get_token(server, acme_identity, password="definitely-wrong")
    assert r.status == 401, r.body
    assert not r.header("X-Subject-Token")
    assert "error" in r.json()


def test_token_unknown_user_and_domain(server, acme_identity):
    assert get_token(server, acme_identity, user="mallory").status == 401
    assert get_token(server, acme_identity, domain="not-acme").status == 401


def test_token_malformed_body(server):
    req = support.build_signed(server.endpoint, None, "POST", "/v3/auth/tokens", "", b"{not json", sign=False)
    r = support.send_raw(server.endpoint, req)
    assert r.status == 400, r.body


def test_garbage_token_is_401(server, acme_identity):
    r = with_token(server, "MIIgarbage-token", "GET", INSTANCES, project_id=acme_identity.project_id)
    assert_auth_failure(r)


def test_token_survives_restart(server, acme_identity, restart_server):
    tok = get_token(server, acme_identity).header("X-Subject-Token")
    assert with_token(server, tok, "GET", INSTANCES, project_id=acme_identity.project_id).status == 200
    restart_server()
    r = with_token(server, tok, "GET", INSTANCES, project_id=acme_identity.project_id)
    assert r.status == 200, r.body


# --------------------------------------------------------------------------- AK/SK signatures
def test_signed_raw_request_baseline(raw, tenant, kms):
    """Positive controls for the tampering tests below (GET without body, POST with body)."""
    r = raw(tenant, "GET", INSTANCES)
    assert r.status == 200, r.body
    kid = kh.default_key(kms).key_id
    r = raw(tenant, "POST", DESCRIBE, body={"key_id": kid})
    assert r.status == 200, r.body
    assert r.json()["key_info"]["key_id"] == kid
    assert r.json()["key_info"]["default_key_flag"] == "1"


def test_missing_authorization(raw, tenant):
    r = raw(tenant, "GET", INSTANCES, sign=False)
    assert_auth_failure(r)


def test_unsigned_extra_header_is_fine(raw, tenant):
    r = raw(tenant, "GET", INSTANCES, mutate=lambda q: set_header(q, "X-Unsigned-Extra", "whatever"))
    assert r.status == 200, r.body


def test_tamper_method(raw, tenant, create_key):
    kid = create_key()
    path = f"/v1.0/{{project_id}}/kms/{kid}/tags"
    assert raw(tenant, "GET", path).status == 200  # ShowKmsTags

    def m(q):
        q.method = "POST"  # CreateKmsTag on the same path
    assert_auth_failure(raw(tenant, "GET", path, mutate=m))


def test_tamper_path(raw, tenant, create_key):
    a, b = create_key(), create_key()
    pa = f"/v1.0/{tenant.project_id}/kms/{a}/tags"
    pb = f"/v1.0/{tenant.project_id}/kms/{b}/tags"

    def m(q):
        q.path = pb
    assert_auth_failure(raw(tenant, "GET", pa, mutate=m))


def test_tamper_query(raw, tenant):
    assert raw(tenant, "GET", "/v3/projects", query="name=cn-north-4", project_header=None,
               content_type=None).status == 200

    def m(q):
        q.query = "name=cn-north-5"
    # IAM (/v3/...) errors use the Keystone shape {"error": {"code": 401, ...}}: status only
    assert_auth_failure(raw(tenant, "GET", "/v3/projects", query="name=cn-north-4",
                            project_header=None, content_type=None, mutate=m), code=None)

    def add(q):
        q.query = "limit=1"
    assert_auth_failure(raw(tenant, "GET", INSTANCES, mutate=add))


def test_tamper_body(raw, tenant, create_key):
    a, b = create_key(), create_key()
    ok = raw(tenant, "POST", DESCRIBE, body={"key_id": a})
    assert ok.status == 200 and ok.json()["key_info"]["key_id"] == a

    def m(q):
        q.body = json.dumps({"key_id": b}).encode()  # same length, different key
    assert_auth_failure(raw(tenant, "POST", DESCRIBE, body={"key_id": a}, mutate=m))

    def ws(q):
        q.body = q.body + b" "  # semantically identical JSON, different bytes
    assert_auth_failure(raw(tenant, "POST", DESCRIBE, body={"key_id": a}, mutate=ws))


@pytest.mark.parametrize("header,value", [("User-Agent", "evil-agent"),
                                          ("Content-Type", "application/json"),
                                          ("X-Sdk-Date", None)])
def test_tamper_signed_header(raw, root_identity, header, value):
    def m(q):
        if header == "X-Sdk-Date":
            t = dt.datetime.strptime(q.headers["X-Sdk-Date"], "%Y%m%dT%H%M%SZ") - dt.timedelta(seconds=1)
            set_header(q, "X-Sdk-Date", t.strftime("%Y%m%dT%H%M%SZ"))
        else:
            set_header(q, header, value)
    assert_auth_failure(raw(root_identity, "GET", INSTANCES, mutate=m))


def test_tamper_signed_custom_header(raw, root_identity):
    r = raw(root_identity, "GET", INSTANCES, extra_headers={"X-Custom-Signed": "one"})
    assert r.status == 200, r.body
    r = raw(root_identity, "GET", INSTANCES, extra_headers={"X-Custom-Signed": "one"},
            mutate=lambda q: set_header(q, "X-Custom-Signed", "two"))
    assert_auth_failure(r)


def test_signed_header_listed_but_absent(raw, root_identity):
    r = raw(root_identity, "GET", INSTANCES, extra_headers={"X-Gone": "1"},
            mutate=lambda q: set_header(q, "X-Gone", None))
    assert_auth_failure(r)


def test_signature_must_cover_the_date_not_the_host(raw, root_identity):
    # The official Go SDK signs only the headers it set (x-project-id;x-sdk-date),
    # never host, and the cloud accepts it: so must dewstack. (This test used to
    # require a signed host, which refused every Go SDK call.)
    r = raw(root_identity, "GET", INSTANCES, signed_headers=["x-project-id", "x-sdk-date"])
    assert r.status == 200, r.body[:300]
    r = raw(root_identity, "GET", INSTANCES, signed_headers=["content-type", "host", "x-project-id"])
    assert_auth_failure(r)


def test_tamper_host(raw, root_identity, server):
    def m(q):
        set_header(q, "Host", "kms.cn-north-4.myhuaweicloud.com")
    assert_auth_failure(raw(root_identity, "GET", INSTANCES, mutate=m))


def test_bad_signature_value(raw, root_identity):
    def m(q):
        auth = q.headers["Authorization"]
        sig = auth.rsplit("=", 1)[1]
        flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
        q.headers["Authorization"] = auth[: -len(sig)] + flipped
    assert_auth_failure(raw(root_identity, "GET", INSTANCES, mutate=m))


def test_unknown_access_key(raw, root_identity):
    ghost = support.new_identity()
    ghost.project_id = root_identity.project_id
    assert_auth_failure(raw(ghost, "GET", INSTANCES))


def test_wrong_secret_key(raw, root_identity):
    bad = support.Identity(**{**root_identity.__dict__, "sk": support.gen_sk()})
    assert_auth_failure(raw(bad, "GET", INSTANCES))


@pytest.mark.parametrize("header", ["SDK-HMAC-SHA256", "garbage", "SDK-HMAC-MD5 Access=X, SignedHeaders=host, Signature=00"])
def test_unparsable_authorization(raw, root_identity, header):
    assert_auth_failure(raw(root_identity, "GET", INSTANCES, mutate=lambda q: set_header(q, "Authorization", header)))


@pytest.mark.parametrize("minutes", [-20, 20, -60 * 24])
def test_date_skew_over_15_minutes(raw, root_identity, minutes):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    assert_auth_failure(raw(root_identity, "GET", INSTANCES, date=support.sdk_date(when)))


@pytest.mark.parametrize("minutes", [-5, 5])
def test_date_skew_within_15_minutes(raw, root_identity, minutes):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    r = raw(root_identity, "GET", INSTANCES, date=support.sdk_date(when))
    assert r.status == 200, r.body


@pytest.mark.parametrize("date", ["2024-01-02T03:04:05Z", "20240102T030405", "yesterday"])
def test_malformed_date(raw, root_identity, date):
    assert_auth_failure(raw(root_identity, "GET", INSTANCES, date=date))


def test_sdk_with_bad_secret_gets_401(server, root_identity):
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    bad = support.Identity(**{**root_identity.__dict__, "sk": support.gen_sk()})
    client = support.kms_client(server.endpoint, bad)
    with pytest.raises(ClientRequestException) as ei:
        client.show_user_instances(ShowUserInstancesRequest())
    assert ei.value.status_code == 401
    assert ei.value.error_code == support.APIGW_AUTH


def test_acme_sdk_client_works(acme_kms, acme_identity):
    assert isinstance(acme_kms.show_user_instances(ShowUserInstancesRequest()).instance_num, int)
    assert kh.default_key(acme_kms).domain_id == acme_identity.domain_id


# --------------------------------------------------------------------------- project discovery
def _sdk_style_projects_request(server, ident, name):
    # SIGNING.md section 7: no Content-Type, no X-Project-Id; signed host;user-agent;x-sdk-date
    req = support.build_signed(server.endpoint, ident, "GET", "/v3/projects", f"name={name}",
                               project_header=None, content_type=None)
    assert "SignedHeaders=host;user-agent;x-sdk-date," in req.headers["Authorization"]
    return support.send_raw(server.endpoint, req)


@pytest.mark.parametrize("who", ["root", "acme"])
def test_list_projects_by_region_name(server, root_identity, acme_identity, who):
    ident = root_identity if who == "root" else acme_identity
    r = _sdk_style_projects_request(server, ident, support.REGION)
    assert r.status == 200, r.body
    projects = r.json()["projects"]
    assert [(p["id"], p["name"]) for p in projects] == [(ident.project_id, support.REGION)]


def test_list_projects_unknown_name(server, root_identity):
    r = _sdk_style_projects_request(server, root_identity, "xx-nowhere-1")
    assert r.status == 200, r.body
    assert r.json()["projects"] == []


def test_list_projects_requires_auth(server):
    req = support.build_signed(server.endpoint, None, "GET", "/v3/projects", f"name={support.REGION}",
                               content_type=None, sign=False)
    assert support.send_raw(server.endpoint, req).status == 401


@pytest.mark.parametrize("who", ["root", "acme"])
def test_with_region_only_client_discovers_project(server, monkeypatch, root_identity, acme_identity, who):
    ident = root_identity if who == "root" else acme_identity
    region_env = "HUAWEICLOUD_SDK_REGION_KMS_" + support.REGION.replace("-", "_").upper()
    monkeypatch.setenv(region_env, server.endpoint)
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", server.endpoint)
    monkeypatch.setattr(BasicCredentials, "_CACHE", {})  # force a real /v3/projects lookup

    creds = BasicCredentials(ident.ak, ident.sk)
    client = (KmsClient.new_builder()
              .with_http_config(support.http_config())
              .with_credentials(creds)
              .with_region(KmsRegion.value_of(support.REGION))
              .build())
    assert creds.project_id == ident.project_id
    assert isinstance(client.show_user_instances(ShowUserInstancesRequest()).instance_num, int)
    assert kh.default_key(client).domain_id == ident.domain_id


def test_banner_exports(server, root_identity):
    b = server.banner
    region = support.REGION.replace("-", "_").upper()
    for svc in ("KMS", "CSMS", "VPCEP"):
        assert b.get(f"HUAWEICLOUD_SDK_REGION_{svc}_{region}") == server.endpoint, svc
    assert b.get("HUAWEICLOUD_SDK_IAM_ENDPOINT") == server.endpoint
    assert b.get("HUAWEICLOUD_SDK_AK") == root_identity.ak
    assert b.get("HUAWEICLOUD_SDK_SK") == root_identity.sk
    assert b.get("HUAWEICLOUD_SDK_PROJECT_ID") == root_identity.project_id
