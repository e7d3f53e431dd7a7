"""KMS key spaces through the official Python SDK: access points, key policies, and
their enforcement on every use of a key of the space (docs/kms-policies.md).

A key joins a key space by its ``keyspace_id`` tag (dewstack's choice). A request
proves it comes through a Custom access point by signing with the private key
DownloadAccessPointPrivateKey handed out (headers added by an SDK request handler).
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkkms.v2 import (
    CreateAccessPointRequest,
    CreateDatakeyCapsuleRequest,
    CreateDatakeyCapsuleRequestBody,
    DecryptDatakeyCapsuleRequest,
    DecryptDatakeyCapsuleRequestBody,
    CreateAccessPointRequestBody,
    CreateKeyPolicyRequest,
    CreateKeyPolicyRequestBody,
    CreateKmsTagRequest,
    CreateKmsTagRequestBody,
    DecryptDataRequest,
    DecryptDataRequestBody,
    DeleteAccessPointRequest,
    DeleteKeyPolicyRequest,
    DisableAccessPointRequest,
    DownloadAccessPointPrivateKeyRequest,
    EnableAccessPointRequest,
    EncryptDataRequest,
    EncryptDataRequestBody,
    KmsClient,
    ListAccessPointRequest,
    ListKeyPolicyRequest,
    ShowKeyPolicyRequest,
    TagItem,
    UpdateKeyPolicyRequest,
    UpdateKeyPolicyRequestBody,
)

import support
from support import expect_kms_error

KMS_NO_PERMISSION = "KMS.0306"       # 403, the deny of a key policy
KMS_AP_NOT_DISABLED = "KMS.9202"
KMS_POLICY_NAME_EXISTS = "KMS.9203"
KMS_AP_NAME_EXISTS = "KMS.9204"
KMS_KEY_GONE = "KMS.9206"
KMS_AP_UNVERIFIED = "KMS.9207"       # 401


def _space():
    return support.rand_uuid()


def _access_point(kms, space, name=None, kind=3, **fields):
    body = CreateAccessPointRequestBody(keyspace_id=space, access_point_name=name or support.unique("ap"),
                                        type=kind, **fields)
    return kms.create_access_point(CreateAccessPointRequest(body=body)).access_point_id


def _policy(kms, space, document, name=None):
    body = CreateKeyPolicyRequestBody(keyspace_id=space, policy_name=name or support.unique("pol"),
                                      policy=json.dumps(document), description="conformance")
    return kms.create_key_policy(CreateKeyPolicyRequest(body=body)).policy_id


def _in_space(kms, key_id, space):
    kms.create_kms_tag(CreateKmsTagRequest(
        key_id=key_id, body=CreateKmsTagRequestBody(tag=TagItem(key="keyspace_id", value=space))))


def _encrypt(client, key_id):
    return client.encrypt_data(EncryptDataRequest(
        body=EncryptDataRequestBody(key_id=key_id, plain_text="hello"))).cipher_text


def _through(server, tenant, ap_id, pem):
    """A KMS client of ``tenant`` whose requests come through access point ``ap_id``."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)

    def sign(request=None, **_):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        text = "\n".join(["DEWSTACK-AP-ECDSA-P256-SHA256", ap_id, request.header_params["X-Sdk-Date"],
                          request.method.upper(), urllib.parse.urlsplit(request.url).path,
                          hashlib.sha256(body).hexdigest()])
        sig = key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
        request.header_params["X-Kms-Access-Point-Id"] = ap_id
        request.header_params["X-Kms-Access-Point-Signature"] = base64.b64encode(sig).decode()

    creds = BasicCredentials(tenant.ak, tenant.sk, tenant.project_id)
    return (KmsClient.new_builder().with_http_config(support.http_config())
            .with_credentials(creds).with_endpoints([server.endpoint])
            .with_http_handler(HttpHandler().add_request_handler(sign)).build())


def test_access_point_lifecycle(kms):
    space = _space()
    ap = _access_point(kms, space, name="app-1", description="billing")
    points = kms.list_access_point(ListAccessPointRequest(keyspace_id=space)).access_points
    assert [(p.access_point_id, p.access_point_name, p.type, p.state) for p in points] == \
        [(ap, "app-1", 3, 1)]
    assert isinstance(points[0].create_time, str) and points[0].create_time.isdigit()
    kms.disable_access_point(DisableAccessPointRequest(access_point_id=ap))
    assert kms.list_access_point(ListAccessPointRequest()).access_points[0].state == 0
    kms.enable_access_point(EnableAccessPointRequest(access_point_id=ap))
    expect_kms_error(lambda: kms.enable_access_point(EnableAccessPointRequest(access_point_id=ap)),
                     400, KMS_AP_NOT_DISABLED)
    pem = kms.download_access_point_private_key(
        DownloadAccessPointPrivateKeyRequest(access_point_id=ap)).private_key
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    serialization.load_pem_private_key(pem.encode(), password=None)
    expect_kms_error(lambda: kms.download_access_point_private_key(
        DownloadAccessPointPrivateKeyRequest(access_point_id=ap)), 400, KMS_KEY_GONE)
    kms.delete_access_point(DeleteAccessPointRequest(access_point_id=ap))
    expect_kms_error(lambda: kms.delete_access_point(DeleteAccessPointRequest(access_point_id=ap)),
                     404, support.KMS_NOT_FOUND)


def test_access_point_list_pages_by_marker(kms):
    space = _space()
    ids = [_access_point(kms, space) for _ in range(3)]
    first = kms.list_access_point(ListAccessPointRequest(keyspace_id=space, limit="2"))
    assert [p.access_point_id for p in first.access_points] == ids[:2]
    assert first.page_info.current_count == 2 and first.page_info.next_marker == ids[1]
    rest = kms.list_access_point(ListAccessPointRequest(keyspace_id=space, limit="2",
                                                        marker=first.page_info.next_marker))
    assert [p.access_point_id for p in rest.access_points] == ids[2:]
    assert rest.page_info.next_marker is None
    assert kms.list_access_point(ListAccessPointRequest(keyspace_id=_space())).access_points == []


def test_names_are_unique_within_a_key_space(kms):
    space, other = _space(), _space()
    _access_point(kms, space, name="same")
    _policy(kms, space, {"version": "1.0"}, name="same")
    expect_kms_error(lambda: _access_point(kms, space, name="same"), 400, KMS_AP_NAME_EXISTS)
    expect_kms_error(lambda: _policy(kms, space, {"version": "1.0"}, name="same"),
                     400, KMS_POLICY_NAME_EXISTS)
    # The same name in another key space is another member.
    assert _access_point(kms, other, name="same") and _policy(kms, other, {"version": "1.0"}, name="same")


def test_key_policy_crud(kms):
    space, ap = _space(), support.rand_uuid()
    doc = {"version": "1.0", "validity_period": {"start_time": "1000", "end_time": "4102444800000"},
           "allowed_access_point": [ap], "allowed_data_security_zone": []}
    pid = _policy(kms, space, doc, name="only-app")
    shown = kms.show_key_policy(ShowKeyPolicyRequest(policy_id=pid))
    assert (shown.policy_name, shown.keyspace_id, shown.description) == ("only-app", space, "conformance")
    assert shown.policy.allowed_access_point == [ap]
    assert shown.policy.validity_period.end_time == "4102444800000"
    listed = kms.list_key_policy(ListKeyPolicyRequest(keyspace_id=space)).keyspace_policies
    assert [p.policy_id for p in listed] == [pid]
    updated = kms.update_key_policy(UpdateKeyPolicyRequest(policy_id=pid, body=UpdateKeyPolicyRequestBody(
        policy=json.dumps({"allowed_access_point": []}), description="open")))
    assert (updated.policy_id, updated.description, updated.policy.allowed_access_point) == (pid, "open", [])
    kms.delete_key_policy(DeleteKeyPolicyRequest(policy_id=pid))
    expect_kms_error(lambda: kms.show_key_policy(ShowKeyPolicyRequest(policy_id=pid)),
                     404, support.KMS_NOT_FOUND)


def test_policies_are_enforced_on_key_use(server, tenant, kms, create_key):
    space = _space()
    key_id, outside = create_key(), create_key()
    _in_space(kms, key_id, space)
    blob = _encrypt(kms, key_id)  # no policy yet: used as any key
    ap = _access_point(kms, space)
    pem = kms.download_access_point_private_key(
        DownloadAccessPointPrivateKeyRequest(access_point_id=ap)).private_key
    _policy(kms, space, {"allowed_access_point": [ap]})
    _policy(kms, space, {"statement": [{"effect": "Deny", "action": ["kms:cmk:decrypt*"],
                                        "resource": [key_id]}]})
    # Not through the access point: no policy allows it (default deny).
    expect_kms_error(lambda: _encrypt(kms, key_id), 403, KMS_NO_PERMISSION)
    # Through it: allowed; decryption is denied outright by the second policy.
    via = _through(server, tenant, ap, pem)
    assert _encrypt(via, key_id)
    expect_kms_error(lambda: via.decrypt_data(DecryptDataRequest(
        body=DecryptDataRequestBody(cipher_text=blob))), 403, KMS_NO_PERMISSION)
    # A key outside the space is not restricted.
    assert _encrypt(kms, outside)
    # A disabled access point vouches for nothing.
    kms.disable_access_point(DisableAccessPointRequest(access_point_id=ap))
    expect_kms_error(lambda: _encrypt(via, key_id), 401, KMS_AP_UNVERIFIED)


def test_a_forged_access_point_signature_is_refused(server, tenant, kms, create_key):
    space = _space()
    ap = _access_point(kms, space)
    kms.download_access_point_private_key(DownloadAccessPointPrivateKeyRequest(access_point_id=ap))
    other = ec.generate_private_key(ec.SECP256R1())
    forged = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    expect_kms_error(lambda: _encrypt(_through(server, tenant, ap, forged), create_key()),
                     401, KMS_AP_UNVERIFIED)


def test_another_projects_key_space_is_invisible(server, kms, acme_kms, acme_identity):
    space = _space()
    ap = _access_point(kms, space)
    pem = kms.download_access_point_private_key(
        DownloadAccessPointPrivateKeyRequest(access_point_id=ap)).private_key
    pid = _policy(kms, space, {"version": "1.0"})
    expect_kms_error(lambda: acme_kms.show_key_policy(ShowKeyPolicyRequest(policy_id=pid)),
                     404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: acme_kms.delete_key_policy(DeleteKeyPolicyRequest(policy_id=pid)),
                     404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: acme_kms.disable_access_point(DisableAccessPointRequest(access_point_id=ap)),
                     404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: acme_kms.download_access_point_private_key(
        DownloadAccessPointPrivateKeyRequest(access_point_id=ap)), 404, support.KMS_NOT_FOUND)
    assert ap not in [p.access_point_id for p in
                      acme_kms.list_access_point(ListAccessPointRequest()).access_points]
    assert pid not in [p.policy_id for p in
                       acme_kms.list_key_policy(ListKeyPolicyRequest()).keyspace_policies]
    # Another project cannot borrow this project's access point either.
    acme_via = _through(server, acme_identity, ap, pem)
    expect_kms_error(lambda: acme_via.list_key_policy(ListKeyPolicyRequest()), 401, KMS_AP_UNVERIFIED)


@pytest.mark.parametrize("fields,code", [
    ({"keyspace_id": "not-a-uuid"}, support.KMS_INVALID_PARAM),
    ({"keyspace_id": None}, support.KMS_MISSING_PARAM),
    ({"access_point_name": "bad name"}, support.KMS_INVALID_PARAM),
    ({"type": 9}, support.KMS_INVALID_PARAM),
    ({"type": 1}, support.KMS_MISSING_PARAM),                 # ECS without its instance id
    ({"type": 2, "identity": "not a key", "cluster_id": "c1"}, support.KMS_INVALID_PARAM),
])
def test_malformed_access_points_answer_the_kms_envelope(kms, fields, code):
    body = dict(keyspace_id=_space(), access_point_name=support.unique("ap"), type=3)
    body.update(fields)
    expect_kms_error(lambda: kms.create_access_point(
        CreateAccessPointRequest(body=CreateAccessPointRequestBody(**body))), 400, code)


@pytest.mark.parametrize("policy", [
    "not json",
    json.dumps({"unknown": 1}),
    json.dumps({"allowed_access_point": ["not-a-uuid"]}),
    json.dumps({"validity_period": {"start_time": "2000", "end_time": "1000"}}),
    json.dumps({"statement": [{"effect": "Maybe", "action": ["kms:*"]}]}),
])
def test_malformed_policies_answer_the_kms_envelope(kms, policy):
    body = CreateKeyPolicyRequestBody(keyspace_id=_space(), policy_name="p", policy=policy)
    exc = expect_kms_error(lambda: kms.create_key_policy(CreateKeyPolicyRequest(body=body)),
                           400, support.KMS_INVALID_PARAM)
    assert "Invalid policy" in exc.error_msg


def test_malformed_list_queries(kms):
    expect_kms_error(lambda: kms.list_key_policy(ListKeyPolicyRequest(limit="0")), 400, support.KMS_LIMIT_RANGE)
    expect_kms_error(lambda: kms.list_access_point(ListAccessPointRequest(marker="x")),
                     400, support.KMS_INVALID_PARAM)
    expect_kms_error(lambda: kms.show_key_policy(ShowKeyPolicyRequest(policy_id=support.rand_uuid())),
                     404, support.KMS_NOT_FOUND)


def _capsule(client, key_id, **kw):
    return client.create_datakey_capsule(CreateDatakeyCapsuleRequest(body=CreateDatakeyCapsuleRequestBody(
        key_id=key_id, datakey_length="256", **kw)))


def _open(client, key_id, capsule):
    return client.decrypt_datakey_capsule(DecryptDatakeyCapsuleRequest(body=DecryptDatakeyCapsuleRequestBody(
        key_id=key_id, datakey_capsule=capsule))).datakey


def test_a_capsule_opens_only_as_its_key_policy_allows(server, tenant, kms, create_key):
    """CreateDatakeyCapsule ``policy_id`` (a key policy id, or an inline ``key_policy``):
    DecryptDatakeyCapsule opens the capsule only as that policy allows, read when the
    capsule is opened (docs/kms-policies.md)."""
    space, key_id = _space(), create_key()  # the key itself is in no key space
    ap = _access_point(kms, space)
    via = _through(server, tenant, ap, kms.download_access_point_private_key(
        DownloadAccessPointPrivateKeyRequest(access_point_id=ap)).private_key)
    pid = _policy(kms, space, {"allowed_access_point": [ap]})
    made = _capsule(kms, key_id, policy_id=pid)
    expect_kms_error(lambda: _open(kms, key_id, made.datakey_capsule), 403, KMS_NO_PERMISSION)
    assert _open(via, key_id, made.datakey_capsule) == made.datakey
    # The policy as it is now decides: opened up, then gone.
    kms.update_key_policy(UpdateKeyPolicyRequest(policy_id=pid, body=UpdateKeyPolicyRequestBody(
        policy=json.dumps({"allowed_access_point": []}))))
    assert _open(kms, key_id, made.datakey_capsule) == made.datakey
    kms.delete_key_policy(DeleteKeyPolicyRequest(policy_id=pid))
    expect_kms_error(lambda: _open(via, key_id, made.datakey_capsule), 403, KMS_NO_PERMISSION)
    # An inline policy travels in the capsule.
    inline = _capsule(kms, key_id, key_policy=json.dumps({"allowed_access_point": [ap]}))
    expect_kms_error(lambda: _open(kms, key_id, inline.datakey_capsule), 403, KMS_NO_PERMISSION)
    assert _open(via, key_id, inline.datakey_capsule) == inline.datakey
    # A capsule without a policy opens as before.
    plain = _capsule(kms, key_id)
    assert _open(kms, key_id, plain.datakey_capsule) == plain.datakey


def test_capsule_policy_refusals(kms, acme_kms, create_key):
    key_id = create_key()
    expect_kms_error(lambda: _capsule(kms, key_id, policy_id=support.rand_uuid()), 404, support.KMS_NOT_FOUND)
    # Another project's policy is not found either.
    theirs = _policy(acme_kms, _space(), {"version": "1.0"})
    expect_kms_error(lambda: _capsule(kms, key_id, policy_id=theirs), 404, support.KMS_NOT_FOUND)
    mine = _policy(kms, _space(), {"version": "1.0"})
    expect_kms_error(lambda: _capsule(kms, key_id, policy_id=mine, key_policy="{}"),
                     400, support.KMS_INVALID_PARAM)
    e = expect_kms_error(lambda: _capsule(kms, key_id, key_policy="not json"), 400, support.KMS_INVALID_PARAM)
    assert "Invalid policy" in e.error_msg
    expect_kms_error(lambda: _capsule(kms, key_id, policy_id="not-a-uuid"), 400, support.KMS_INVALID_PARAM)
