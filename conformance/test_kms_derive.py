"""DeriveSharedSecret, CreateDatakeyCapsule/DecryptDatakeyCapsule and CreatePin
through the official SDK, checked against independent implementations
(Python ``cryptography`` for NIST curves and RSA, ``gmssl`` for SM2).

* ECDH: for every curve, the secret KMS derives from its private key and our
  public key equals the one we derive from our private key and the KMS key's
  public key (ShowPublicKey). Only KEY_AGREEMENT keys derive; wrong algorithm,
  curve, key usage or state are refused with 4xx.
* Capsules: round trip with plaintext data keys and with data keys encrypted
  to our RSA key (RSAES-OAEP-SHA-256, opened here); any tampering is a 4xx.
* PINs: both types; pin/pin_type on the data key calls are accepted.
"""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkkms.v2 import (
    CreateDatakeyCapsuleRequest, CreateDatakeyCapsuleRequestBody, CreateDatakeyRequest,
    CreateDatakeyRequestBody, CreateDatakeyWithoutPlaintextRequest, CreateEcDatakeyPairRequest,
    CreateEcDatakeyPairRequestBody, CreatePinRequest, CreatePinRequestBody,
    DecryptDatakeyCapsuleRequest, DecryptDatakeyCapsuleRequestBody,
    DecryptDatakeyCapsuleRequestBodyAttestationDocument, DecryptDatakeyRequest,
    DecryptDatakeyRequestBody, DeriveSharedSecretRequest, DeriveSharedSecretRequestBody,
    EncryptDatakeyRequest, EncryptDatakeyRequestBody, Recipient, ShowPublicKeyRequest,
    OperateKeyRequestBody,
)

import kms_helpers as kh
from support import expect_kms_error

b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
unb64 = base64.b64decode

CURVES = {"EC_P256": ec.SECP256R1, "EC_P384": ec.SECP384R1, "SECP256K1": ec.SECP256K1}
EC_SPECS = [*CURVES, "SM2"]


def expect_4xx(fn):
    """A refusal with a 4xx status; never success, never a server error."""
    try:
        result = fn()
    except sdk_exc.ClientRequestException as e:
        assert 400 <= e.status_code < 500 and e.error_code.startswith("KMS."), e
        return e
    except sdk_exc.ServerResponseException as e:
        raise AssertionError(f"server error {e.status_code} {e.error_code} {e.error_msg}")
    raise AssertionError(f"expected a 4xx refusal, got {result}")


def kms_spki(c, key_id) -> bytes:
    pem = c.show_public_key(ShowPublicKeyRequest(body=OperateKeyRequestBody(key_id=key_id))).public_key
    return unb64("".join(l for l in pem.splitlines() if l and not l.startswith("-----")))


def derive(c, key_id, public_key, alg="ECDH", **kw):
    return c.derive_shared_secret(DeriveSharedSecretRequest(body=DeriveSharedSecretRequestBody(
        key_id=key_id, key_agreement_algorithm=alg, public_key=public_key, **kw)))


class Sm2Peer:
    """An SM2 key pair of our own; scalar multiplication by gmssl."""

    def __init__(self):
        from gmssl import sm2 as gm
        self._table = gm.default_ecc_table
        self._gm = gm.CryptSM2(private_key="00", public_key="00")
        self.d = secrets.randbelow(int(self._table["n"], 16) - 1) + 1
        self.point = bytes.fromhex(self._gm._kg(self.d, self._table["g"]))

    def spki(self, template: bytes) -> bytes:
        # Same AlgorithmIdentifier (id-ecPublicKey, SM2 curve) as any SM2 SPKI; only the point differs.
        assert template[-65] == 0x04
        return template[:-64] + self.point

    def exchange(self, their_spki: bytes) -> bytes:
        return bytes.fromhex(self._gm._kg(self.d, their_spki[-64:].hex()))[:32]


def outside_peer(spec, kms_pub: bytes):
    """(our SPKI DER, the secret we compute with the KMS key's public key)."""
    if spec == "SM2":
        peer = Sm2Peer()
        return peer.spki(kms_pub), peer.exchange(kms_pub)
    ours = ec.generate_private_key(CURVES[spec]())
    der = ours.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    theirs = serialization.load_der_public_key(kms_pub)
    return der, ours.exchange(ec.ECDH(), theirs)


# ---- DeriveSharedSecret ---------------------------------------------------------------
@pytest.mark.parametrize("spec", EC_SPECS)
def test_derive_shared_secret_matches_outside_ecdh(kms, create_key, spec):
    key = create_key(key_spec=spec, key_usage="KEY_AGREEMENT")
    assert kh.describe(kms, key).key_usage == "KEY_AGREEMENT"
    kms_pub = kms_spki(kms, key)
    ours, expected = outside_peer(spec, kms_pub)
    out = derive(kms, key, b64(ours))
    assert (out.key_id, out.key_agreement_algorithm) == (key, "ECDH")
    assert out.ciphertext_recipient is None
    assert unb64(out.shared_secret) == expected
    assert len(expected) == (48 if spec == "EC_P384" else 32)
    # A second peer gets a different secret; the same peer the same one.
    other, other_expected = outside_peer(spec, kms_pub)
    assert unb64(derive(kms, key, b64(other)).shared_secret) == other_expected != expected
    assert unb64(derive(kms, key, b64(ours)).shared_secret) == expected


def test_two_kms_keys_agree_with_each_other(kms, create_key):
    a = create_key(key_spec="EC_P256", key_usage="KEY_AGREEMENT")
    b = create_key(key_spec="EC_P256", key_usage="KEY_AGREEMENT")
    ab = derive(kms, a, b64(kms_spki(kms, b))).shared_secret
    ba = derive(kms, b, b64(kms_spki(kms, a))).shared_secret
    assert ab == ba


def test_derive_refusals(kms, create_key):
    key = create_key(key_spec="EC_P256", key_usage="KEY_AGREEMENT")
    ours, _ = outside_peer("EC_P256", kms_spki(kms, key))
    expect_kms_error(lambda: derive(kms, key, b64(ours), alg="ECDH_SM2"), 400, "KMS.0308")
    expect_kms_error(lambda: derive(kms, key, b64(ours), alg=None), 400, "KMS.0204")
    expect_kms_error(lambda: derive(kms, key, None), 400, "KMS.0204")
    expect_kms_error(lambda: derive(kms, key, "%%%"), 400, "KMS.0308")
    expect_kms_error(lambda: derive(kms, key, b64(b"\x30\x03\x02\x01\x00")), 400, "KMS.0308")
    expect_kms_error(lambda: derive(kms, "not-a-key", b64(ours)), 400, "KMS.0205")
    # A peer key of another curve.
    p384, _ = outside_peer("EC_P384", kms_spki(kms, create_key(key_spec="EC_P384",
                                                               key_usage="KEY_AGREEMENT")))
    expect_kms_error(lambda: derive(kms, key, b64(p384)), 400, "KMS.0308")
    # No attestation support: a recipient is refused rather than answered in plaintext.
    rcpt = Recipient(attestation_document="doc", key_encryption_algorithm="RSAES_OAEP_SHA_256")
    e = expect_kms_error(lambda: derive(kms, key, b64(ours), recipient=rcpt), 400, "KMS.0308")
    assert "recipient" in e.error_msg


@pytest.mark.parametrize("spec,usage", [("EC_P256", "SIGN_VERIFY"), ("SM2", "ENCRYPT_DECRYPT"),
                                        ("AES_256", None), ("RSA_2048", "SIGN_VERIFY")])
def test_derive_needs_a_key_agreement_key(kms, create_key, spec, usage):
    key = create_key(key_spec=spec, key_usage=usage) if usage else create_key(key_spec=spec)
    ours, _ = outside_peer("EC_P256", kms_spki(kms, create_key(key_spec="EC_P256")))
    expect_kms_error(lambda: derive(kms, key, b64(ours)), 400, "KMS.0308")


@pytest.mark.parametrize("spec", ["AES_256", "RSA_2048", "ED25519", "HMAC_256"])
def test_key_agreement_usage_only_for_ec_keys(kms, spec):
    from huaweicloudsdkkms.v2 import CreateKeyRequest, CreateKeyRequestBody
    import support
    expect_kms_error(lambda: kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(
        key_alias=support.unique("ka"), key_spec=spec, key_usage="KEY_AGREEMENT"))), 400, "KMS.0308")


def test_key_agreement_key_does_nothing_else(kms, create_key):
    key = create_key(key_spec="EC_P256", key_usage="KEY_AGREEMENT")
    from huaweicloudsdkkms.v2 import SignRequest, SignRequestBody
    expect_kms_error(lambda: kms.sign(SignRequest(body=SignRequestBody(
        key_id=key, message=b64(b"m"), signing_algorithm="ECDSA_SHA_256", message_type="RAW"))),
        400, "KMS.0308")


def test_derive_with_disabled_or_deleted_key(kms, create_key):
    key = create_key(key_spec="SECP256K1", key_usage="KEY_AGREEMENT")
    ours, expected = outside_peer("SECP256K1", kms_spki(kms, key))
    kh.disable(kms, key)
    expect_kms_error(lambda: derive(kms, key, b64(ours)), 400, "KMS.0209")
    kh.enable(kms, key)
    assert unb64(derive(kms, key, b64(ours)).shared_secret) == expected
    kh.schedule_deletion(kms, key)
    expect_kms_error(lambda: derive(kms, key, b64(ours)), 400, "KMS.0210")


def test_derive_with_another_projects_key_is_not_found(kms, acme_kms, create_key):
    key = create_key(key_spec="EC_P256", key_usage="KEY_AGREEMENT")
    ours, _ = outside_peer("EC_P256", kms_spki(kms, key))
    expect_kms_error(lambda: derive(acme_kms, key, b64(ours)), 404, "KMS.0207")


# ---- Datakey capsules -----------------------------------------------------------------
def create_capsule(c, key_id, length="256", **kw):
    return c.create_datakey_capsule(CreateDatakeyCapsuleRequest(body=CreateDatakeyCapsuleRequestBody(
        key_id=key_id, datakey_length=length, **kw)))


def open_capsule(c, key_id, capsule, **kw):
    return c.decrypt_datakey_capsule(DecryptDatakeyCapsuleRequest(body=DecryptDatakeyCapsuleRequestBody(
        key_id=key_id, datakey_capsule=capsule, **kw)))


def rsa_pair(bits=2048):
    sk = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    der = sk.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    return sk, b64(der)


OAEP256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@pytest.mark.parametrize("spec,length", [("AES_256", "256"), ("AES_256", "128"), ("SM4", "128")])
def test_capsule_round_trip(kms, create_key, spec, length):
    key = create_key(key_spec=spec)
    out = create_capsule(kms, key, length)
    assert out.key_id == key and out.datakey_cipher is None
    dek = unb64(out.datakey)
    assert len(dek) == int(length) // 8
    back = open_capsule(kms, key, out.datakey_capsule)
    assert (back.key_id, unb64(back.datakey), back.datakey_cipher) == (key, dek, None)
    # Every capsule is a fresh key.
    assert unb64(create_capsule(kms, key, length).datakey) != dek


def test_capsule_with_public_key_encrypts_the_datakey_to_it(kms, create_key):
    key = create_key()
    sk, pub = rsa_pair()
    out = create_capsule(kms, key, public_key=pub)
    assert out.datakey is None
    dek = sk.decrypt(unb64(out.datakey_cipher), OAEP256)
    assert len(dek) == 32
    # Decrypting: to another RSA key, or in plaintext.
    sk2, pub2 = rsa_pair(3072)
    back = open_capsule(kms, key, out.datakey_capsule, public_key=pub2)
    assert back.datakey is None and sk2.decrypt(unb64(back.datakey_cipher), OAEP256) == dek
    assert unb64(open_capsule(kms, key, out.datakey_capsule).datakey) == dek


def test_capsule_tampering_and_misuse(kms, acme_kms, create_key):
    key, other = create_key(), create_key()
    out = create_capsule(kms, key)
    blob = unb64(out.datakey_capsule)
    for i in range(0, len(blob), 7):
        b = bytearray(blob)
        b[i] ^= 1
        expect_4xx(lambda: open_capsule(kms, key, b64(bytes(b))))
    expect_4xx(lambda: open_capsule(kms, key, b64(blob[:-1])))
    expect_4xx(lambda: open_capsule(kms, key, "not base64!"))
    expect_4xx(lambda: open_capsule(kms, other, out.datakey_capsule))
    expect_4xx(lambda: open_capsule(acme_kms, key, out.datakey_capsule))
    expect_kms_error(lambda: open_capsule(kms, key, None), 400, "KMS.0204")
    # A capsule is not a DecryptDatakey ciphertext, and the other way round.
    expect_4xx(lambda: kms.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
        key_id=key, cipher_text=blob.hex().upper(), datakey_cipher_length="32"))))
    dk = kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(
        key_id=key, datakey_length="256")))
    expect_4xx(lambda: open_capsule(kms, key, b64(bytes.fromhex(dk.cipher_text))))


def test_capsule_refusals(kms, create_key):
    key = create_key()
    expect_kms_error(lambda: create_capsule(kms, key, "512"), 400, "KMS.0308")
    expect_kms_error(lambda: create_capsule(kms, key, None), 400, "KMS.0204")
    expect_kms_error(lambda: create_capsule(kms, "bad-id"), 400, "KMS.0205")
    ec_pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    expect_kms_error(lambda: create_capsule(kms, key, public_key=b64(ec_pub)), 400, "KMS.0308")
    _, small = rsa_pair(1024)
    expect_kms_error(lambda: create_capsule(kms, key, public_key=small), 400, "KMS.0308")
    e = expect_kms_error(lambda: create_capsule(kms, key, policy_id="p-1"), 400, "KMS.0308")
    assert "polic" in e.error_msg
    # A malformed inline key policy (bound capsules: test_kms_policies.py).
    expect_kms_error(lambda: create_capsule(kms, key, key_policy="not json"), 400, "KMS.0308")
    capsule = create_capsule(kms, key).datakey_capsule
    doc = DecryptDatakeyCapsuleRequestBodyAttestationDocument(ecs_signature="sig")
    e = expect_kms_error(lambda: open_capsule(kms, key, capsule, attestation_document=doc), 400, "KMS.0308")
    assert "attestation" in e.error_msg
    # Only symmetric ENCRYPT_DECRYPT keys seal capsules.
    for fields in ({"key_spec": "RSA_2048", "key_usage": "ENCRYPT_DECRYPT"}, {"key_spec": "HMAC_256"},
                   {"key_spec": "EC_P256", "key_usage": "KEY_AGREEMENT"}):
        expect_kms_error(lambda: create_capsule(kms, create_key(**fields)), 400, "KMS.0308")


def test_capsule_with_disabled_key(kms, create_key):
    key = create_key()
    capsule = create_capsule(kms, key).datakey_capsule
    kh.disable(kms, key)
    expect_kms_error(lambda: create_capsule(kms, key), 400, "KMS.0209")
    expect_kms_error(lambda: open_capsule(kms, key, capsule), 400, "KMS.0209")
    kh.enable(kms, key)
    assert open_capsule(kms, key, capsule).datakey


# ---- CreatePin and pin fields ---------------------------------------------------------
def create_pin(c, **kw):
    return c.create_pin(CreatePinRequest(body=CreatePinRequestBody(**kw))).pin


def test_create_pin(kms):
    plain = create_pin(kms, pin_type="PlainText")
    assert len(plain) == 32 and int(plain, 16) >= 0
    assert create_pin(kms, pin_type="PlainText") != plain
    for ks in ("1", "2"):
        sealed = create_pin(kms, pin_type="CipherText", keystore_id=ks)
        assert len(unb64(sealed)) > 32
    assert unb64(create_pin(kms, keystore_id="1"))  # CipherText is the default
    expect_kms_error(lambda: create_pin(kms, pin_type="CipherText"), 400, "KMS.0204")
    expect_kms_error(lambda: create_pin(kms), 400, "KMS.0204")
    expect_kms_error(lambda: create_pin(kms, pin_type="Hex"), 400, "KMS.0308")
    expect_kms_error(lambda: create_pin(kms, pin_type="CipherText", keystore_id="ks-x"), 400, "KMS.0308")


def test_pin_fields_are_accepted_on_datakey_calls(kms, create_key):
    key = create_key()
    pin = create_pin(kms, keystore_id="1")
    dk = kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(
        key_id=key, datakey_length="256", pin=pin, pin_type="CipherText")))
    assert len(dk.plain_text) == 64
    kms.create_datakey_without_plaintext(CreateDatakeyWithoutPlaintextRequest(body=CreateDatakeyRequestBody(
        key_id=key, pin=create_pin(kms, pin_type="PlainText"), pin_type="PlainText")))
    import hashlib
    dek = bytes.fromhex(dk.plain_text)
    enc = kms.encrypt_datakey(EncryptDatakeyRequest(body=EncryptDatakeyRequestBody(
        key_id=key, plain_text=(dek + hashlib.sha256(dek).digest()).hex(), datakey_plain_length="32",
        pin=pin, pin_type="CipherText")))
    assert enc.cipher_text
    kms.create_ec_datakey_pair(CreateEcDatakeyPairRequest(body=CreateEcDatakeyPairRequestBody(
        key_id=key, key_spec="ECC_NIST_P256", pin=pin, pin_type="CipherText")))
    expect_kms_error(lambda: kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(
        key_id=key, pin="1234", pin_type="Clear"))), 400, "KMS.0308")
