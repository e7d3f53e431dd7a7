"""KMS alias resources (CreateAlias, AssociateAlias, DeleteAlias, ListAliases) and the
region operations (ListSupportRegions, ReplicateKey, UpdatePrimaryRegion), through the SDK.

Rules drawn from the SDK models and the provider docs:
* an alias is "alias/" + name, unique per project ("一个账号在同一个区域别名不能重复"),
  many aliases per key, each with an alias_urn and create/update times;
* ListAliases answers a JSON array of {aliases, page_info{next_marker, current_count}}
  (the SDK models the body as list[ListAliasResponseBody]);
* dewstack serves one region: ListSupportRegions lists it, ReplicateKey and
  UpdatePrimaryRegion are refused with 400 KMS.1102 ("Invalid realm.").
"""

from __future__ import annotations

import dataclasses

import pytest
from huaweicloudsdkkms.v2 import (
    AssociateAliasRequest,
    AssociateAliasRequestBody,
    CreateAliasRequest,
    CreateAliasRequestBody,
    DeleteAliasRequest,
    DeleteAliasRequestBody,
    ListAliasesRequest,
    ListSupportRegionsRequest,
    ReplicateKeyRequest,
    ReplicateKeyRequestBody,
    UpdatePrimaryRegionRequest,
    UpdatePrimaryRegionRequestBody,
)

import kms_helpers as kh
import support
from support import expect_kms_error

MISSING_KEY = "00000000-0000-4000-8000-000000000000"
KMS_INVALID_REALM = "KMS.1102"


def new_alias() -> str:
    return "alias/" + support.unique("a")


def create_alias(client, key_id, alias):
    return client.create_alias(CreateAliasRequest(body=CreateAliasRequestBody(key_id=key_id, alias=alias)))


def associate(client, alias, target):
    return client.associate_alias(AssociateAliasRequest(
        body=AssociateAliasRequestBody(alias=alias, target_key_id=target)))


def delete_aliases(client, key_id, aliases):
    return client.delete_alias(DeleteAliasRequest(body=DeleteAliasRequestBody(aliases=aliases, key_id=key_id)))


def list_page(client, **query):
    resp = client.list_aliases(ListAliasesRequest(**query))
    assert isinstance(resp.body, list) and len(resp.body) == 1, resp
    return resp.body[0]


def all_aliases(client, key_id=None, limit="2"):
    out, marker = [], None
    for _ in range(100):
        page = list_page(client, key_id=key_id, limit=limit, marker=marker)
        assert page.page_info.current_count == len(page.aliases or [])
        out.extend(page.aliases or [])
        if not page.page_info.next_marker:
            return out
        marker = page.page_info.next_marker
    raise AssertionError("ListAliases paging did not terminate")


@pytest.fixture
def other_project(pool_identity, pool_projects, make_kms):
    """A client of a second, fresh project of the same domain as ``tenant``."""
    pid, pname = next(pool_projects["next"])
    ident = dataclasses.replace(pool_identity, project_id=pid, project_name=pname)
    return make_kms(ident)


# ---- CreateAlias ----

def test_create_alias_returns_entity(kms, create_key, tenant):
    key = create_key()
    alias = new_alias()
    resp = create_alias(kms, key, alias)
    assert resp.key_id == key and resp.alias == alias
    assert resp.domain_id == tenant.domain_id
    assert resp.alias_urn and alias in resp.alias_urn and support.REGION in resp.alias_urn
    assert resp.create_time and resp.create_time.isdigit()
    assert resp.update_time == resp.create_time
    listed = all_aliases(kms, key_id=key)
    assert [(a.alias, a.key_id, a.alias_urn) for a in listed] == [(alias, key, resp.alias_urn)]


def test_key_may_have_many_aliases_and_keeps_its_name(kms, create_key):
    key = create_key(key_alias=support.unique("named"))
    name = kh.describe(kms, key).key_alias
    aliases = [new_alias() for _ in range(3)]
    for a in aliases:
        create_alias(kms, key, a)
    assert sorted(a.alias for a in all_aliases(kms, key_id=key)) == sorted(aliases)
    assert kh.describe(kms, key).key_alias == name


def test_duplicate_alias_refused_even_for_another_key(kms, create_key):
    k1, k2 = create_key(), create_key()
    alias = new_alias()
    create_alias(kms, k1, alias)
    expect_kms_error(lambda: create_alias(kms, k1, alias), 400, support.KMS_ALIAS_EXISTS)
    expect_kms_error(lambda: create_alias(kms, k2, alias), 400, support.KMS_ALIAS_EXISTS)
    assert [a.key_id for a in all_aliases(kms) if a.alias == alias] == [k1]


def test_alias_and_key_name_are_separate(kms, create_key):
    """The key's own name (key_alias) and alias resources do not collide."""
    name = "alias/" + support.unique("name")
    key = create_key(key_alias=name)
    create_alias(kms, key, name)
    assert [a.alias for a in all_aliases(kms, key_id=key)] == [name]


@pytest.mark.parametrize("bad", ["", "alias/", "noprefix", "Alias/x", "alias/has space",
                                 "alias/" + "x" * 250])
def test_bad_alias_names(kms, create_key, bad):
    key = create_key()
    code = support.KMS_MISSING_PARAM if bad == "" else support.KMS_INVALID_PARAM
    expect_kms_error(lambda: create_alias(kms, key, bad), 400, (code, support.KMS_INVALID_PARAM))
    assert all_aliases(kms, key_id=key) == []


def test_create_alias_missing_fields(kms, create_key):
    key = create_key()
    expect_kms_error(lambda: kms.create_alias(CreateAliasRequest(body=CreateAliasRequestBody(key_id=key))),
                     400, support.KMS_MISSING_PARAM)
    expect_kms_error(lambda: kms.create_alias(CreateAliasRequest(body=CreateAliasRequestBody(alias=new_alias()))),
                     400, support.KMS_MISSING_PARAM)
    expect_kms_error(lambda: create_alias(kms, "not-a-key-id", new_alias()), 400, support.KMS_INVALID_KEY_ID)


def test_create_alias_missing_key(kms):
    expect_kms_error(lambda: create_alias(kms, MISSING_KEY, new_alias()), 404, support.KMS_NOT_FOUND)
    assert all_aliases(kms) == []


def test_default_key_refuses_aliases(kms):
    default = kh.default_key(kms)
    expect_kms_error(lambda: create_alias(kms, default.key_id, new_alias()), 400, support.KMS_DEFAULT_KEY)


def test_pending_deletion_key_refuses_new_aliases_keeps_old(kms, create_key):
    key = create_key()
    alias = new_alias()
    create_alias(kms, key, alias)
    kh.schedule_deletion(kms, key)
    expect_kms_error(lambda: create_alias(kms, key, new_alias()), 400, support.KMS_KEY_PENDING_DELETION)
    assert [a.alias for a in all_aliases(kms, key_id=key)] == [alias]
    kh.cancel_deletion(kms, key)
    create_alias(kms, key, new_alias())


# ---- AssociateAlias ----

def test_associate_moves_alias(kms, create_key):
    k1, k2 = create_key(), create_key()
    alias = new_alias()
    created = create_alias(kms, k1, alias)
    moved = associate(kms, alias, k2)
    assert moved.key_id == k2 and moved.alias == alias
    assert moved.create_time == created.create_time
    assert int(moved.update_time) >= int(created.update_time)
    assert all_aliases(kms, key_id=k1) == []
    assert [a.alias for a in all_aliases(kms, key_id=k2)] == [alias]


def test_associate_errors(kms, create_key):
    k1, k2 = create_key(), create_key()
    alias = new_alias()
    create_alias(kms, k1, alias)
    expect_kms_error(lambda: associate(kms, new_alias(), k2), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: associate(kms, alias, MISSING_KEY), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: associate(kms, alias, "bad"), 400, support.KMS_INVALID_KEY_ID)
    expect_kms_error(lambda: associate(kms, "bad", k2), 400, support.KMS_INVALID_PARAM)
    expect_kms_error(lambda: associate(kms, alias, kh.default_key(kms).key_id), 400, support.KMS_DEFAULT_KEY)
    expect_kms_error(lambda: kms.associate_alias(AssociateAliasRequest(
        body=AssociateAliasRequestBody(alias=alias))), 400, support.KMS_MISSING_PARAM)
    assert [a.key_id for a in all_aliases(kms)] == [k1]


# ---- DeleteAlias ----

def test_delete_aliases(kms, create_key):
    key = create_key()
    a, b, c = new_alias(), new_alias(), new_alias()
    for x in (a, b, c):
        create_alias(kms, key, x)
    delete_aliases(kms, key, [a, b])
    assert [x.alias for x in all_aliases(kms, key_id=key)] == [c]
    expect_kms_error(lambda: delete_aliases(kms, key, [a]), 404, support.KMS_NOT_FOUND)


def test_delete_is_all_or_nothing_and_checks_the_key(kms, create_key):
    k1, k2 = create_key(), create_key()
    a1, a2 = new_alias(), new_alias()
    create_alias(kms, k1, a1)
    create_alias(kms, k2, a2)
    # a2 belongs to k2: nothing is deleted
    expect_kms_error(lambda: delete_aliases(kms, k1, [a1, a2]), 404, support.KMS_NOT_FOUND)
    assert {x.alias for x in all_aliases(kms)} == {a1, a2}
    expect_kms_error(lambda: delete_aliases(kms, MISSING_KEY, [a1]), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: delete_aliases(kms, k1, []), 400, support.KMS_MISSING_PARAM)
    expect_kms_error(lambda: delete_aliases(kms, k1, ["bad"]), 400, support.KMS_INVALID_PARAM)
    expect_kms_error(lambda: kms.delete_alias(DeleteAliasRequest(
        body=DeleteAliasRequestBody(aliases=[a1]))), 400, support.KMS_MISSING_PARAM)
    assert {x.alias for x in all_aliases(kms)} == {a1, a2}


# ---- ListAliases ----

def test_list_aliases_paging(kms, create_key):
    k1, k2 = create_key(), create_key()
    mine = [new_alias() for _ in range(5)]
    for a in mine:
        create_alias(kms, k1, a)
    create_alias(kms, k2, new_alias())
    first = list_page(kms, key_id=k1, limit="2")
    assert len(first.aliases) == 2 and first.page_info.current_count == 2 and first.page_info.next_marker
    listed = all_aliases(kms, key_id=k1, limit="2")
    assert sorted(a.alias for a in listed) == sorted(mine)  # each exactly once
    assert len(all_aliases(kms, limit="4")) == 6
    last = list_page(kms, key_id=k1, limit="5")
    assert last.page_info.current_count == 5 and not last.page_info.next_marker
    past = list_page(kms, key_id=k1, marker="99")
    assert past.aliases == [] and past.page_info.current_count == 0


def test_list_aliases_bad_query(kms, create_key):
    expect_kms_error(lambda: list_page(kms, limit="0"), 400, support.KMS_LIMIT_RANGE)
    expect_kms_error(lambda: list_page(kms, limit="x"), 400, support.KMS_LIMIT_RANGE)
    expect_kms_error(lambda: list_page(kms, marker="-1"), 400, support.KMS_MARKER_INVALID)
    expect_kms_error(lambda: list_page(kms, key_id="bad"), 400, support.KMS_INVALID_KEY_ID)
    expect_kms_error(lambda: list_page(kms, key_id=MISSING_KEY), 404, support.KMS_NOT_FOUND)


# ---- isolation ----

def test_aliases_are_isolated_between_projects(kms, create_key, other_project):
    key = create_key()
    alias = new_alias()
    create_alias(kms, key, alias)
    # The other project sees nothing, cannot use, move or delete the alias or the key...
    assert all_aliases(other_project) == []
    expect_kms_error(lambda: list_page(other_project, key_id=key), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: create_alias(other_project, key, new_alias()), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: delete_aliases(other_project, key, [alias]), 404, support.KMS_NOT_FOUND)
    other_key = create_key(client=other_project)
    expect_kms_error(lambda: associate(other_project, alias, other_key), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: associate(kms, alias, other_key), 404, support.KMS_NOT_FOUND)
    # ... but may have an alias of the same name of its own.
    create_alias(other_project, other_key, alias)
    assert [(a.alias, a.key_id) for a in all_aliases(kms)] == [(alias, key)]
    assert [(a.alias, a.key_id) for a in all_aliases(other_project)] == [(alias, other_key)]


def test_other_domain_cannot_see_aliases(kms, acme_kms, create_key):
    key = create_key()
    alias = new_alias()
    create_alias(kms, key, alias)
    assert alias not in [a.alias for a in all_aliases(acme_kms)]
    expect_kms_error(lambda: delete_aliases(acme_kms, key, [alias]), 404, support.KMS_NOT_FOUND)
    assert [a.alias for a in all_aliases(kms)] == [alias]


# ---- regions ----

def test_list_support_regions(kms):
    resp = kms.list_support_regions(ListSupportRegionsRequest())
    assert resp.regions == [support.REGION]
    assert kms.list_support_regions(ListSupportRegionsRequest(limit=1, offset=0)).regions == [support.REGION]
    assert kms.list_support_regions(ListSupportRegionsRequest(offset=1)).regions == []


def test_replicate_key_refused(kms, create_key):
    key = create_key()
    body = ReplicateKeyRequestBody(key_id=key, replica_region="cn-south-1", key_alias=support.unique("r"))
    expect_kms_error(lambda: kms.replicate_key(ReplicateKeyRequest(key_id=key, body=body)), 400, KMS_INVALID_REALM)
    same = ReplicateKeyRequestBody(key_id=key, replica_region=support.REGION)
    expect_kms_error(lambda: kms.replicate_key(ReplicateKeyRequest(key_id=key, body=same)), 400, KMS_INVALID_REALM)
    missing = ReplicateKeyRequestBody(key_id=MISSING_KEY, replica_region="cn-south-1")
    expect_kms_error(lambda: kms.replicate_key(ReplicateKeyRequest(key_id=MISSING_KEY, body=missing)),
                     404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: kms.replicate_key(ReplicateKeyRequest(
        key_id=key, body=ReplicateKeyRequestBody(key_id=key))), 400, support.KMS_MISSING_PARAM)
    assert kh.describe(kms, key).key_state == "2"


def test_update_primary_region_refused(kms, create_key, other_project):
    key = create_key()
    body = UpdatePrimaryRegionRequestBody(key_id=key, primary_region="cn-south-1")
    expect_kms_error(lambda: kms.update_primary_region(UpdatePrimaryRegionRequest(key_id=key, body=body)),
                     400, KMS_INVALID_REALM)
    expect_kms_error(lambda: other_project.update_primary_region(
        UpdatePrimaryRegionRequest(key_id=key, body=body)), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: kms.update_primary_region(UpdatePrimaryRegionRequest(
        key_id="bad", body=body)), 400, support.KMS_INVALID_KEY_ID)


def test_an_alias_stands_in_for_the_key_id_in_crypto_calls(kms, create_key, other_project):
    """The user guide: "you can use the alias as the key ID during API calling"."""
    from huaweicloudsdkkms.v2 import (
        CreateDatakeyRequest,
        CreateDatakeyRequestBody,
        DecryptDataRequest,
        DecryptDataRequestBody,
        EncryptDataRequest,
        EncryptDataRequestBody,
        SignRequest,
        SignRequestBody,
    )
    key = create_key()
    alias = new_alias()
    create_alias(kms, key, alias)
    enc = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(key_id=alias, plain_text="by alias")))
    assert enc.key_id == key
    assert kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=enc.cipher_text))).plain_text == "by alias"
    dk = kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=alias, datakey_length="256")))
    assert dk.key_id == key
    signing = create_key(key_spec="EC_P256", key_usage="SIGN_VERIFY")
    sign_alias = new_alias()
    create_alias(kms, signing, sign_alias)
    signed = kms.sign(SignRequest(body=SignRequestBody(
        key_id=sign_alias, message="aGVsbG8=", signing_algorithm="ECDSA_SHA_256", message_type="RAW")))
    assert signed.key_id == signing
    # Another project's alias names nothing there; an alias nobody made, neither.
    expect_kms_error(lambda: other_project.encrypt_data(EncryptDataRequest(
        body=EncryptDataRequestBody(key_id=alias, plain_text="x"))), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: kms.encrypt_data(EncryptDataRequest(
        body=EncryptDataRequestBody(key_id=new_alias(), plain_text="x"))), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: kms.encrypt_data(EncryptDataRequest(
        body=EncryptDataRequestBody(key_id="alias/", plain_text="x"))), 400, support.KMS_INVALID_KEY_ID)


def test_a_key_has_at_most_50_aliases(kms, create_key):
    """The user guide: "A maximum of 50 aliases can be created for a key"."""
    key = create_key()
    for _ in range(50):
        create_alias(kms, key, new_alias())
    expect_kms_error(lambda: create_alias(kms, key, new_alias()), 400, "KMS.9001")
    assert len(all_aliases(kms, key_id=key)) == 50
