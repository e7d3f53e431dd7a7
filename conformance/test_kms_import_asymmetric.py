"""Importing the private key of an asymmetric key through the official SDK.

The SDK documents ImportKeyMaterial for asymmetric keys as two parts: ``encrypted_key_material``
is a temporary intermediate key wrapped with the import public key, ``encrypted_privatekey`` the
private key encrypted under that temporary key. Here the key pair is made by ``cryptography``,
its PKCS#8 DER wrapped with AES-256 Key Wrap with Padding (RFC 5649) under a fresh temporary
key, which is wrapped with RSAES-OAEP-SHA-256. Signatures made by dewstack must then verify
with the public key that never left Python.
"""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from huaweicloudsdkkms.v2 import (
    CreateParametersForImportRequest,
    DecryptDataRequest,
    DecryptDataRequestBody,
    DeleteImportedKeyMaterialRequest,
    GetParametersForImportRequestBody,
    ImportKeyMaterialRequest,
    ImportKeyMaterialRequestBody,
    OperateKeyRequestBody,
    ShowPublicKeyRequest,
    SignRequest,
    SignRequestBody,
)

import support
from support import expect_kms_error

b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
OAEP_256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def pkcs8(private) -> bytes:
    return private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def spki(public) -> bytes:
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def import_body(client, key_id, private_der: bytes, temporary: bytes | None = None, wrap_with=None):
    """An ImportKeyMaterialRequestBody carrying `private_der`, wrapped as the SDK describes."""
    params = client.create_parameters_for_import(CreateParametersForImportRequest(
        body=GetParametersForImportRequestBody(key_id=key_id, wrapping_algorithm="RSAES_OAEP_SHA_256")))
    temporary = os.urandom(32) if temporary is None else temporary
    support.SECRETS.add_bytes(temporary, "imported key material")
    support.SECRETS.add_bytes(private_der, "imported key material")
    wrapping_key = serialization.load_der_public_key(base64.b64decode((wrap_with or params).public_key))
    return ImportKeyMaterialRequestBody(
        key_id=key_id, import_token=params.import_token,
        encrypted_key_material=b64(wrapping_key.encrypt(temporary, OAEP_256)),
        encrypted_privatekey=b64(aes_key_wrap_with_padding(temporary, private_der)))


def import_key(client, key_id, private_der: bytes, **kw):
    return client.import_key_material(ImportKeyMaterialRequest(body=import_body(client, key_id, private_der, **kw)))


def delete_material(client, key_id):
    return client.delete_imported_key_material(DeleteImportedKeyMaterialRequest(
        body=OperateKeyRequestBody(key_id=key_id)))


def shown_public_key(client, key_id) -> bytes:
    pem = client.show_public_key(ShowPublicKeyRequest(body=OperateKeyRequestBody(key_id=key_id))).public_key
    return spki(serialization.load_pem_public_key(pem.encode()))


def sign(client, key_id, data: bytes, alg, mtype) -> bytes:
    return base64.b64decode(client.sign(SignRequest(body=SignRequestBody(
        key_id=key_id, message=b64(data), signing_algorithm=alg, message_type=mtype))).signature)


HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
CASES = [
    ("RSA_2048", "RSASSA_PSS_SHA_256", lambda: rsa.generate_private_key(65537, 2048)),
    ("RSA_3072", "RSASSA_PKCS1_V1_5_SHA_384", lambda: rsa.generate_private_key(65537, 3072)),
    ("EC_P256", "ECDSA_SHA_256", lambda: ec.generate_private_key(ec.SECP256R1())),
    ("EC_P384", "ECDSA_SHA_384", lambda: ec.generate_private_key(ec.SECP384R1())),
]


def outside_verify(public, alg, sig, data, mtype):
    h = HASHES[alg.rsplit("_", 1)[1]]()
    hh = utils.Prehashed(h) if mtype == "DIGEST" else h
    if alg.startswith("ECDSA"):
        public.verify(sig, data, ec.ECDSA(hh))
    elif "_PSS_" in alg:
        public.verify(sig, data, padding.PSS(mgf=padding.MGF1(h), salt_length=padding.PSS.DIGEST_LENGTH), hh)
    else:
        public.verify(sig, data, padding.PKCS1v15(), hh)


@pytest.mark.parametrize("spec,alg,make", CASES, ids=[c[0] for c in CASES])
def test_imported_private_key_signs_for_the_outside_public_key(kms, create_key, describe, spec, alg, make):
    private = make()
    key_id = create_key(origin="external", key_spec=spec, key_usage="SIGN_VERIFY")
    assert describe(key_id).key_state == "5"
    import_key(kms, key_id, pkcs8(private))
    info = describe(key_id)
    assert (info.key_state, info.origin, info.key_spec) == ("2", "external", spec)
    assert shown_public_key(kms, key_id) == spki(private.public_key())

    msg = b"signed inside, verified outside: " + spec.encode()
    digest = hashes.Hash(HASHES[alg.rsplit("_", 1)[1]]())
    digest.update(msg)
    for data, mtype in ((msg, "RAW"), (digest.finalize(), "DIGEST")):
        outside_verify(private.public_key(), alg, sign(kms, key_id, data, alg, mtype), data, mtype)

    # Re-import after deletion: only the same key pair, in whatever PKCS#8 form, is accepted.
    delete_material(kms, key_id)
    assert describe(key_id).key_state == "5"
    expect_kms_error(lambda: import_key(kms, key_id, pkcs8(make())), 400, "KMS.2606")
    import_key(kms, key_id, pkcs8(private))
    assert describe(key_id).key_state == "2"
    outside_verify(private.public_key(), alg, sign(kms, key_id, msg, alg, "RAW"), msg, "RAW")


def test_imported_rsa_key_decrypts_what_the_outside_encrypted(kms, create_key):
    private = rsa.generate_private_key(65537, 2048)
    key_id = create_key(origin="external", key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT")
    import_key(kms, key_id, pkcs8(private))
    outside = private.public_key().encrypt(b"\x00for the imported key\xff", OAEP_256)
    out = kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=b64(outside), key_id=key_id, encryption_algorithm="RSAES_OAEP_SHA_256")))
    assert base64.b64decode(out.plain_text_base64) == b"\x00for the imported key\xff"


def test_asymmetric_import_refusals(kms, create_key, describe):
    p256 = ec.generate_private_key(ec.SECP256R1())
    key_id = create_key(origin="external", key_spec="EC_P256", key_usage="SIGN_VERIFY")
    # The private key is required for an asymmetric key.
    body = import_body(kms, key_id, pkcs8(p256))
    body.encrypted_privatekey = None
    expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400,
                     support.KMS_MISSING_PARAM)
    # A key of another curve, a key of another algorithm, and not a key at all.
    for wrong in (pkcs8(ec.generate_private_key(ec.SECP384R1())), pkcs8(rsa.generate_private_key(65537, 2048)),
                  b"\x30" * 40):
        expect_kms_error(lambda: import_key(kms, key_id, wrong), 400, support.KMS_INVALID_PARAM)
    # The temporary key must be AES-256.
    expect_kms_error(lambda: import_key(kms, key_id, pkcs8(p256), temporary=os.urandom(16)), 400, "KMS.2604")
    # A private key wrapped under another temporary key than the one sent does not unwrap.
    body = import_body(kms, key_id, pkcs8(p256))
    body.encrypted_privatekey = b64(aes_key_wrap_with_padding(os.urandom(32), pkcs8(p256)))
    expect_kms_error(lambda: kms.import_key_material(ImportKeyMaterialRequest(body=body)), 400, "KMS.0311")
    assert describe(key_id).key_state == "5"
    # A symmetric key takes no private key (the temporary key alone would be good AES_256 material).
    aes = create_key(origin="external")
    expect_kms_error(lambda: import_key(kms, aes, pkcs8(p256)), 400, support.KMS_INVALID_PARAM)
    assert describe(aes).key_state == "5"
    # Specs the cloud does not import into stay refused at creation.
    for spec in ("ED25519", "SECP256K1"):
        expect_kms_error(lambda: create_key(origin="external", key_spec=spec, key_usage="SIGN_VERIFY"), 400,
                         support.KMS_INVALID_PARAM)
