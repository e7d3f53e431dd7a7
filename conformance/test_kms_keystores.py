"""KMS key stores backed by SoftHSM2 tokens, through the official Python SDK.

A dewstack of its own is started with ``[[hsm_clusters]]`` naming fresh SoftHSM2
tokens. Skipped when SoftHSM2 is not installed, unless DEWSTACK_TEST_REQUIRE_SOFTHSM=1
(scripts/test.sh installs it and sets that): then the tests fail.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from huaweicloudsdkkms.v2 import (
    CreateDatakeyRequest,
    CreateDatakeyRequestBody,
    CreateKeyRequest,
    CreateKeyRequestBody,
    CreateKeyStoreRequest,
    CreateKeyStoreRequestBody,
    DecryptDataRequest,
    DecryptDataRequestBody,
    DecryptDatakeyRequest,
    DecryptDatakeyRequestBody,
    DeleteKeyStoreRequest,
    DisableKeyStoreRequest,
    EnableKeyStoreRequest,
    EncryptDataRequest,
    EncryptDataRequestBody,
    GenerateMacRequest,
    GenerateMacRequestBody,
    ListKeyStoresRequest,
    ShowKeyStoreRequest,
    SignRequest,
    SignRequestBody,
    ValidateSignatureRequest,
    VerifyMacRequest,
    VerifyMacRequestBody,
    VerifyRequestBody,
)

import kms_helpers
import support
from support import DewstackServer, expect_kms_error

MODULE = os.environ.get("DEWSTACK_TEST_SOFTHSM_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
CLUSTERS = ["conf-hsm-1", "conf-hsm-2", "conf-hsm-3"]
# Not a hex string: a short or hex PIN turns up by chance in request ids, and the
# test below greps the log for it.
PIN = "Softhsm-Pin-Xyz-Quartz"


def _softhsm_missing():
    if not shutil.which("softhsm2-util"):
        return "softhsm2-util is not installed"
    if not Path(MODULE).exists():
        return f"{MODULE} does not exist"
    return None


@pytest.fixture(scope="module")
def hsm_server(tmp_path_factory):
    missing = _softhsm_missing()
    if missing:
        if os.environ.get("DEWSTACK_TEST_REQUIRE_SOFTHSM") == "1":
            pytest.fail(f"{missing}, but DEWSTACK_TEST_REQUIRE_SOFTHSM=1 promised SoftHSM2")
        pytest.skip(f"{missing} (install softhsm2)")
    base = tmp_path_factory.mktemp("keystores")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    env = dict(os.environ, SOFTHSM2_CONF=str(conf))
    for label in CLUSTERS:
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label,
                        "--pin", PIN, "--so-pin", "87654321"], env=env, check=True,
                       capture_output=True)
    pin_file = base / "pin"
    pin_file.write_text(PIN + "\n")
    pin_file.chmod(0o600)
    a, b = support.new_identity("ks-a", "alice"), support.new_identity("ks-b", "bob")
    hsm = "\n".join(
        f'[[hsm_clusters]]\nhsm_cluster_id = "{c}"\nmodule = "{MODULE}"\n'
        f'token_label = "{c}"\npin_file = "{pin_file}"\n' for c in CLUSTERS)
    cfg = base / "dewstack.toml"
    cfg.write_text(hsm + "\n" + support.config_toml([a, b]))
    srv = DewstackServer(base / "data", base / "logs", config=cfg, name="keystores",
                         identity_env={"SOFTHSM2_CONF": str(conf)})
    srv.start()
    yield srv, a, b
    srv.stop()
    assert PIN not in srv.stderr_tail(200000), "the PIN reached the log"


def client(srv, ident):
    return support.kms_client(srv.endpoint, ident)


def new_store(kms, cluster, alias=None):
    body = CreateKeyStoreRequestBody(keystore_alias=alias or support.unique("ks"),
                                     hsm_cluster_id=cluster)
    resp = kms.create_key_store(CreateKeyStoreRequest(body=body))
    assert resp.keystore.keystore_id and resp.keystore.domain_id
    return resp.keystore.keystore_id


def new_key(kms, store, spec, usage):
    body = CreateKeyRequestBody(key_alias=support.unique("hk"), key_spec=spec, key_usage=usage,
                                keystore_id=store)
    return kms.create_key(CreateKeyRequest(body=body)).key_info.key_id


def test_key_store_rules_and_isolation(hsm_server):
    srv, a, b = hsm_server
    kms, other = client(srv, a), client(srv, b)
    alias = support.unique("store")
    ks = new_store(kms, CLUSTERS[0], alias)
    shown = kms.show_key_store(ShowKeyStoreRequest(keystore_id=ks)).keystore
    assert (shown.keystore_alias, shown.hsm_cluster_id, shown.cluster_id, shown.keystore_type) == \
        (alias, CLUSTERS[0], CLUSTERS[0], "DHSM")
    assert shown.domain_id == a.domain_id and shown.create_time.isdigit()
    listed = kms.list_key_stores(ListKeyStoresRequest(limit=10, offset=0))
    assert listed.total == 1 and [k.keystore_id for k in listed.keystores] == [ks]

    # One key store per HSM cluster, across accounts; aliases are unique.
    expect_kms_error(lambda: other.create_key_store(CreateKeyStoreRequest(
        body=CreateKeyStoreRequestBody(keystore_alias="x", hsm_cluster_id=CLUSTERS[0]))), 400, "KMS.9105")
    expect_kms_error(lambda: kms.create_key_store(CreateKeyStoreRequest(
        body=CreateKeyStoreRequestBody(keystore_alias=alias, hsm_cluster_id=CLUSTERS[2]))), 400, "KMS.9104")
    # Malformed or unknown input.
    for body in [CreateKeyStoreRequestBody(keystore_alias="x", hsm_cluster_id="no-such-cluster"),
                 CreateKeyStoreRequestBody(keystore_alias="bad alias!", hsm_cluster_id=CLUSTERS[2]),
                 CreateKeyStoreRequestBody(keystore_alias="x", hsm_cluster_id=CLUSTERS[2],
                                           keystore_type="CDMS")]:
        expect_kms_error(lambda: kms.create_key_store(CreateKeyStoreRequest(body=body)), 400, "KMS.0308")
    expect_kms_error(lambda: kms.create_key_store(CreateKeyStoreRequest(
        body=CreateKeyStoreRequestBody(hsm_cluster_id=CLUSTERS[2]))), 400, "KMS.0204")
    expect_kms_error(lambda: kms.list_key_stores(ListKeyStoresRequest(limit=0)), 400, "KMS.1601")

    # Another account's key store does not exist for it.
    for call in [lambda: other.show_key_store(ShowKeyStoreRequest(keystore_id=ks)),
                 lambda: other.disable_key_store(DisableKeyStoreRequest(keystore_id=ks)),
                 lambda: other.delete_key_store(DeleteKeyStoreRequest(keystore_id=ks))]:
        expect_kms_error(call, 404, "KMS.0207")
    assert other.list_key_stores(ListKeyStoresRequest()).total == 0

    expect_kms_error(lambda: kms.enable_key_store(EnableKeyStoreRequest(keystore_id=ks)), 400, "KMS.9102")
    st = kms.disable_key_store(DisableKeyStoreRequest(keystore_id=ks)).keystore
    assert (st.keystore_id, st.keystore_state) == (ks, "3")
    expect_kms_error(lambda: kms.disable_key_store(DisableKeyStoreRequest(keystore_id=ks)), 400, "KMS.9103")
    assert kms.enable_key_store(EnableKeyStoreRequest(keystore_id=ks)).keystore.keystore_state == "2"

    kms.delete_key_store(DeleteKeyStoreRequest(keystore_id=ks))
    expect_kms_error(lambda: kms.show_key_store(ShowKeyStoreRequest(keystore_id=ks)), 404, "KMS.0207")
    # The cluster is free again, for any account.
    freed = new_store(other, CLUSTERS[0])
    other.delete_key_store(DeleteKeyStoreRequest(keystore_id=freed))


def test_keys_live_and_work_in_the_token(hsm_server):
    srv, a, b = hsm_server
    kms, other = client(srv, a), client(srv, b)
    ks = new_store(kms, CLUSTERS[1])
    aes = new_key(kms, ks, "AES_256", "ENCRYPT_DECRYPT")
    info = kms_helpers.describe(kms, aes)
    assert info.keystore_id == ks

    ct = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
        key_id=aes, plain_text="in the token", additional_authenticated_data="ctx"))).cipher_text
    plain = kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=ct, additional_authenticated_data="ctx")))
    assert (plain.plain_text, plain.key_id) == ("in the token", aes)
    expect_kms_error(lambda: kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=ct, additional_authenticated_data="other"))), 400, "KMS.0308")
    # The other account cannot open it (the blob names a key it does not have).
    expect_kms_error(lambda: other.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=ct, additional_authenticated_data="ctx"))), 400)

    dk = kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(
        key_id=aes, datakey_length="256")))
    opened = kms.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
        key_id=aes, cipher_text=dk.cipher_text, datakey_cipher_length="32")))
    assert opened.data_key == dk.plain_text

    hmac = new_key(kms, ks, "HMAC_384", "GENERATE_VERIFY_MAC")
    msg = base64.b64encode(b"authenticate me").decode()
    mac = kms.generate_mac(GenerateMacRequest(body=GenerateMacRequestBody(
        key_id=hmac, mac_algorithm="HMAC_SHA_384", message=msg))).mac
    assert len(base64.b64decode(mac)) == 48
    ok = kms.verify_mac(VerifyMacRequest(body=VerifyMacRequestBody(
        key_id=hmac, mac_algorithm="HMAC_SHA_384", message=msg, mac=mac)))
    assert ok.mac_valid is True

    ec = new_key(kms, ks, "EC_P384", "SIGN_VERIFY")
    sig = kms.sign(SignRequest(body=SignRequestBody(
        key_id=ec, message=msg, signing_algorithm="ECDSA_SHA_384", message_type="RAW"))).signature
    valid = kms.validate_signature(ValidateSignatureRequest(body=VerifyRequestBody(
        key_id=ec, message=msg, signature=sig, signing_algorithm="ECDSA_SHA_384", message_type="RAW")))
    assert valid.signature_valid == "true"

    # What the token cannot hold is refused; so is importing into it.
    for spec, usage in [("SM4", "ENCRYPT_DECRYPT"), ("SM2", "SIGN_VERIFY"), ("HMAC_SM3", "GENERATE_VERIFY_MAC")]:
        expect_kms_error(lambda: new_key(kms, ks, spec, usage), 400, "KMS.0308")
    expect_kms_error(lambda: kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(
        key_alias=support.unique("ext"), origin="external", keystore_id=ks))), 400, "KMS.0308")
    expect_kms_error(lambda: kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(
        key_alias=support.unique("bad"), keystore_id="not-a-keystore"))), 400, "KMS.0308")
    # Another account cannot make keys in it.
    expect_kms_error(lambda: new_key(other, ks, "AES_256", "ENCRYPT_DECRYPT"), 404, "KMS.0207")

    # A disabled key store's keys are refused; their details still show.
    kms.disable_key_store(DisableKeyStoreRequest(keystore_id=ks))
    expect_kms_error(lambda: kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
        key_id=aes, plain_text="x"))), 400, "KMS.9101")
    expect_kms_error(lambda: kms.sign(SignRequest(body=SignRequestBody(
        key_id=ec, message=msg, signing_algorithm="ECDSA_SHA_384", message_type="RAW"))), 400, "KMS.9101")
    assert kms_helpers.describe(kms, aes).key_state == "2"
    kms.enable_key_store(EnableKeyStoreRequest(keystore_id=ks))

    # Refused while it holds keys, even keys pending deletion.
    expect_kms_error(lambda: kms.delete_key_store(DeleteKeyStoreRequest(keystore_id=ks)), 400, "KMS.9106")
    for key in (aes, hmac, ec):
        kms_helpers.schedule_deletion(kms, key)
    expect_kms_error(lambda: kms.delete_key_store(DeleteKeyStoreRequest(keystore_id=ks)), 400, "KMS.9106")
