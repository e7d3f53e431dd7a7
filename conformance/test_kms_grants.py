"""Grants honoured by every key-using operation (issue 4), through the official SDK.

The key owner is a fresh pool project; the grantee is alice of the acme domain, another
domain and project. For each operation a grant can list (CreateGrantRequestBody's
``operations``: create-datakey, create-datakey-without-plaintext, encrypt-datakey,
decrypt-datakey, describe-key, create-grant, retire-grant, encrypt-data, decrypt-data):

* a grant listing it lets the grantee call it;
* grants that list every other operation but this one: 403 KMS.0306;
* no grant naming the grantee: 404 KMS.0207, or, where the ciphertext names the key,
  the invalid-ciphertext error a forged ciphertext gets.

Key pairs are data keys (create-datakey, or create-datakey-without-plaintext when
``with_plain_text`` is false); ReEncrypt needs decrypt on the source and encrypt on the
destination key. Sign, ValidateSignature, ShowPublicKey, GenerateMac and VerifyMac have
no grant operation, so a grantee is always refused them (403) and they stay the owner's.
ShowUserQuotas reports grant_per_CMK ``used`` as the most grants on any one key.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from huaweicloudsdkkms.v2 import (
    CancelGrantRequest,
    CreateDatakeyRequest,
    CreateDatakeyRequestBody,
    CreateDatakeyWithoutPlaintextRequest,
    CreateEcDatakeyPairRequest,
    CreateEcDatakeyPairRequestBody,
    CreateGrantRequest,
    CreateGrantRequestBody,
    CreateRsaDatakeyPairRequest,
    CreateRsaDatakeyPairRequestBody,
    DecryptDataRequest,
    DecryptDataRequestBody,
    DecryptDatakeyRequest,
    DecryptDatakeyRequestBody,
    EncryptDataRequest,
    EncryptDataRequestBody,
    EncryptDatakeyRequest,
    EncryptDatakeyRequestBody,
    GenerateMacRequest,
    GenerateMacRequestBody,
    OperateKeyRequestBody,
    ReEncryptRequest,
    ReEncryptRequestBody,
    RevokeGrantRequestBody,
    ShowPublicKeyRequest,
    ShowUserQuotasRequest,
    SignRequest,
    SignRequestBody,
    ValidateSignatureRequest,
    VerifyMacRequest,
    VerifyMacRequestBody,
    VerifyRequestBody,
)

import kms_helpers as kh
import support
from support import expect_kms_error

GRANTABLE = ["create-datakey", "create-datakey-without-plaintext", "encrypt-datakey", "decrypt-datakey",
             "describe-key", "create-grant", "retire-grant", "encrypt-data", "decrypt-data"]
NO_PERMISSION = "KMS.0306"
INVALID_DATAKEY_CIPHERTEXT = "KMS.2201"

b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731


def all_but(operation):
    return [o for o in GRANTABLE if o != operation]


def grant(owner, key_id, grantee, operations):
    body = CreateGrantRequestBody(key_id=key_id, grantee_principal=grantee, operations=operations)
    return owner.create_grant(CreateGrantRequest(body=body)).grant_id


def revoke(owner, key_id, grant_id):
    owner.cancel_grant(CancelGrantRequest(body=RevokeGrantRequestBody(key_id=key_id, grant_id=grant_id)))


def encrypt(c, key_id, text):
    return c.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(key_id=key_id, plain_text=text))).cipher_text


def decrypt(c, ct):
    return c.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(cipher_text=ct))).plain_text


def create_datakey(c, key_id):
    return c.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=key_id)))


def decrypt_datakey(c, key_id, ct, length=32):
    return c.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
        key_id=key_id, cipher_text=ct, datakey_cipher_length=str(length)))).data_key


def re_encrypt(c, ct, destination, datakey_length=None):
    return c.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=ct, destination_key_id=destination, datakey_cipher_length=datakey_length)))


# ---- one call per grantable operation: (grantee, owner, key, grantee's user id) ----
# Each checks its own result, with the owner's help where needed.
def call_create_datakey(acme, owner, key, me):
    made = create_datakey(acme, key)
    assert made.key_id == key
    assert decrypt_datakey(owner, key, made.cipher_text).lower() == made.plain_text.lower()


def call_create_datakey_without_plaintext(acme, owner, key, me):
    made = acme.create_datakey_without_plaintext(CreateDatakeyWithoutPlaintextRequest(
        body=CreateDatakeyRequestBody(key_id=key)))
    assert len(bytes.fromhex(decrypt_datakey(owner, key, made.cipher_text))) == 32


def call_encrypt_datakey(acme, owner, key, me):
    dek = bytes(range(32))
    made = acme.encrypt_datakey(EncryptDatakeyRequest(body=EncryptDatakeyRequestBody(
        key_id=key, plain_text=(dek + hashlib.sha256(dek).digest()).hex(), datakey_plain_length="32")))
    assert bytes.fromhex(decrypt_datakey(owner, key, made.cipher_text)) == dek


def call_decrypt_datakey(acme, owner, key, me):
    made = create_datakey(owner, key)
    assert decrypt_datakey(acme, key, made.cipher_text).lower() == made.plain_text.lower()


def call_describe_key(acme, owner, key, me):
    assert kh.describe(acme, key).key_id == key


def call_create_grant(acme, owner, key, me):
    # The grantee passes the key on (here: to itself).
    assert len(grant(acme, key, me, ["describe-key"])) == 64


def call_encrypt_data(acme, owner, key, me):
    assert decrypt(owner, encrypt(acme, key, "by grant")) == "by grant"


def call_decrypt_data(acme, owner, key, me):
    assert decrypt(acme, encrypt(owner, key, "for acme")) == "for acme"


CALLS = {
    "create-datakey": call_create_datakey,
    "create-datakey-without-plaintext": call_create_datakey_without_plaintext,
    "encrypt-datakey": call_encrypt_datakey,
    "decrypt-datakey": call_decrypt_datakey,
    "describe-key": call_describe_key,
    "create-grant": call_create_grant,
    "encrypt-data": call_encrypt_data,
    "decrypt-data": call_decrypt_data,
}

# Without any grant the key does not exist for the grantee; DecryptData names no key (the
# ciphertext does), so there it reads as a ciphertext that is not valid.
UNSEEN = {op: (404, support.KMS_NOT_FOUND) for op in CALLS}
UNSEEN["decrypt-data"] = (400, support.KMS_INVALID_PARAM)


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_grant_allows_exactly_the_listed_operation(kms, acme_kms, create_key, acme_user_id, operation):
    call = CALLS[operation]
    granted, refused, unseen = create_key(), create_key(), create_key()
    # A grant of create-grant alone is refused (KMS.2401).
    listed = [operation, "describe-key"] if operation == "create-grant" else [operation]
    grant(kms, granted, acme_user_id, listed)
    grant(kms, refused, acme_user_id, all_but(operation))

    call(acme_kms, kms, granted, acme_user_id)
    expect_kms_error(lambda: call(acme_kms, kms, refused, acme_user_id), 403, NO_PERMISSION)
    status, code = UNSEEN[operation]
    expect_kms_error(lambda: call(acme_kms, kms, unseen, acme_user_id), status, code)
    call(kms, kms, unseen, acme_user_id)  # the owner needs no grant


@pytest.mark.parametrize("kind,spec", [("rsa", "RSA_2048"), ("ec", "ECC_NIST_P256")])
@pytest.mark.parametrize("with_plain_text,operation", [(True, "create-datakey"),
                                                        (False, "create-datakey-without-plaintext")])
def test_grant_covers_datakey_pairs_as_datakeys(kms, acme_kms, create_key, acme_user_id, kind, spec,
                                                 with_plain_text, operation):
    def pair(client, key):
        if kind == "rsa":
            return client.create_rsa_datakey_pair(CreateRsaDatakeyPairRequest(body=CreateRsaDatakeyPairRequestBody(
                key_id=key, key_spec=spec, with_plain_text=with_plain_text)))
        return client.create_ec_datakey_pair(CreateEcDatakeyPairRequest(body=CreateEcDatakeyPairRequestBody(
            key_id=key, key_spec=spec, with_plain_text=with_plain_text)))

    granted, refused, unseen = create_key(), create_key(), create_key()
    grant(kms, granted, acme_user_id, [operation])
    grant(kms, refused, acme_user_id, all_but(operation))
    made = pair(acme_kms, granted)
    assert made.key_id == granted and made.key_spec == spec
    assert (made.private_key_plain_text is not None) == with_plain_text
    private_der = base64.b64decode(kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=made.private_key_cipher_text))).plain_text_base64)
    if with_plain_text:
        assert base64.b64decode(made.private_key_plain_text) == private_der
    expect_kms_error(lambda: pair(acme_kms, refused), 403, NO_PERMISSION)
    expect_kms_error(lambda: pair(acme_kms, unseen), 404, support.KMS_NOT_FOUND)


def test_grant_re_encrypt_needs_decrypt_on_source_and_encrypt_on_destination(kms, acme_kms, create_key,
                                                                            acme_user_id):
    src, dst = create_key(), create_key()
    ct = encrypt(kms, src, "move me")
    # The source key is named by the ciphertext: unseen, it is an invalid ciphertext.
    expect_kms_error(lambda: re_encrypt(acme_kms, ct, dst), 400, support.KMS_INVALID_PARAM)
    grant(kms, src, acme_user_id, all_but("decrypt-data"))
    expect_kms_error(lambda: re_encrypt(acme_kms, ct, dst), 403, NO_PERMISSION)
    grant(kms, src, acme_user_id, ["decrypt-data"])
    expect_kms_error(lambda: re_encrypt(acme_kms, ct, dst), 404, support.KMS_NOT_FOUND)
    grant(kms, dst, acme_user_id, all_but("encrypt-data"))
    expect_kms_error(lambda: re_encrypt(acme_kms, ct, dst), 403, NO_PERMISSION)
    grant(kms, dst, acme_user_id, ["encrypt-data"])
    out = re_encrypt(acme_kms, ct, dst)
    assert (out.key_id, out.source_key_id) == (dst, src)
    assert decrypt(kms, out.cipher_text) == "move me"


def test_grant_re_encrypt_of_a_datakey_needs_the_datakey_operations(kms, acme_kms, create_key,
                                                                     acme_user_id):
    src, dst = create_key(), create_key()
    made = create_datakey(kms, src)
    expect_kms_error(lambda: re_encrypt(acme_kms, made.cipher_text, dst, "32"), 400, INVALID_DATAKEY_CIPHERTEXT)
    grant(kms, src, acme_user_id, ["decrypt-data"])
    expect_kms_error(lambda: re_encrypt(acme_kms, made.cipher_text, dst, "32"), 403, NO_PERMISSION)
    grant(kms, src, acme_user_id, ["decrypt-datakey"])
    grant(kms, dst, acme_user_id, ["encrypt-data"])
    expect_kms_error(lambda: re_encrypt(acme_kms, made.cipher_text, dst, "32"), 403, NO_PERMISSION)
    grant(kms, dst, acme_user_id, ["encrypt-datakey"])
    moved = re_encrypt(acme_kms, made.cipher_text, dst, "32")
    assert decrypt_datakey(kms, dst, moved.cipher_text).lower() == made.plain_text.lower()


def test_grant_never_opens_signing_or_macs(kms, acme_kms, create_key, acme_user_id):
    signer = create_key(key_spec="EC_P256", key_usage="SIGN_VERIFY")
    mac_key = create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC")
    msg = b64(b"signed elsewhere")

    def ops(client):
        return [
            lambda: client.sign(SignRequest(body=SignRequestBody(
                key_id=signer, message=msg, signing_algorithm="ECDSA_SHA_256", message_type="RAW"))).signature,
            lambda: client.validate_signature(ValidateSignatureRequest(body=VerifyRequestBody(
                key_id=signer, message=msg, signature=signature, signing_algorithm="ECDSA_SHA_256",
                message_type="RAW"))).signature_valid,
            lambda: client.show_public_key(ShowPublicKeyRequest(body=OperateKeyRequestBody(key_id=signer))),
            lambda: client.generate_mac(GenerateMacRequest(body=GenerateMacRequestBody(
                key_id=mac_key, mac_algorithm="HMAC_SHA_256", message=msg))).mac,
            lambda: client.verify_mac(VerifyMacRequest(body=VerifyMacRequestBody(
                key_id=mac_key, mac_algorithm="HMAC_SHA_256", message=msg, mac=mac))).mac_valid,
        ]

    signature = mac = None  # made by the owner below, read by the calls when they run
    sign, verify, _, generate, check = ops(kms)
    signature, mac = sign(), generate()
    assert verify() == "true" and check() is True

    for op in ops(acme_kms):
        expect_kms_error(op, 404, support.KMS_NOT_FOUND)
    for key in (signer, mac_key):
        grant(kms, key, acme_user_id, GRANTABLE)
    for op in ops(acme_kms):
        expect_kms_error(op, 403, NO_PERMISSION)
    assert kh.describe(acme_kms, signer).key_id == signer  # the grant itself does work


def test_grant_per_cmk_quota_reports_the_busiest_key(kms, create_key, acme_user_id):
    def grants_quota():
        res = kms.show_user_quotas(ShowUserQuotasRequest()).quotas.resources
        by_type = {r.type: r for r in res}
        return by_type["grant_per_CMK"]

    q = grants_quota()
    assert (q.used, q.quota) == (0, 100)
    a, b = create_key(), create_key()
    ids = [grant(kms, a, acme_user_id, ["encrypt-data"]) for _ in range(3)]
    grant(kms, b, acme_user_id, ["encrypt-data"])
    assert grants_quota().used == 3
    revoke(kms, a, ids[0])
    revoke(kms, a, ids[1])
    assert grants_quota().used == 1
    for _ in range(2):
        grant(kms, b, acme_user_id, ["decrypt-data"])
    assert grants_quota().used == 3


def test_grantee_passes_on_only_what_it_holds(kms, acme_kms, create_key, acme_user_id):
    key = create_key()
    parent = grant(kms, key, acme_user_id, ["create-grant", "encrypt-data"])
    # More than the grantee holds, for itself or with something it holds: refused.
    for wanted in (["decrypt-data"], ["encrypt-data", "decrypt-data"], ["create-grant", "describe-key"]):
        expect_kms_error(lambda: grant(acme_kms, key, acme_user_id, wanted), 403, NO_PERMISSION)
    expect_kms_error(lambda: decrypt(acme_kms, encrypt(kms, key, "still sealed")), 403, NO_PERMISSION)
    # What it holds it may pass on; the new grant does not fall with its parent
    # (dewstack's choice: the cloud documents no cascade; the owner revokes either).
    child = grant(acme_kms, key, acme_user_id, ["encrypt-data"])
    revoke(kms, key, parent)
    assert decrypt(kms, encrypt(acme_kms, key, "by child")) == "by child"
    expect_kms_error(lambda: grant(acme_kms, key, acme_user_id, ["encrypt-data"]), 403, NO_PERMISSION)
    revoke(kms, key, child)
