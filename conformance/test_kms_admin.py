"""KMS administration through the official SDK: key rotation, imported key material and
grants (issue 4, part B).

Error codes are the published ones (docs/error-codes.md): KMS.0309 external key required,
KMS.0312/0313/0324 rotation refusals, KMS.2901 rotation already on, KMS.3001 interval out
of range, KMS.2401/2402/2501 grants, KMS.2601..2606 import tokens and material, KMS.0306
(403) for a grantee calling an operation its grant does not allow.
"""

import base64
import os
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from huaweicloudsdkkms.v2 import (
    CancelGrantRequest,
    CancelSelfGrantRequest,
    CreateGrantRequest,
    CreateGrantRequestBody,
    CreateParametersForImportRequest,
    DecryptDataRequest,
    DecryptDataRequestBody,
    DeleteImportedKeyMaterialRequest,
    DisableKeyRotationRequest,
    EnableKeyRotationRequest,
    EncryptDataRequest,
    EncryptDataRequestBody,
    GetParametersForImportRequestBody,
    ImportKeyMaterialRequest,
    ImportKeyMaterialRequestBody,
    ListGrantsRequest,
    ListGrantsRequestBody,
    ListRetirableGrantsRequest,
    ListRetirableGrantsRequestBody,
    OperateKeyRequestBody,
    RevokeGrantRequestBody,
    RotateOnDemandRequest,
    RotateOnDemandRequestBody,
    ShowKeyRotationStatusRequest,
    UpdateKeyRotationIntervalRequest,
    UpdateKeyRotationIntervalRequestBody,
)

import kms_helpers as kh
import support
from support import expect_kms_error


# --------------------------------------------------------------------------- helpers
def encrypt(client, key_id, text="hello dewstack"):
    return client.encrypt_data(EncryptDataRequest(
        body=EncryptDataRequestBody(key_id=key_id, plain_text=text))).cipher_text


def decrypt(client, cipher_text):
    return client.decrypt_data(DecryptDataRequest(
        body=DecryptDataRequestBody(cipher_text=cipher_text))).plain_text


def op_body(key_id):
    return OperateKeyRequestBody(key_id=key_id)


def rotation_status(client, key_id):
    return client.show_key_rotation_status(ShowKeyRotationStatusRequest(body=op_body(key_id)))


def enable_rotation(client, key_id):
    return client.enable_key_rotation(EnableKeyRotationRequest(body=op_body(key_id)))


def disable_rotation(client, key_id):
    return client.disable_key_rotation(DisableKeyRotationRequest(body=op_body(key_id)))


def set_interval(client, key_id, days):
    return client.update_key_rotation_interval(UpdateKeyRotationIntervalRequest(
        body=UpdateKeyRotationIntervalRequestBody(key_id=key_id, rotation_interval=days)))


def rotate_now(client, key_id):
    return client.rotate_on_demand(RotateOnDemandRequest(body=RotateOnDemandRequestBody(key_id=key_id)))


def import_params(client, key_id, algorithm="RSAES_OAEP_SHA_256"):
    return client.create_parameters_for_import(CreateParametersForImportRequest(
        body=GetParametersForImportRequestBody(key_id=key_id, wrapping_algorithm=algorithm)))


def wrap(params, material: bytes, digest=hashes.SHA256) -> str:
    support.SECRETS.add_bytes(material, "imported key material")
    public = serialization.load_der_public_key(base64.b64decode(params.public_key))
    wrapped = public.encrypt(material, padding.OAEP(mgf=padding.MGF1(algorithm=digest()),
                                                    algorithm=digest(), label=None))
    return base64.b64encode(wrapped).decode()


def import_material(client, key_id, material: bytes, expiration_time=None,
                    algorithm="RSAES_OAEP_SHA_256", digest=hashes.SHA256):
    params = import_params(client, key_id, algorithm)
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=params.import_token,
                                        encrypted_key_material=wrap(params, material, digest),
                                        expiration_time=expiration_time)
    return client.import_key_material(ImportKeyMaterialRequest(body=body))


def delete_material(client, key_id):
    return client.delete_imported_key_material(DeleteImportedKeyMaterialRequest(body=op_body(key_id)))


def create_grant(client, key_id, grantee, operations, kind=None, retiring=None, name=None):
    body = CreateGrantRequestBody(key_id=key_id, grantee_principal=grantee, operations=operations,
                                  grantee_principal_type=kind, retiring_principal=retiring, name=name)
    return client.create_grant(CreateGrantRequest(body=body)).grant_id


def list_grants(client, key_id, **kw):
    return client.list_grants(ListGrantsRequest(body=ListGrantsRequestBody(key_id=key_id, **kw)))


def revoke(client, key_id, grant_id):
    return client.cancel_grant(CancelGrantRequest(body=RevokeGrantRequestBody(key_id=key_id, grant_id=grant_id)))


def retire(client, key_id, grant_id):
    return client.cancel_self_grant(CancelSelfGrantRequest(
        body=RevokeGrantRequestBody(key_id=key_id, grant_id=grant_id)))


# --------------------------------------------------------------------------- rotation
def test_rotate_on_demand_keeps_old_ciphertext_decryptable(kms, create_key):
    key_id = create_key()
    old = encrypt(kms, key_id, "before rotation")
    assert rotate_now(kms, key_id).key_id == key_id
    new = encrypt(kms, key_id, "after rotation")
    assert decrypt(kms, old) == "before rotation"
    assert decrypt(kms, new) == "after rotation"
    status = rotation_status(kms, key_id)
    assert status.number_of_rotations == 1
    assert len(status.key_materials) == 2
    assert status.last_rotation_time
    assert abs(support.to_epoch_seconds(status.last_rotation_time) - time.time()) < 120
    rotate_now(kms, key_id)
    assert decrypt(kms, old) == "before rotation"
    assert rotation_status(kms, key_id).number_of_rotations == 2


def test_rotate_on_demand_past_a_hundred_versions_keeps_the_first_decryptable(kms, create_key):
    # Older versions live in rows of their own, so a key is no longer held to 100 versions
    # (the bound is 10,000, dewstack's choice: docs/security.md).
    key_id = create_key()
    first = encrypt(kms, key_id, "under version 1")
    for _ in range(150):
        rotate_now(kms, key_id)
    assert decrypt(kms, first) == "under version 1"
    status = rotation_status(kms, key_id)
    assert status.number_of_rotations == 150
    assert len(status.key_materials) == 151
    assert len({m.material_id for m in status.key_materials}) == 151


def test_rotation_status_and_interval(kms, create_key, describe):
    key_id = create_key()
    status = rotation_status(kms, key_id)
    assert status.key_rotation_enabled is False
    assert describe(key_id).key_rotation_enabled == "false"
    expect_kms_error(lambda: set_interval(kms, key_id, 90), 400, "KMS.0313")
    expect_kms_error(lambda: disable_rotation(kms, key_id), 400, "KMS.0313")

    enable_rotation(kms, key_id)
    status = rotation_status(kms, key_id)
    assert status.key_rotation_enabled is True
    assert status.rotation_interval == 365
    assert describe(key_id).key_rotation_enabled == "true"
    expect_kms_error(lambda: enable_rotation(kms, key_id), 400, "KMS.2901")

    set_interval(kms, key_id, 30)
    assert rotation_status(kms, key_id).rotation_interval == 30
    set_interval(kms, key_id, 365)
    for bad in (29, 366, 0):
        expect_kms_error(lambda: set_interval(kms, key_id, bad), 400, "KMS.3001")
    assert rotation_status(kms, key_id).rotation_interval == 365

    disable_rotation(kms, key_id)
    assert rotation_status(kms, key_id).key_rotation_enabled is False
    assert describe(key_id).key_rotation_enabled == "false"


def test_rotation_refused_for_keys_that_cannot_rotate(kms, create_key):
    ec = create_key(key_spec="EC_P256", key_usage="SIGN_VERIFY")
    expect_kms_error(lambda: enable_rotation(kms, ec), 400, "KMS.0324")
    expect_kms_error(lambda: rotate_now(kms, ec), 400, "KMS.0324")
    ext = create_key(origin="external")
    expect_kms_error(lambda: enable_rotation(kms, ext), 400, "KMS.0312")
    disabled = create_key()
    kh.disable(kms, disabled)
    expect_kms_error(lambda: rotate_now(kms, disabled), 400, support.KMS_KEY_DISABLED)
    expect_kms_error(lambda: rotate_now(kms, support.rand_uuid()), 404, support.KMS_NOT_FOUND)


def test_rotation_of_another_projects_key_is_not_found(acme_kms, create_key):
    key_id = create_key()
    expect_kms_error(lambda: rotate_now(acme_kms, key_id), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: rotation_status(acme_kms, key_id), 404, support.KMS_NOT_FOUND)


# --------------------------------------------------------------------------- import
def test_import_flow_encrypt_decrypt_and_delete(kms, create_key, describe):
    key_id = create_key(origin="external")
    assert describe(key_id).key_state == "5"
    expect_kms_error(lambda: encrypt(kms, key_id), 400)

    params = import_params(kms, key_id)
    assert params.key_id == key_id
    assert len(params.import_token) >= 200
    assert abs(params.expiration_time - (time.time() + 86400)) < 300
    material = os.urandom(32)
    expires = int(time.time()) + 3600
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=params.import_token,
                                        encrypted_key_material=wrap(params, material),
                                        expiration_time=expires)
    kms.import_key_material(ImportKeyMaterialRequest(body=body))
    info = describe(key_id)
    assert info.key_state == "2"
    assert info.origin == "external"
    assert int(support.to_epoch_seconds(info.expiration_time)) == expires

    ct = encrypt(kms, key_id, "imported")
    assert decrypt(kms, ct) == "imported"
    # A token is good for one import only.
    expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400, "KMS.0310")

    delete_material(kms, key_id)
    assert describe(key_id).key_state == "5"
    expect_kms_error(lambda: encrypt(kms, key_id), 400)
    expect_kms_error(lambda: decrypt(kms, ct), 400)
    expect_kms_error(lambda: delete_material(kms, key_id), 400, "KMS.2701")

    # Re-import: only the same material is accepted, and old ciphertext decrypts again.
    expect_kms_error(lambda: import_material(kms, key_id, os.urandom(32)), 400, "KMS.2606")
    import_material(kms, key_id, material)
    assert describe(key_id).key_state == "2"
    assert decrypt(kms, ct) == "imported"


def test_import_with_oaep_sha1_and_sm4(kms, create_key, describe):
    key_id = create_key(origin="external", key_spec="SM4")
    import_material(kms, key_id, os.urandom(16), algorithm="RSAES_OAEP_SHA_1", digest=hashes.SHA1)
    assert describe(key_id).key_state == "2"
    assert decrypt(kms, encrypt(kms, key_id, "sm4")) == "sm4"


def sm2_wrap(params, material: bytes) -> str:
    """Material wrapped outside with gmssl under the SM2 wrapping key (raw C1C3C2,
    GB/T 32918.4's order), as a user's own tool would."""
    support.SECRETS.add_bytes(material, "imported key material")
    from gmssl import sm2 as gm
    der = base64.b64decode(params.public_key)
    assert der[-65] == 0x04  # SubjectPublicKeyInfo ending in the uncompressed point
    point = der[-64:].hex()
    crypt = gm.CryptSM2(private_key="00", public_key=point, mode=1)
    crypt.public_key = point  # the constructor strips leading "04" digits of x
    return base64.b64encode(crypt.encrypt(material)).decode()


def test_import_wrapped_with_sm2(kms, create_key, describe):
    key_id = create_key(origin="external")
    params = import_params(kms, key_id, "SM2_ENCRYPT")
    # An SM2 SubjectPublicKeyInfo: curve sm2p256v1 (1.2.156.10197.1.301).
    assert bytes.fromhex("06082a811ccf5501822d") in base64.b64decode(params.public_key)
    material = os.urandom(32)
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=params.import_token,
                                        encrypted_key_material=sm2_wrap(params, material))
    kms.import_key_material(ImportKeyMaterialRequest(body=body))
    assert describe(key_id).key_state == "2"
    ct = encrypt(kms, key_id, "wrapped with SM2")
    assert decrypt(kms, ct) == "wrapped with SM2"
    # The material is the one wrapped: a re-import must bring the same bytes.
    delete_material(kms, key_id)
    retry = import_params(kms, key_id, "SM2_ENCRYPT")
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=retry.import_token,
                                        encrypted_key_material=sm2_wrap(retry, os.urandom(32)))
    expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400, "KMS.2606")
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=retry.import_token,
                                        encrypted_key_material=sm2_wrap(retry, material))
    kms.import_key_material(ImportKeyMaterialRequest(body=body))
    assert decrypt(kms, ct) == "wrapped with SM2"


def test_sm2_import_refusals(kms, create_key):
    key_id = create_key(origin="external")
    params = import_params(kms, key_id, "SM2_ENCRYPT")
    wrapped = bytearray(base64.b64decode(sm2_wrap(params, os.urandom(32))))
    wrapped[-1] ^= 1
    for bad in (bytes(wrapped), os.urandom(200)):
        body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=params.import_token,
                                            encrypted_key_material=base64.b64encode(bad).decode())
        expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400, "KMS.0311")
    # A new set replaces the SM2 one: SM2-wrapped material does not open under the RSA
    # token, and the SM2 token is no longer live.
    rsa = import_params(kms, key_id)
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=rsa.import_token,
                                        encrypted_key_material=sm2_wrap(params, os.urandom(32)))
    expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400, "KMS.0311")
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=params.import_token,
                                        encrypted_key_material=sm2_wrap(params, os.urandom(32)))
    expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400, "KMS.2601")


def test_import_refusals(kms, create_key):
    generated = create_key()
    expect_kms_error(lambda: import_params(kms, generated), 400, "KMS.0309")
    expect_kms_error(lambda: delete_material(kms, generated), 400, "KMS.0309")
    key_id = create_key(origin="external")
    expect_kms_error(lambda: import_params(kms, key_id, "NOPE"), 400, support.KMS_INVALID_PARAM)
    expect_kms_error(lambda: delete_material(kms, key_id), 400, "KMS.2701")
    # Wrong material length for AES_256.
    expect_kms_error(lambda: import_material(kms, key_id, os.urandom(16)), 400, "KMS.2604")
    # Expiration in the past.
    expect_kms_error(lambda: import_material(kms, key_id, os.urandom(32), expiration_time=1_000_000),
                     400, "KMS.2602")
    # A token of another key.
    other = create_key(origin="external")
    params = import_params(kms, other)
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=params.import_token,
                                        encrypted_key_material=wrap(params, os.urandom(32)))
    expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400, "KMS.2603")
    # A forged token.
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=base64.b64encode(os.urandom(200)).decode(),
                                        encrypted_key_material=wrap(params, os.urandom(32)))
    expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400,
                     ("KMS.2601", "KMS.2605"))
    # Material wrapped with a public key other than the token's.
    params_a = import_params(kms, key_id)
    params_b = import_params(kms, other)
    body = ImportKeyMaterialRequestBody(key_id=key_id, import_token=params_a.import_token,
                                        encrypted_key_material=wrap(params_b, os.urandom(32)))
    expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400, "KMS.0311")


# --------------------------------------------------------------------------- grants
def test_grant_lets_acme_encrypt_only_what_was_granted(kms, acme_kms, create_key, acme_user_id):
    key_id = create_key()
    expect_kms_error(lambda: encrypt(acme_kms, key_id), 404, support.KMS_NOT_FOUND)

    grant_id = create_grant(kms, key_id, acme_user_id, ["encrypt-datakey", "encrypt-data"],
                            kind="user", name="acme-encrypt")
    assert len(grant_id) == 64
    listed = list_grants(kms, key_id)
    assert listed.total == 1 and listed.truncated == "false"
    g = listed.grants[0]
    assert (g.grant_id, g.grantee_principal, g.grantee_principal_type) == (grant_id, acme_user_id, "user")
    assert sorted(g.operations) == ["encrypt-data", "encrypt-datakey"]
    assert g.name == "acme-encrypt" and g.key_id == key_id

    ct = encrypt(acme_kms, key_id, "from acme")
    assert decrypt(kms, ct) == "from acme"
    # Not granted: decrypt-data and describe-key.
    expect_kms_error(lambda: decrypt(acme_kms, ct), 403, "KMS.0306")
    expect_kms_error(lambda: kh.describe(acme_kms, key_id), 403, "KMS.0306")
    # Grants never open key management.
    expect_kms_error(lambda: kh.disable(acme_kms, key_id), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: list_grants(acme_kms, key_id), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: revoke(acme_kms, key_id, grant_id), 404, support.KMS_NOT_FOUND)

    revoke(kms, key_id, grant_id)
    expect_kms_error(lambda: encrypt(acme_kms, key_id), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: revoke(kms, key_id, grant_id), 400, "KMS.2501")
    assert list_grants(kms, key_id).total == 0


def test_domain_grant_and_retire(kms, acme_kms, create_key, acme_identity, acme_user_id):
    key_id = create_key()
    grant_id = create_grant(kms, key_id, acme_identity.domain_id, ["encrypt-data", "decrypt-data", "describe-key"],
                            kind="domain", retiring=acme_user_id)
    ct = encrypt(acme_kms, key_id, "domain grant")
    assert decrypt(acme_kms, ct) == "domain grant"
    assert kh.describe(acme_kms, key_id).key_id == key_id
    retirable = acme_kms.list_retirable_grants(ListRetirableGrantsRequest(body=ListRetirableGrantsRequestBody()))
    assert grant_id in [g.grant_id for g in retirable.grants]
    retire(acme_kms, key_id, grant_id)
    expect_kms_error(lambda: decrypt(acme_kms, ct), 400)
    expect_kms_error(lambda: encrypt(acme_kms, key_id), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: retire(acme_kms, key_id, grant_id), 400, "KMS.2501")


def test_retire_needs_the_retiring_principal(kms, acme_kms, create_key, acme_user_id):
    key_id = create_key()
    grant_id = create_grant(kms, key_id, acme_user_id, ["encrypt-data"])
    expect_kms_error(lambda: retire(acme_kms, key_id, grant_id), 400, "KMS.2402")
    retire(kms, key_id, grant_id)  # the key owner may always retire
    assert list_grants(kms, key_id).total == 0


def test_grant_validation(kms, create_key, acme_user_id):
    key_id = create_key()
    expect_kms_error(lambda: create_grant(kms, key_id, acme_user_id, ["create-grant"]), 400, "KMS.2401")
    expect_kms_error(lambda: create_grant(kms, key_id, "0" * 32, ["encrypt-data"]), 400, "KMS.2402")
    expect_kms_error(lambda: create_grant(kms, key_id, acme_user_id, ["sign"]), 400, support.KMS_INVALID_PARAM)
    expect_kms_error(lambda: create_grant(kms, key_id, "bad-principal!", ["encrypt-data"]), 400,
                     support.KMS_INVALID_PARAM)
    expect_kms_error(lambda: create_grant(kms, support.rand_uuid(), acme_user_id, ["encrypt-data"]), 404,
                     support.KMS_NOT_FOUND)
    expect_kms_error(lambda: revoke(kms, key_id, "ab" * 32), 400, "KMS.2501")
    for _ in range(3):
        create_grant(kms, key_id, acme_user_id, ["encrypt-data"])
    page = list_grants(kms, key_id, limit="2")
    assert (len(page.grants), page.truncated, page.total) == (2, "true", 3)
    rest = list_grants(kms, key_id, limit="2", marker=page.next_marker)
    assert (len(rest.grants), rest.truncated) == (1, "false")
    expect_kms_error(lambda: list_grants(kms, key_id, limit="0"), 400, support.KMS_LIMIT_RANGE)
