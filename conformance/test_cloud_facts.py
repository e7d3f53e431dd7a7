"""Facts recorded from the real cloud, checked through the Python SDK.

Cloud Custodian (huaweicloud/cloud-custodian) keeps recordings of the real KMS
(tools/c7n_huaweicloud/tests/data/flights/kms_query) and drives KMS the way
below; dewstack must answer as the cloud did and accept what it accepted.
"""

import dataclasses
import json
import uuid

from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkkms.v2 import (
    CreateKeyRequest,
    CreateKeyRequestBody,
    DisableKeyRequest,
    EnableKeyRotationRequest,
    ListKeyDetailRequest,
    ListKeysRequest,
    ListKeysRequestBody,
    OperateKeyRequestBody,
    ShowKeyRotationStatusRequest,
)

import support


def test_custodian_sequence_uuid4_hex_is_accepted(kms, create_key):
    """Custodian sends `sequence=uuid4().hex` (32 chars) on every key action."""
    seq = lambda: uuid.uuid4().hex  # noqa: E731
    created = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(
        key_alias=support.unique("c7n"), sequence=seq())))
    kid = created.key_info.key_id
    kms.enable_key_rotation(EnableKeyRotationRequest(body=OperateKeyRequestBody(key_id=kid, sequence=seq())))
    status = kms.show_key_rotation_status(ShowKeyRotationStatusRequest(
        body=OperateKeyRequestBody(key_id=kid, sequence=seq())))
    assert status.key_rotation_enabled is True
    kms.disable_key(DisableKeyRequest(body=OperateKeyRequestBody(key_id=kid, sequence=seq())))
    detail = kms.list_key_detail(ListKeyDetailRequest(body=OperateKeyRequestBody(key_id=kid, sequence=seq())))
    assert detail.key_info.key_state == "3"
    other = create_key()
    # Still refused: what is no serial number at all.
    support.expect_kms_error(lambda: kms.disable_key(DisableKeyRequest(body=OperateKeyRequestBody(
        key_id=other, sequence="abc"))), 400, "KMS.0206")


def test_list_keys_details_carry_the_clouds_fields(kms, create_key):
    kid = create_key()
    resp = kms.list_keys(ListKeysRequest(body=ListKeysRequestBody(key_spec="ALL")))
    assert kid in resp.keys and any(k.key_id == kid for k in resp.key_details)
    raw = next(k for k in json.loads(resp.raw_content)["key_details"] if k["key_id"] == kid)
    # As the real KMS lists a key that is not pending deletion.
    assert raw["pending_days"] == ""
    assert raw["keystore_type"] == "DEFAULT"
    assert raw["multi_region_key_type"] == "SINGLE"
    assert isinstance(json.loads(resp.raw_content)["total"], int)


def test_auth_failure_is_the_gateways_flat_body(server, tenant):
    wrong = dataclasses.replace(tenant, sk=support.gen_sk())
    client = support.kms_client(server.endpoint, wrong)
    try:
        client.list_keys(ListKeysRequest(body=ListKeysRequestBody(key_spec="ALL")))
        raise AssertionError("a wrong secret key was accepted")
    except sdk_exc.ClientRequestException as e:
        assert (e.status_code, e.error_code) == (401, support.APIGW_AUTH)
        assert e.error_msg.startswith("Incorrect IAM authentication information: ")
        assert e.request_id
    req = support.build_signed(server.endpoint, wrong, "POST",
                               f"/v1.0/{tenant.project_id}/kms/list-keys", body={"key_spec": "ALL"})
    r = support.send_raw(server.endpoint, req)
    body = r.json()
    assert r.status == 401
    assert sorted(body) == ["error_code", "error_msg", "request_id"], body
    assert body["error_code"] == support.APIGW_AUTH
    assert body["request_id"] == r.header("X-Request-Id")


def _json_type(v):
    return {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(v), type(v).__name__)


def test_list_keys_without_key_spec_as_custodians_filter_sends_it(kms, create_key):
    """Custodian's KMS filter sets ``key_spec`` on the request object, not the body,
    so the SDK sends ListKeys with no body at all: the cloud then lists AES_256
    keys only (as documented; its recording lists default keys too), and every
    field has the JSON type of the recording."""
    facts = json.loads((support.REPO_ROOT / "tests/fixtures/cloud_facts.json").read_text())
    recorded = facts["list_keys"]["response"]
    aes = create_key()
    other = create_key(key_spec="EC_P256")
    resp = kms.list_keys(ListKeysRequest())
    raw = json.loads(resp.raw_content)
    assert aes in raw["keys"] and other not in raw["keys"]
    assert {k["key_spec"] for k in raw["key_details"]} == {"AES_256"}
    for field, value in recorded.items():
        if field != "key_details":
            assert _json_type(raw[field]) == _json_type(value), field
    want = {f: _json_type(v) for f, v in recorded["key_details"][0].items()}
    for detail in raw["key_details"]:
        assert {f: _json_type(detail[f]) for f in want} == want
