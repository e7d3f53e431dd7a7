"""KMS key lifecycle through the official SDK (huaweicloudsdkkms v2).

Sources: /work/shared/api/kms.json (field names, SDK docstrings), seeds 002
(CancelKeyDeletion) and 003 (UpdateKeyDescription), docs/error-codes.md (codes).
"""

import re
import time

import pytest
from huaweicloudsdkkms.v2 import (
    CreateKeyRequest,
    CreateKeyRequestBody,
    ListKeyDetailRequest,
    OperateKeyRequestBody,
    ShowUserInstancesRequest,
    ShowUserQuotasRequest,
    ShowVersionRequest,
    ShowVersionsRequest,
    UpdateKeyDescriptionRequest,
    UpdateKeyDescriptionRequestBody,
)

import kms_helpers as kh
import support
from support import expect_kms_error

UUID = re.compile(support.UUID_RE)

SYMMETRIC = ["AES_256", "SM4"]
ASYMMETRIC = ["RSA_2048", "RSA_3072", "RSA_4096", "EC_P256", "EC_P384", "SECP256K1", "SM2", "ED25519"]
HMAC = ["HMAC_256", "HMAC_384", "HMAC_512", "HMAC_SM3"]


def _create(kms, **fields):
    fields.setdefault("key_alias", support.unique("key"))
    return kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(**fields)))


# --------------------------------------------------------------------------- CreateKey
def test_create_key_defaults(kms, tenant):
    alias = support.unique("create")
    before = time.time()
    resp = _create(kms, key_alias=alias, key_description="made by conformance")
    info = resp.key_info
    assert UUID.match(info.key_id), info.key_id
    assert info.domain_id == tenant.domain_id
    assert info.region_id == support.REGION

    d = kh.describe(kms, info.key_id)
    assert d.key_id == info.key_id
    assert d.key_alias == alias
    assert d.key_description == "made by conformance"
    assert d.key_spec == "AES_256"  # default
    assert d.key_usage == "ENCRYPT_DECRYPT"  # symmetric default
    assert d.key_state == "2"
    assert d.origin == "kms"
    assert d.default_key_flag == "0"
    assert d.domain_id == tenant.domain_id
    assert isinstance(d.creation_date, str) and d.creation_date.isdigit(), d.creation_date
    assert abs(support.to_epoch_seconds(d.creation_date) - before) < 300
    assert not d.scheduled_deletion_date  # not scheduled


@pytest.mark.parametrize("spec", SYMMETRIC + ASYMMETRIC + HMAC)
def test_create_key_every_spec(kms, spec):
    resp = _create(kms, key_spec=spec)
    d = kh.describe(kms, resp.key_info.key_id)
    assert d.key_spec == spec
    assert d.key_state == "2"
    if spec in SYMMETRIC:
        assert d.key_usage == "ENCRYPT_DECRYPT"
    elif spec in ASYMMETRIC:
        # CreateKeyRequestBody.key_usage: asymmetric keys default to SIGN_VERIFY
        assert d.key_usage == "SIGN_VERIFY"


@pytest.mark.parametrize("spec,usage", [("RSA_2048", "ENCRYPT_DECRYPT"), ("SM2", "ENCRYPT_DECRYPT"),
                                        ("RSA_3072", "SIGN_VERIFY")])
def test_create_key_explicit_usage(kms, spec, usage):
    resp = _create(kms, key_spec=spec, key_usage=usage)
    d = kh.describe(kms, resp.key_info.key_id)
    assert (d.key_spec, d.key_usage) == (spec, usage)


def test_create_key_external_origin_is_pending_import(kms):
    resp = _create(kms, origin="external")
    d = kh.describe(kms, resp.key_info.key_id)
    assert d.origin == "external"
    assert d.key_state == "5"


def test_create_key_alias_max_length(kms):
    alias = ("a:b/c_d-" + "x" * 300)[:255]
    resp = _create(kms, key_alias=alias)
    assert kh.describe(kms, resp.key_info.key_id).key_alias == alias


def test_create_key_description_max_length(kms):
    desc = "d" * 255
    resp = _create(kms, key_description=desc)
    assert kh.describe(kms, resp.key_info.key_id).key_description == desc


def test_create_key_invalid_spec(kms):
    expect_kms_error(lambda: _create(kms, key_spec="AES_128"), 400, support.KMS_INVALID_PARAM)


def test_create_key_invalid_usage_for_symmetric(kms):
    expect_kms_error(lambda: _create(kms, key_spec="AES_256", key_usage="SIGN_VERIFY"), 400,
                     support.KMS_INVALID_PARAM)


def test_create_key_unknown_usage(kms):
    expect_kms_error(lambda: _create(kms, key_usage="WRAP_UNWRAP"), 400, support.KMS_INVALID_PARAM)


def test_create_key_invalid_origin(kms):
    expect_kms_error(lambda: _create(kms, origin="hsm"), 400, support.KMS_INVALID_PARAM)


def test_create_key_missing_alias(kms):
    expect_kms_error(lambda: kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_spec="AES_256"))),
                     400, (support.KMS_MISSING_PARAM, support.KMS_INVALID_ALIAS))


@pytest.mark.parametrize("alias", ["", "has space", "bad*char", "ünicode", "x" * 256, "semi;colon"],
                         ids=["empty", "space", "star", "unicode", "too-long", "semicolon"])
def test_create_key_invalid_alias(kms, alias):
    expect_kms_error(lambda: _create(kms, key_alias=alias), 400, support.KMS_INVALID_ALIAS)


@pytest.mark.parametrize("alias", ["kms/default", "my/default"])
def test_create_key_alias_default_suffix_refused(kms, alias):
    expect_kms_error(lambda: _create(kms, key_alias=alias), 400,
                     (support.KMS_INVALID_ALIAS, support.KMS_ALIAS_EXISTS))


def test_create_key_duplicate_alias(kms):
    alias = support.unique("dup")
    _create(kms, key_alias=alias)
    expect_kms_error(lambda: _create(kms, key_alias=alias), 400, support.KMS_ALIAS_EXISTS)


def test_create_key_description_too_long(kms):
    expect_kms_error(lambda: _create(kms, key_description="d" * 256), 400, support.KMS_INVALID_DESCRIPTION)


# --------------------------------------------------------------------------- default key
def test_default_key_exists(kms, tenant):
    d = kh.default_key(kms)
    assert d.key_alias == "kms/default"
    assert d.default_key_flag == "1"
    assert d.key_state == "2"
    assert d.domain_id == tenant.domain_id
    assert UUID.match(d.key_id)
    again = kh.describe(kms, d.key_id)
    assert again.key_alias == "kms/default" and again.default_key_flag == "1"


def test_default_key_cannot_be_disabled(kms):
    d = kh.default_key(kms)
    expect_kms_error(lambda: kh.disable(kms, d.key_id), 400, support.KMS_DEFAULT_KEY)
    assert kh.describe(kms, d.key_id).key_state == "2"


def test_default_key_cannot_be_scheduled_for_deletion(kms):
    d = kh.default_key(kms)
    expect_kms_error(lambda: kh.schedule_deletion(kms, d.key_id, "7"), 400, support.KMS_DEFAULT_KEY)
    assert kh.describe(kms, d.key_id).key_state == "2"


def test_default_key_description_cannot_be_changed(kms):
    # seed 003: 服务默认主密钥（密钥别名后缀为“/default”）不可以修改。
    d = kh.default_key(kms)
    expect_kms_error(lambda: kh.update_description(kms, d.key_id, "nope"), 400, support.KMS_DEFAULT_KEY)
    assert kh.describe(kms, d.key_id).key_description == d.key_description


def test_default_key_alias_cannot_be_changed(kms):
    d = kh.default_key(kms)
    expect_kms_error(lambda: kh.update_alias(kms, d.key_id, support.unique("x")), 400, support.KMS_DEFAULT_KEY)
    assert kh.describe(kms, d.key_id).key_alias == "kms/default"


# --------------------------------------------------------------------------- ListKeyDetail
def test_describe_malformed_key_id(kms):
    expect_kms_error(lambda: kh.describe(kms, "not-a-uuid"), 400, support.KMS_INVALID_KEY_ID)


def test_describe_uppercase_key_id_is_malformed(kms, create_key):
    # regex ^[0-9a-z]{8}-...$: upper case is not a valid key_id
    kid = create_key()
    expect_kms_error(lambda: kh.describe(kms, kid.upper()), 400, support.KMS_INVALID_KEY_ID)


def test_describe_unknown_key(kms):
    expect_kms_error(lambda: kh.describe(kms, support.rand_uuid()), 404, support.KMS_NOT_FOUND)


def test_describe_missing_key_id(kms):
    expect_kms_error(lambda: kms.list_key_detail(ListKeyDetailRequest(body=OperateKeyRequestBody())), 400,
                     (support.KMS_MISSING_PARAM, support.KMS_INVALID_KEY_ID))


# --------------------------------------------------------------------------- ListKeys
def test_list_keys_paging_covers_everything(kms, create_key):
    mine = {create_key() for _ in range(3)}
    first = kh.list_keys(kms, limit="2", key_spec="ALL")
    assert len(first.key_details) == 2
    assert first.truncated == "true"
    assert first.next_marker
    assert isinstance(first.total, int) and first.total >= len(mine) + 1  # + default key
    assert first.keys == [k.key_id for k in first.key_details]

    seen = [k.key_id for k in kh.list_all_key_details(kms, page_size=2)]
    assert len(seen) == len(set(seen)), "paging returned duplicates"
    assert mine <= set(seen)
    assert len(seen) == first.total


def test_list_keys_last_page_not_truncated(kms, create_key):
    create_key()
    total = kh.list_keys(kms, limit="1", key_spec="ALL").total
    resp = kh.list_keys(kms, limit=str(total + 5), key_spec="ALL")
    assert resp.truncated == "false"
    assert not resp.next_marker
    assert len(resp.key_details) == total


def test_list_keys_state_filter(kms, create_key):
    enabled = create_key()
    disabled = create_key()
    kh.disable(kms, disabled)
    only_disabled = kh.list_all_key_details(kms, key_state="3")
    ids = {k.key_id for k in only_disabled}
    assert disabled in ids and enabled not in ids
    assert all(k.key_state == "3" for k in only_disabled)


def test_list_keys_spec_filter(kms, create_key):
    rsa = create_key(key_spec="RSA_2048")
    aes = create_key(key_spec="AES_256")
    got = kh.list_all_key_details(kms, key_spec="RSA_2048")
    ids = {k.key_id for k in got}
    assert rsa in ids and aes not in ids
    assert all(k.key_spec == "RSA_2048" for k in got)


def test_list_keys_default_spec_is_aes_256(kms, create_key):
    # ListKeysRequestBody.key_spec: 默认为“AES_256”。查询所有（包含非对称）密钥需要指定参数“ALL”。
    rsa = create_key(key_spec="RSA_2048")
    aes = create_key(key_spec="AES_256")
    details = kh.list_all_key_details(kms, key_spec=None)
    ids = {k.key_id for k in details}
    assert aes in ids
    assert rsa not in ids


@pytest.mark.parametrize("limit", ["abc", "-1"])
def test_list_keys_invalid_limit(kms, limit):
    expect_kms_error(lambda: kh.list_keys(kms, limit=limit, key_spec="ALL"), 400,
                     (support.KMS_LIMIT_RANGE, support.KMS_INVALID_PARAM))


def test_list_keys_invalid_marker(kms):
    expect_kms_error(lambda: kh.list_keys(kms, limit="10", marker="-5", key_spec="ALL"), 400,
                     (support.KMS_MARKER_INVALID, support.KMS_INVALID_PARAM))


def test_list_keys_invalid_state(kms):
    expect_kms_error(lambda: kh.list_keys(kms, key_state="9", key_spec="ALL"), 400, support.KMS_INVALID_PARAM)


# --------------------------------------------------------------------------- Enable/Disable
def test_disable_then_enable(kms, create_key):
    kid = create_key()
    r = kh.disable(kms, kid)
    assert r.key_info.key_id == kid and r.key_info.key_state == "3"
    assert kh.describe(kms, kid).key_state == "3"
    r = kh.enable(kms, kid)
    assert r.key_info.key_id == kid and r.key_info.key_state == "2"
    assert kh.describe(kms, kid).key_state == "2"


def test_enable_already_enabled(kms, create_key):
    kid = create_key()
    expect_kms_error(lambda: kh.enable(kms, kid), 400, support.KMS_NOT_DISABLED)


def test_disable_already_disabled(kms, create_key):
    kid = create_key()
    kh.disable(kms, kid)
    expect_kms_error(lambda: kh.disable(kms, kid), 400, support.KMS_NOT_ENABLED)
    assert kh.describe(kms, kid).key_state == "3"


def test_enable_pending_deletion_refused(kms, create_key):
    kid = create_key()
    kh.schedule_deletion(kms, kid, "7")
    expect_kms_error(lambda: kh.enable(kms, kid), 400, (support.KMS_NOT_DISABLED, support.KMS_KEY_PENDING_DELETION))
    assert kh.describe(kms, kid).key_state == "4"


def test_disable_pending_deletion_refused(kms, create_key):
    kid = create_key()
    kh.schedule_deletion(kms, kid, "7")
    expect_kms_error(lambda: kh.disable(kms, kid), 400, (support.KMS_NOT_ENABLED, support.KMS_KEY_PENDING_DELETION))
    assert kh.describe(kms, kid).key_state == "4"


def test_enable_pending_import_refused(kms, create_key):
    kid = create_key(origin="external")
    expect_kms_error(lambda: kh.enable(kms, kid), 400, None)  # TODO(docs/error-codes.md: no row for state 5)
    assert kh.describe(kms, kid).key_state == "5"


@pytest.mark.parametrize("op", ["enable", "disable"])
def test_enable_disable_unknown_and_malformed(kms, op):
    fn = getattr(kh, op)
    expect_kms_error(lambda: fn(kms, support.rand_uuid()), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: fn(kms, "1234"), 400, support.KMS_INVALID_KEY_ID)


# --------------------------------------------------------------------------- DeleteKey (schedule)
def test_schedule_deletion(kms, create_key):
    kid = create_key()
    now = time.time()
    r = kh.schedule_deletion(kms, kid, "7")
    assert r.key_id == kid
    assert r.key_state == "4"
    d = kh.describe(kms, kid)
    assert d.key_state == "4"
    assert d.scheduled_deletion_date and str(d.scheduled_deletion_date).isdigit()
    when = support.to_epoch_seconds(d.scheduled_deletion_date)
    assert abs(when - (now + 7 * 86400)) < 3600, (when, now)


def test_schedule_deletion_max_days_and_disabled_key(kms, create_key):
    kid = create_key()
    kh.disable(kms, kid)
    r = kh.schedule_deletion(kms, kid, "1096")
    assert r.key_state == "4"
    when = support.to_epoch_seconds(kh.describe(kms, kid).scheduled_deletion_date)
    assert abs(when - (time.time() + 1096 * 86400)) < 3600


@pytest.mark.parametrize("days", ["6", "1097", "0", "abc"])
def test_schedule_deletion_invalid_days(kms, create_key, days):
    kid = create_key()
    expect_kms_error(lambda: kh.schedule_deletion(kms, kid, days), 400,
                     (support.KMS_PENDING_DAYS, support.KMS_INVALID_PARAM))
    assert kh.describe(kms, kid).key_state == "2"


def test_schedule_deletion_twice(kms, create_key):
    kid = create_key()
    kh.schedule_deletion(kms, kid, "7")
    expect_kms_error(lambda: kh.schedule_deletion(kms, kid, "8"), 400, support.KMS_ALREADY_PENDING)


def test_schedule_deletion_unknown_and_malformed(kms):
    expect_kms_error(lambda: kh.schedule_deletion(kms, support.rand_uuid(), "7"), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: kh.schedule_deletion(kms, "zz", "7"), 400, support.KMS_INVALID_KEY_ID)


# --------------------------------------------------------------------------- CancelKeyDeletion (seed 002)
def test_cancel_key_deletion(kms, create_key):
    kid = create_key()
    kh.schedule_deletion(kms, kid, "7")
    r = kh.cancel_deletion(kms, kid)
    # seed 002 response example: {"key_id": ..., "key_state": "3"}
    assert r.key_id == kid
    assert r.key_state == "3"
    d = kh.describe(kms, kid)
    assert d.key_state == "3"
    assert not d.scheduled_deletion_date
    # and the key can be enabled again afterwards
    assert kh.enable(kms, kid).key_info.key_state == "2"


def test_cancel_key_deletion_seed_body_raw(raw, tenant, kms, create_key):
    """The seed example body ({"key_id": ...} only) sent as raw JSON."""
    kid = create_key()
    kh.schedule_deletion(kms, kid, "30")
    r = raw(tenant, "POST", "/v1.0/{project_id}/kms/cancel-key-deletion", body={"key_id": kid})
    assert r.status == 200, r.body
    j = r.json()
    assert (j.get("key_id"), j.get("key_state")) == (kid, "3"), j


@pytest.mark.parametrize("state", ["enabled", "disabled"])
def test_cancel_key_deletion_not_pending(kms, create_key, state):
    # seed 002: 密钥处于“计划删除”状态才能取消计划删除密钥。
    kid = create_key()
    if state == "disabled":
        kh.disable(kms, kid)
    expect_kms_error(lambda: kh.cancel_deletion(kms, kid), 400, support.KMS_NOT_PENDING)
    assert kh.describe(kms, kid).key_state == ("2" if state == "enabled" else "3")


def test_cancel_key_deletion_unknown_and_malformed(kms):
    expect_kms_error(lambda: kh.cancel_deletion(kms, support.rand_uuid()), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: kh.cancel_deletion(kms, "0d0466b0-e727-4d9c-b35d"), 400, support.KMS_INVALID_KEY_ID)


# --------------------------------------------------------------------------- UpdateKeyDescription (seed 003)
def test_update_key_description(kms, create_key):
    kid = create_key(key_description="before")
    r = kh.update_description(kms, kid, "test")
    # seed 003 response example: {"key_info": {"key_id": ..., "key_description": "test"}}
    assert r.key_info.key_id == kid
    assert r.key_info.key_description == "test"
    assert kh.describe(kms, kid).key_description == "test"


def test_update_key_description_seed_body_raw(raw, tenant, kms, create_key):
    kid = create_key()
    r = raw(tenant, "POST", "/v1.0/{project_id}/kms/update-key-description",
            body={"key_id": kid, "key_description": "test"})
    assert r.status == 200, r.body
    assert r.json()["key_info"] == {"key_id": kid, "key_description": "test"}


def test_update_key_description_bounds(kms, create_key):
    kid = create_key(key_description="x")
    assert kh.update_description(kms, kid, "").key_info.key_description == ""  # 0 chars allowed
    assert kh.describe(kms, kid).key_description == ""
    long = "é" * 255  # 255 characters (not bytes)
    assert kh.update_description(kms, kid, long).key_info.key_description == long
    expect_kms_error(lambda: kh.update_description(kms, kid, "d" * 256), 400, support.KMS_INVALID_DESCRIPTION)
    assert kh.describe(kms, kid).key_description == long


def test_update_key_description_disabled_key_allowed(kms, create_key):
    # seed 003 only forbids default keys and keys pending deletion
    kid = create_key()
    kh.disable(kms, kid)
    assert kh.update_description(kms, kid, "while disabled").key_info.key_description == "while disabled"


def test_update_key_description_pending_deletion_refused(kms, create_key):
    # seed 003: 密钥处于“计划删除”状态，密钥描述不可以修改。
    kid = create_key(key_description="orig")
    kh.schedule_deletion(kms, kid, "7")
    expect_kms_error(lambda: kh.update_description(kms, kid, "new"), 400, support.KMS_KEY_PENDING_DELETION)
    assert kh.describe(kms, kid).key_description == "orig"


def test_update_key_description_missing_description(kms, create_key):
    kid = create_key()
    expect_kms_error(lambda: kms.update_key_description(UpdateKeyDescriptionRequest(
        body=UpdateKeyDescriptionRequestBody(key_id=kid))), 400,
        (support.KMS_MISSING_PARAM, support.KMS_INVALID_DESCRIPTION))


def test_update_key_description_unknown_and_malformed(kms):
    expect_kms_error(lambda: kh.update_description(kms, support.rand_uuid(), "t"), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: kh.update_description(kms, "0D0466B0-E727-4D9C-B35D-F84BB474A37F", "t"), 400,
                     support.KMS_INVALID_KEY_ID)


# --------------------------------------------------------------------------- UpdateKeyAlias
def test_update_key_alias(kms, create_key):
    kid = create_key()
    new = support.unique("renamed")
    r = kh.update_alias(kms, kid, new)
    assert r.key_info.key_id == kid and r.key_info.key_alias == new
    assert kh.describe(kms, kid).key_alias == new


def test_update_key_alias_frees_old_alias(kms, create_key):
    old = support.unique("old")
    kid = create_key(key_alias=old)
    kh.update_alias(kms, kid, support.unique("new"))
    other = create_key(key_alias=old)  # the old alias is free again
    assert kh.describe(kms, other).key_alias == old


def test_update_key_alias_duplicate(kms, create_key):
    a = support.unique("a")
    create_key(key_alias=a)
    kid = create_key()
    expect_kms_error(lambda: kh.update_alias(kms, kid, a), 400, support.KMS_ALIAS_EXISTS)


@pytest.mark.parametrize("alias", ["foo/default", "bad alias", "", "y" * 256])
def test_update_key_alias_invalid(kms, create_key, alias):
    kid = create_key()
    expect_kms_error(lambda: kh.update_alias(kms, kid, alias), 400, support.KMS_INVALID_ALIAS)


def test_update_key_alias_unknown_and_malformed(kms):
    expect_kms_error(lambda: kh.update_alias(kms, support.rand_uuid(), support.unique("u")), 404,
                     support.KMS_NOT_FOUND)
    expect_kms_error(lambda: kh.update_alias(kms, "nope", support.unique("u")), 400, support.KMS_INVALID_KEY_ID)


# --------------------------------------------------------------------------- instances / quotas
def test_show_user_instances_counts_non_default_keys(kms, create_key):
    before = kms.show_user_instances(ShowUserInstancesRequest()).instance_num
    assert isinstance(before, int)
    create_key()
    create_key(key_spec="RSA_2048")
    after = kms.show_user_instances(ShowUserInstancesRequest()).instance_num
    assert after == before + 2
    non_default = [k for k in kh.list_all_key_details(kms) if k.default_key_flag != "1"]
    assert after == len(non_default)


def test_show_user_quotas(kms, create_key):
    def cmk():
        res = kms.show_user_quotas(ShowUserQuotasRequest()).quotas.resources
        by_type = {r.type: r for r in res}
        assert "CMK" in by_type, [r.type for r in res]
        return by_type["CMK"]

    c = cmk()
    assert isinstance(c.quota, int) and c.quota > 0
    assert isinstance(c.used, int) and 0 <= c.used <= c.quota
    create_key()
    assert cmk().used == c.used + 1


def test_instances_and_quotas_wrong_project(make_kms, root_identity, acme_identity):
    foreign = make_kms(root_identity, project_id=acme_identity.project_id)
    expect_kms_error(lambda: foreign.show_user_instances(ShowUserInstancesRequest()), 403,
                     support.KMS_TOKEN_PROJECT_MISMATCH)
    expect_kms_error(lambda: foreign.show_user_quotas(ShowUserQuotasRequest()), 403,
                     support.KMS_TOKEN_PROJECT_MISMATCH)


# --------------------------------------------------------------------------- versions
def test_show_versions(kms):
    resp = kms.show_versions(ShowVersionsRequest())
    ids = {v.id: v for v in (resp.versions or [])}
    assert "v1.0" in ids, list(ids)
    v = ids["v1.0"]
    assert v.status in ("CURRENT", "SUPPORTED", "DEPRECATED")
    assert any(link.rel == "self" and link.href for link in (v.links or []))


def test_show_version(kms):
    resp = kms.show_version(ShowVersionRequest(version_id="v1.0"))
    version = resp.version
    assert isinstance(version, dict), version
    assert version.get("id") == "v1.0"
    assert version.get("status") in ("CURRENT", "SUPPORTED", "DEPRECATED")


def test_show_version_unknown(kms):
    # docs/error-codes.md: 400 KMS.0201 "Invalid request URL." (malformed or unknown URL)
    expect_kms_error(lambda: kms.show_version(ShowVersionRequest(version_id="v9.9")), 400, support.KMS_INVALID_URL)
