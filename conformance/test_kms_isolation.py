"""Tenant isolation: the root domain and the "acme" domain (declared in the config file).

* A key of another project behaves as if it did not exist (404 KMS.0207).
* Valid credentials used on another domain's project id in the path -> 403 (KMS.0321).
"""

import pytest
from huaweicloudsdkkms.v2 import (
    BatchCreateKmsTagsRequest,
    BatchCreateKmsTagsRequestBody,
    DeleteTagRequest,
    ListKmsByTagsRequest,
    ListKmsByTagsRequestBody,
    ListKmsTagsRequest,
    ShowKmsTagsRequest,
    ShowUserInstancesRequest,
    Tag,
    TagItem,
)

import kms_helpers as kh
import support
from support import expect_kms_error


@pytest.fixture
def root_key(create_key):
    return create_key(key_alias=support.unique("root-owned"))


def test_acme_cannot_see_root_key(acme_kms, root_key):
    expect_kms_error(lambda: kh.describe(acme_kms, root_key), 404, support.KMS_NOT_FOUND)


@pytest.mark.parametrize("op", ["enable", "disable", "schedule_deletion", "cancel_deletion"])
def test_acme_cannot_change_root_key_state(acme_kms, kms, root_key, op):
    fn = getattr(kh, op)
    expect_kms_error(lambda: fn(acme_kms, root_key), 404, support.KMS_NOT_FOUND)
    assert kh.describe(kms, root_key).key_state == "2"


def test_acme_cannot_update_root_key(acme_kms, kms, root_key):
    expect_kms_error(lambda: kh.update_description(acme_kms, root_key, "pwned"), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: kh.update_alias(acme_kms, root_key, support.unique("pwned")), 404,
                     support.KMS_NOT_FOUND)
    d = kh.describe(kms, root_key)
    assert d.key_description != "pwned" and not d.key_alias.startswith("pwned")


def test_acme_cannot_touch_root_key_tags(acme_kms, kms, root_key):
    kh_tags_before = kh.tags_of(kms, root_key)
    body = BatchCreateKmsTagsRequestBody(action="create", tags=[TagItem(key="k", value="v")])
    expect_kms_error(lambda: acme_kms.batch_create_kms_tags(BatchCreateKmsTagsRequest(key_id=root_key, body=body)),
                     404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: acme_kms.show_kms_tags(ShowKmsTagsRequest(key_id=root_key)), 404,
                     support.KMS_NOT_FOUND)
    expect_kms_error(lambda: acme_kms.delete_tag(DeleteTagRequest(key_id=root_key, key="k")), 404,
                     support.KMS_NOT_FOUND)
    assert kh.tags_of(kms, root_key) == kh_tags_before


def test_list_keys_is_per_project(acme_kms, kms, root_key, create_key):
    acme_key = create_key(client=acme_kms)
    root_ids = {k.key_id for k in kh.list_all_key_details(kms)}
    acme_ids = {k.key_id for k in kh.list_all_key_details(acme_kms)}
    assert root_key in root_ids and root_key not in acme_ids
    assert acme_key in acme_ids and acme_key not in root_ids
    assert root_ids.isdisjoint(acme_ids)


def test_each_project_has_its_own_default_key(acme_kms, kms, tenant, acme_identity):
    r, a = kh.default_key(kms), kh.default_key(acme_kms)
    assert r.key_id != a.key_id
    assert r.domain_id == tenant.domain_id
    assert a.domain_id == acme_identity.domain_id
    assert r.key_alias == a.key_alias == "kms/default"


def test_alias_uniqueness_is_per_project(acme_kms, create_key, kms):
    alias = support.unique("shared-alias")
    r = create_key(key_alias=alias)
    a = create_key(client=acme_kms, key_alias=alias)
    assert r != a
    assert kh.describe(kms, r).key_alias == alias
    assert kh.describe(acme_kms, a).key_alias == alias


def test_instance_count_is_per_project(acme_kms, kms, create_key):
    before_root = kms.show_user_instances(ShowUserInstancesRequest()).instance_num
    before_acme = acme_kms.show_user_instances(ShowUserInstancesRequest()).instance_num
    create_key(client=acme_kms)
    assert kms.show_user_instances(ShowUserInstancesRequest()).instance_num == before_root
    assert acme_kms.show_user_instances(ShowUserInstancesRequest()).instance_num == before_acme + 1


def test_tag_views_are_per_project(acme_kms, kms, root_key):
    tag = support.unique("secret-tag")
    kms.batch_create_kms_tags(BatchCreateKmsTagsRequest(
        key_id=root_key, body=BatchCreateKmsTagsRequestBody(action="create", tags=[TagItem(key=tag, value="v")])))
    assert tag in {t.key for t in kms.list_kms_tags(ListKmsTagsRequest()).tags}
    assert tag not in {t.key for t in (acme_kms.list_kms_tags(ListKmsTagsRequest()).tags or [])}
    resp = acme_kms.list_kms_by_tags(ListKmsByTagsRequest(
        resource_instances="resource_instances",
        body=ListKmsByTagsRequestBody(action="filter", tags=[Tag(key=tag, values=["v"])])))
    assert not resp.resources
    assert resp.total_count == 0


@pytest.mark.parametrize("caller,target", [("root", "acme"), ("acme", "root")])
def test_foreign_project_in_path_is_403(make_kms, root_identity, acme_identity, caller, target):
    ids = {"root": root_identity, "acme": acme_identity}
    client = make_kms(ids[caller], project_id=ids[target].project_id)
    expect_kms_error(lambda: client.show_user_instances(ShowUserInstancesRequest()), 403,
                     support.KMS_TOKEN_PROJECT_MISMATCH)
    expect_kms_error(lambda: kh.list_keys(client, key_spec="ALL"), 403, support.KMS_TOKEN_PROJECT_MISMATCH)


def test_foreign_project_cannot_create_key(make_kms, root_identity, acme_identity, acme_kms):
    from huaweicloudsdkkms.v2 import CreateKeyRequest, CreateKeyRequestBody

    alias = support.unique("intruder")
    client = make_kms(root_identity, project_id=acme_identity.project_id)
    expect_kms_error(lambda: client.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=alias))),
                     403, support.KMS_TOKEN_PROJECT_MISMATCH)
    assert alias not in {k.key_alias for k in kh.list_all_key_details(acme_kms)}


def test_foreign_project_raw_signed(raw, root_identity, acme_identity):
    """Properly signed by root, X-Project-Id and path both naming acme's project."""
    r = raw(root_identity, "GET", f"/v1.0/{acme_identity.project_id}/kms/user-instances",
            project_header=acme_identity.project_id)
    assert r.status == 403, r.body
    assert support.error_code_of(r.body) == support.KMS_TOKEN_PROJECT_MISMATCH
