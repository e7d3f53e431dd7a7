"""Persistence across a graceful restart (SIGTERM, same --data-dir)."""

import pytest
from huaweicloudsdkkms.v2 import ShowUserInstancesRequest, ListKmsTagsRequest

import kms_helpers as kh
import support
from support import DewstackServer


def _snapshot(client):
    keys = sorted((k.to_dict() for k in kh.list_all_key_details(client)), key=lambda d: d["key_id"])
    tags = {k["key_id"]: kh.tags_of(client, k["key_id"]) for k in keys}
    agg = sorted((t.key, tuple(sorted(t.values or []))) for t in (client.list_kms_tags(ListKmsTagsRequest()).tags or []))
    return {
        "keys": keys,
        "tags": tags,
        "tag_index": agg,
        "instances": client.show_user_instances(ShowUserInstancesRequest()).instance_num,
        "total": kh.list_keys(client, limit="1", key_spec="ALL").total,
    }


def test_everything_survives_restart(server, make_kms, tenant, acme_identity, create_key, restart_server):
    kms, acme = make_kms(tenant), make_kms(acme_identity)

    enabled = create_key(key_description="persist me")
    disabled = create_key(key_spec="RSA_3072")
    kh.disable(kms, disabled)
    pending = create_key(key_spec="SM4")
    kh.schedule_deletion(kms, pending, "30")
    external = create_key(origin="external")
    renamed = create_key()
    new_alias = support.unique("renamed")
    kh.update_alias(kms, renamed, new_alias)
    kh.update_description(kms, renamed, "описание")
    kh.batch_tags(kms, enabled, "create", [("key1", "value1"), ("key", "value3"), ("键", "值")])
    acme_key = create_key(client=acme, key_alias=support.unique("acme-persist"))
    kh.batch_tags(acme, acme_key, "create", [("team", "red")])

    before_root, before_acme = _snapshot(kms), _snapshot(acme)

    exit_code = restart_server()
    assert exit_code == 0, f"graceful SIGTERM shutdown should exit 0, got {exit_code}"

    kms, acme = make_kms(tenant), make_kms(acme_identity)
    after_root, after_acme = _snapshot(kms), _snapshot(acme)
    assert after_root == before_root
    assert after_acme == before_acme

    # spot checks that make the snapshot comparison meaningful
    assert kh.describe(kms, enabled).key_description == "persist me"
    assert kh.describe(kms, disabled).key_state == "3"
    d = kh.describe(kms, pending)
    assert d.key_state == "4" and d.scheduled_deletion_date
    assert kh.describe(kms, external).key_state == "5"
    assert kh.describe(kms, renamed).key_alias == new_alias
    assert kh.tags_of(kms, enabled) == {"key1": "value1", "key": "value3", "键": "值"}
    assert kh.tags_of(acme, acme_key) == {"team": "red"}

    # state machine keeps working on restored keys
    assert kh.cancel_deletion(kms, pending).key_state == "3"
    assert kh.enable(kms, disabled).key_info.key_state == "2"


def test_alias_uniqueness_survives_restart(make_kms, tenant, create_key, restart_server):
    alias = support.unique("unique-after-restart")
    create_key(key_alias=alias)
    restart_server()
    kms = make_kms(tenant)
    from huaweicloudsdkkms.v2 import CreateKeyRequest, CreateKeyRequestBody

    support.expect_kms_error(lambda: kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=alias))),
                             400, support.KMS_ALIAS_EXISTS)


def test_generated_identity_is_persisted(tmp_path):
    """No DEWSTACK_* identity env: credentials are generated once and kept in the data dir."""
    srv = DewstackServer(tmp_path / "data", tmp_path / "logs", identity_env={}, name="generated")
    srv.start()
    try:
        b1 = dict(srv.banner)
        ak, sk, pid = b1.get("HUAWEICLOUD_SDK_AK"), b1.get("HUAWEICLOUD_SDK_SK"), b1.get("HUAWEICLOUD_SDK_PROJECT_ID")
        assert ak and sk and pid, b1
        assert len(ak) == 20 and ak.isalnum() and ak.upper() == ak, ak
        assert len(sk) == 40 and sk.isalnum(), "secret key should be 40 alphanumerics"
        assert len(pid) == 32 and all(c in "0123456789abcdef" for c in pid), pid
        ident = support.Identity(ak=ak, sk=sk, domain_id="", project_id=pid, user="", password="")
        client = support.kms_client(srv.endpoint, ident)
        from huaweicloudsdkkms.v2 import CreateKeyRequest, CreateKeyRequestBody

        kid = client.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias="gen-id"))).key_info.key_id
        default_id = kh.default_key(client).key_id

        assert srv.restart() == 0
        b2 = srv.banner
        assert (b2.get("HUAWEICLOUD_SDK_AK"), b2.get("HUAWEICLOUD_SDK_SK"), b2.get("HUAWEICLOUD_SDK_PROJECT_ID")) \
            == (ak, sk, pid)
        client = support.kms_client(srv.endpoint, ident)
        assert kh.describe(client, kid).key_alias == "gen-id"
        assert kh.default_key(client).key_id == default_id
    finally:
        srv.stop()


def test_default_key_id_stable_across_restart(make_kms, root_identity, acme_identity, restart_server):
    before = (kh.default_key(make_kms(root_identity)).key_id, kh.default_key(make_kms(acme_identity)).key_id)
    restart_server()
    after = (kh.default_key(make_kms(root_identity)).key_id, kh.default_key(make_kms(acme_identity)).key_id)
    assert before == after
