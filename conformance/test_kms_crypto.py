"""KMS cryptographic operations through the official SDK, checked against
independent implementations (Python ``cryptography``, ``gmssl`` for SM2).

* EncryptData/DecryptData: symmetric, RSA-OAEP (SHA-1/SHA-256), SM2; outside
  ciphertexts made with ShowPublicKey's key decrypt inside.
* Data keys: CreateDatakey(+WithoutPlaintext), EncryptDatakey, DecryptDatakey,
  key pairs, ReEncrypt, CreateRandom.
* Sign/ValidateSignature both ways, GenerateMac/VerifyMac.
* Tampering (any flipped byte, wrong AAD, another project's ciphertext) is a
  4xx, never a 5xx and never a wrong plaintext; unusable keys refuse everything.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkkms.v2 import (
    CreateDatakeyRequest, CreateDatakeyRequestBody, CreateDatakeyWithoutPlaintextRequest,
    CreateEcDatakeyPairRequest, CreateEcDatakeyPairRequestBody, CreateRandomRequest,
    CreateRsaDatakeyPairRequest, CreateRsaDatakeyPairRequestBody, DecryptDataRequest,
    DecryptDataRequestBody, DecryptDatakeyRequest, DecryptDatakeyRequestBody, EncryptDataRequest,
    EncryptDataRequestBody, EncryptDatakeyRequest, EncryptDatakeyRequestBody, GenerateMacRequest,
    GenerateMacRequestBody, GenRandomRequestBody, OperateKeyRequestBody, ReEncryptRequest,
    ReEncryptRequestBody, ShowPublicKeyRequest, SignRequest, SignRequestBody,
    ValidateSignatureRequest, VerifyMacRequest, VerifyMacRequestBody, VerifyRequestBody,
)

import kms_helpers as kh
import support
from support import expect_kms_error

b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
unb64 = base64.b64decode


# ---- small wrappers -------------------------------------------------------------------
def encrypt(c, key_id, text, alg=None, aad=None):
    return c.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
        key_id=key_id, plain_text=text, encryption_algorithm=alg,
        additional_authenticated_data=aad))).cipher_text


def decrypt(c, ct, key_id=None, alg=None, aad=None):
    return c.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=ct, key_id=key_id, encryption_algorithm=alg,
        additional_authenticated_data=aad)))


def public_key(c, key_id):
    pem = c.show_public_key(ShowPublicKeyRequest(body=OperateKeyRequestBody(key_id=key_id))).public_key
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\r\n"), pem
    return pem


def sign(c, key_id, msg, alg, mtype):
    return c.sign(SignRequest(body=SignRequestBody(
        key_id=key_id, message=b64(msg), signing_algorithm=alg, message_type=mtype))).signature


def validate(c, key_id, msg, sig, alg, mtype):
    return c.validate_signature(ValidateSignatureRequest(body=VerifyRequestBody(
        key_id=key_id, message=b64(msg), signature=b64(sig), signing_algorithm=alg,
        message_type=mtype))).signature_valid


def create_datakey(c, key_id, aad=None, **kw):
    return c.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(
        key_id=key_id, additional_authenticated_data=aad, **kw)))


def decrypt_datakey(c, key_id, ct, length, aad=None):
    return c.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
        key_id=key_id, cipher_text=ct, datakey_cipher_length=str(length),
        additional_authenticated_data=aad)))


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


def flip(data: bytes, i: int) -> bytes:
    b = bytearray(data)
    b[i] ^= 0x01
    return bytes(b)


# ---- EncryptData / DecryptData --------------------------------------------------------
@pytest.mark.parametrize("spec", ["AES_256", "SM4"])
def test_symmetric_round_trip_and_every_tamper_fails(kms, acme_kms, create_key, spec):
    key = create_key(key_spec=spec)
    ct = encrypt(kms, key, "hello dew", aad="ctx-1")
    out = decrypt(kms, ct, aad="ctx-1")
    assert (out.key_id, out.plain_text, unb64(out.plain_text_base64)) == (key, "hello dew", b"hello dew")
    assert decrypt(kms, ct, key_id=key, aad="ctx-1").plain_text == "hello dew"
    blob = unb64(ct)
    for i in range(len(blob)):
        expect_4xx(lambda: decrypt(kms, b64(flip(blob, i)), aad="ctx-1"))
    expect_4xx(lambda: decrypt(kms, ct, aad="ctx-2"))
    expect_4xx(lambda: decrypt(kms, ct))
    expect_4xx(lambda: decrypt(acme_kms, ct, aad="ctx-1"))  # another project's ciphertext
    expect_4xx(lambda: decrypt(kms, b64(blob[:-1]), aad="ctx-1"))


@pytest.mark.parametrize("alg,hash_cls", [("RSAES_OAEP_SHA_256", hashes.SHA256), ("RSAES_OAEP_SHA_1", hashes.SHA1)])
def test_rsa_oaep_inside_and_from_outside(kms, create_key, alg, hash_cls):
    key = create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT")
    ct = encrypt(kms, key, "rsa secret", alg=alg)
    assert decrypt(kms, ct, key_id=key, alg=alg).plain_text == "rsa secret"
    pub = serialization.load_pem_public_key(public_key(kms, key).encode())
    oaep = padding.OAEP(mgf=padding.MGF1(hash_cls()), algorithm=hash_cls(), label=None)
    outside = pub.encrypt(b"\x00made outside\xff", oaep)
    out = decrypt(kms, b64(outside), key_id=key, alg=alg)
    assert unb64(out.plain_text_base64) == b"\x00made outside\xff"
    for i in (0, 100, len(outside) - 1):
        expect_4xx(lambda: decrypt(kms, b64(flip(outside, i)), key_id=key, alg=alg))
    expect_kms_error(lambda: decrypt(kms, ct, alg=alg), 400, "KMS.0204")  # key_id is needed
    expect_4xx(lambda: encrypt(kms, key, "x"))  # no algorithm: symmetric default does not fit
    expect_4xx(lambda: encrypt(kms, key, "x" * 300, alg=alg))  # too long for RSA-2048


def test_sm2_encrypt_inside_and_from_gmssl(kms, create_key):
    key = create_key(key_spec="SM2", key_usage="ENCRYPT_DECRYPT")
    ct = encrypt(kms, key, "国密 SM2", alg="SM2_ENCRYPT")
    assert decrypt(kms, ct, key_id=key, alg="SM2_ENCRYPT").plain_text == "国密 SM2"
    expect_4xx(lambda: decrypt(kms, b64(flip(unb64(ct), len(unb64(ct)) - 1)), key_id=key, alg="SM2_ENCRYPT"))
    point = _spki_point(public_key(kms, key))
    outside = _gm_sm2(point, mode=1).encrypt(b"from gmssl")
    assert unb64(decrypt(kms, b64(outside), key_id=key, alg="SM2_ENCRYPT").plain_text_base64) == b"from gmssl"


def _gm_sm2(point: bytes, **kw):
    """A gmssl CryptSM2 for the public point (64 bytes, no 0x04). gmssl's
    constructor ``lstrip("04")``s a key starting with "04", which also eats
    leading '0'/'4' digits of x; assigning afterwards keeps the key intact."""
    from gmssl import sm2 as gm
    crypt = gm.CryptSM2(private_key="00", public_key=point.hex(), **kw)
    crypt.public_key = point.hex()
    return crypt


def _spki_point(pem: str) -> bytes:
    """The uncompressed point (without 0x04) at the end of an EC SubjectPublicKeyInfo."""
    der = unb64("".join(l for l in pem.splitlines() if l and not l.startswith("-----")))
    assert der[-65] == 0x04
    return der[-64:]


# ---- Sign / ValidateSignature ---------------------------------------------------------
# The private half of a generated KMS key never leaves KMS, so "signatures made outside"
# are the other valid encoding of a KMS ECDSA signature, (r, n - s), re-encoded by
# ``cryptography``; known-answer vectors (RFC 6979, RFC 8032) are in the Rust unit tests,
# and keys whose private half was made outside are in test_kms_import_asymmetric.py.
SIGN_CASES = (
    [("RSA_2048", f"RSASSA_{p}_SHA_{n}") for p in ("PSS", "PKCS1_V1_5") for n in (256, 384, 512)]
    + [("EC_P256", "ECDSA_SHA_256"), ("EC_P256", "ECDSA_SHA_384"), ("EC_P384", "ECDSA_SHA_384"),
       ("EC_P384", "ECDSA_SHA_512"), ("SECP256K1", "ECDSA_SHA_256"),
       ("ED25519", "ED25519_SHA_512"), ("SM2", "SM2DSA_SM3")]
)
HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
ORDERS = {"EC_P256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
          "EC_P384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                         "581A0DB248B0A77AECEC196ACCC52973", 16),
          "SECP256K1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141}


def _outside_verifier(spec, alg, pem, mtype):
    """verify(sig, data) with an independent implementation; raises if invalid."""
    if spec == "SM2":
        crypt = _gm_sm2(_spki_point(pem), asn1=True)

        def check(sig, data):
            ok = (crypt.verify_with_sm3(sig.hex(), data) if mtype == "RAW"
                  else crypt.verify(sig.hex(), data))
            assert ok, "gmssl rejects the SM2 signature"
        return check
    pub = serialization.load_pem_public_key(pem.encode())
    if spec == "ED25519":
        assert isinstance(pub, ed25519.Ed25519PublicKey)
        return lambda sig, data: pub.verify(sig, data)
    h = HASHES[alg.rsplit("_", 1)[1]]()
    hh = utils.Prehashed(h) if mtype == "DIGEST" else h
    if spec.startswith("RSA"):
        pad = (padding.PSS(mgf=padding.MGF1(h), salt_length=padding.PSS.DIGEST_LENGTH)
               if "_PSS_" in alg else padding.PKCS1v15())
        return lambda sig, data: pub.verify(sig, data, pad, hh)
    return lambda sig, data: pub.verify(sig, data, ec.ECDSA(hh))


def _sm2_digest(pem, msg):
    crypt = _gm_sm2(_spki_point(pem))
    return bytes.fromhex(crypt._sm3_z(msg))  # e = SM3(Z_A || M), default ID


@pytest.mark.parametrize("spec,alg", SIGN_CASES)
def test_signatures_interoperate(kms, create_key, spec, alg):
    key = create_key(key_spec=spec, key_usage="SIGN_VERIFY")
    pem = public_key(kms, key)
    msg = b"sign me " + spec.encode()
    for mtype in (("RAW",) if spec == "ED25519" else ("RAW", "DIGEST")):
        if mtype == "RAW":
            data = msg
        elif spec == "SM2":
            data = _sm2_digest(pem, msg)
        else:
            data = hashlib.new("sha" + alg.rsplit("_", 1)[1], msg).digest()
        sig = unb64(sign(kms, key, data, alg, mtype))
        _outside_verifier(spec, alg, pem, mtype)(sig, data)
        assert validate(kms, key, data, sig, alg, mtype) == "true"
        for i in (0, len(sig) // 2, len(sig) - 1):
            assert validate(kms, key, data, flip(sig, i), alg, mtype) == "false"
        assert validate(kms, key, flip(data, 0), sig, alg, mtype) == "false"
        if spec in ORDERS:
            r, s_ = utils.decode_dss_signature(sig)
            other = utils.encode_dss_signature(r, ORDERS[spec] - s_)
            _outside_verifier(spec, alg, pem, mtype)(other, data)
            assert validate(kms, key, data, other, alg, mtype) == "true"


def test_ed25519_message_types(kms, create_key):
    """ED25519_SHA_512 is PureEdDSA: RAW only. ED25519_PH_SHA_512 is RFC 8032 Ed25519ph
    (empty context): RAW hashes the message with SHA-512, DIGEST is that SHA-512 value, and
    both give the same (deterministic) signature. ``cryptography`` has no Ed25519ph, so the
    known-answer check against RFC 8032 section 7.3 is in the Rust unit tests; here the outside
    check is that an Ed25519ph signature is no pure Ed25519 signature (domain separation)."""
    key = create_key(key_spec="ED25519", key_usage="SIGN_VERIFY")
    pub = serialization.load_pem_public_key(public_key(kms, key).encode())
    msg = b"prehash me"
    ph = hashlib.sha512(msg).digest()
    for mtype in ("DIGEST", None):  # the default message type is DIGEST
        expect_kms_error(lambda: sign(kms, key, ph, "ED25519_SHA_512", mtype), 400, support.KMS_INVALID_PARAM)

    by_raw = unb64(sign(kms, key, msg, "ED25519_PH_SHA_512", "RAW"))
    by_digest = unb64(sign(kms, key, ph, "ED25519_PH_SHA_512", "DIGEST"))
    assert len(by_raw) == 64 and by_raw == by_digest
    assert validate(kms, key, msg, by_raw, "ED25519_PH_SHA_512", "RAW") == "true"
    assert validate(kms, key, ph, by_raw, "ED25519_PH_SHA_512", "DIGEST") == "true"
    assert validate(kms, key, ph, flip(by_raw, 5), "ED25519_PH_SHA_512", "DIGEST") == "false"
    assert validate(kms, key, flip(ph, 0), by_raw, "ED25519_PH_SHA_512", "DIGEST") == "false"
    assert validate(kms, key, msg, by_raw, "ED25519_SHA_512", "RAW") == "false"
    for data in (msg, ph):
        with pytest.raises(InvalidSignature):
            pub.verify(by_raw, data)
    pure = unb64(sign(kms, key, msg, "ED25519_SHA_512", "RAW"))
    pub.verify(pure, msg)
    assert validate(kms, key, msg, pure, "ED25519_PH_SHA_512", "RAW") == "false"
    expect_kms_error(lambda: sign(kms, key, ph[:32], "ED25519_PH_SHA_512", "DIGEST"), 400, "KMS.0329")


def test_sign_refuses_bad_digest_and_mismatched_algorithm(kms, create_key):
    key = create_key(key_spec="EC_P256", key_usage="SIGN_VERIFY")
    expect_kms_error(lambda: sign(kms, key, b"\x01" * 31, "ECDSA_SHA_256", "DIGEST"), 400, "KMS.0329")
    expect_kms_error(lambda: sign(kms, key, b"m", "RSASSA_PSS_SHA_256", "RAW"), 400, "KMS.0308")
    expect_kms_error(lambda: sign(kms, key, b"m", "NOPE", "RAW"), 400, "KMS.0308")


# ---- Data keys --------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["AES_256", "SM4"])
def test_datakey_round_trips(kms, acme_kms, create_key, spec):
    key = create_key(key_spec=spec)
    made = create_datakey(kms, key, aad="dk")
    assert made.key_id == key and len(bytes.fromhex(made.plain_text)) == 32
    got = decrypt_datakey(kms, key, made.cipher_text, 32, aad="dk")
    assert got.data_key.lower() == made.plain_text.lower() and got.datakey_length == "32"
    assert got.datakey_dgst.lower() == hashlib.sha256(bytes.fromhex(made.plain_text)).hexdigest()
    raw = bytes.fromhex(made.cipher_text)
    assert raw[-72:-36] == key.encode() and raw[-36:-32] == b"\0" * 4
    assert raw[-32:] == hashlib.sha256(raw[:-32]).digest()

    big = create_datakey(kms, key, datakey_length="512")
    assert len(bytes.fromhex(big.plain_text)) == 64
    assert decrypt_datakey(kms, key, big.cipher_text, 64).data_key.lower() == big.plain_text.lower()
    blind = kms.create_datakey_without_plaintext(CreateDatakeyWithoutPlaintextRequest(
        body=CreateDatakeyRequestBody(key_id=key, key_spec="AES_128")))
    assert len(bytes.fromhex(decrypt_datakey(kms, key, blind.cipher_text, 16).data_key)) == 16

    dek = bytes(range(48))
    dgst = hashlib.sha256(dek).digest() if spec == "AES_256" else bytes.fromhex(_sm3(dek))
    enc = kms.encrypt_datakey(EncryptDatakeyRequest(body=EncryptDatakeyRequestBody(
        key_id=key, plain_text=(dek + dgst).hex(), datakey_plain_length="48")))
    assert enc.datakey_length == "48"
    assert bytes.fromhex(decrypt_datakey(kms, key, enc.cipher_text, 48).data_key) == dek
    expect_kms_error(lambda: kms.encrypt_datakey(EncryptDatakeyRequest(body=EncryptDatakeyRequestBody(
        key_id=key, plain_text=(dek + flip(dgst, 3)).hex(), datakey_plain_length="48"))), 400, "KMS.2103")
    expect_kms_error(lambda: kms.encrypt_datakey(EncryptDatakeyRequest(body=EncryptDatakeyRequestBody(
        key_id=key, plain_text=(dek + dgst).hex(), datakey_plain_length="47"))), 400, "KMS.2104")

    for i in range(len(raw)):
        expect_4xx(lambda: decrypt_datakey(kms, key, flip(raw, i).hex(), 32, aad="dk"))
    expect_4xx(lambda: decrypt_datakey(kms, key, made.cipher_text, 32, aad="other"))
    expect_kms_error(lambda: decrypt_datakey(kms, key, made.cipher_text, 31, aad="dk"), 400, "KMS.2204")
    other = create_key(key_spec=spec)
    expect_4xx(lambda: decrypt_datakey(kms, other, made.cipher_text, 32, aad="dk"))
    expect_4xx(lambda: decrypt_datakey(acme_kms, key, made.cipher_text, 32, aad="dk"))


def _sm3(data: bytes) -> str:
    from gmssl import func, sm3
    return sm3.sm3_hash(func.bytes_to_list(data))


def test_datakey_length_rules(kms, create_key):
    key = create_key()
    expect_kms_error(lambda: create_datakey(kms, key, datakey_length="12"), 400, "KMS.1903")
    expect_kms_error(lambda: create_datakey(kms, key, datakey_length="8200"), 400, "KMS.1901")
    expect_kms_error(lambda: create_datakey(kms, key, key_spec="DES"), 400, "KMS.1902")
    rsa_key = create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT")
    expect_kms_error(lambda: create_datakey(kms, rsa_key), 400, "KMS.0308")


@pytest.mark.parametrize("kind,spec", [("rsa", "RSA_2048"), ("ec", "ECC_NIST_P256"),
                                       ("ec", "ECC_NIST_P384"), ("ec", "ECC_NIST_P521"),
                                       ("ec", "ECC_SECG_P256K1"), ("ec", "SM2")])
def test_datakey_pairs(kms, create_key, kind, spec):
    key = create_key()
    if kind == "rsa":
        resp = kms.create_rsa_datakey_pair(CreateRsaDatakeyPairRequest(body=CreateRsaDatakeyPairRequestBody(
            key_id=key, key_spec=spec, additional_authenticated_data="pair")))
    else:
        resp = kms.create_ec_datakey_pair(CreateEcDatakeyPairRequest(body=CreateEcDatakeyPairRequestBody(
            key_id=key, key_spec=spec, additional_authenticated_data="pair")))
    assert resp.key_spec == spec
    private_der = unb64(resp.private_key_plain_text)
    opened = decrypt(kms, resp.private_key_cipher_text, aad="pair")
    assert unb64(opened.plain_text_base64) == private_der
    if spec != "SM2":
        priv = serialization.load_der_private_key(private_der, password=None)
        pub_der = priv.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        assert unb64(resp.public_key) == pub_der
        if kind == "ec":
            assert priv.curve.name == CURVES[spec]
    else:
        assert unb64(resp.public_key)[-65] == 0x04


CURVES = {"ECC_NIST_P256": "secp256r1", "ECC_NIST_P384": "secp384r1", "ECC_NIST_P521": "secp521r1",
          "ECC_SECG_P256K1": "secp256k1"}


def test_p521_is_for_data_key_pairs_only(kms, create_key):
    # CreateEcDatakeyPair lists ECC_NIST_P521; CreateKey's key_spec list has no P-521 at all.
    for spec in ("EC_P521", "ECC_NIST_P521"):
        expect_kms_error(lambda: create_key(key_spec=spec, key_usage="SIGN_VERIFY"), 400,
                         support.KMS_INVALID_PARAM)


# ---- ReEncrypt, random, MAC ----------------------------------------------------------
def test_re_encrypt(kms, create_key):
    a, b = create_key(), create_key(key_spec="SM4")
    ct = encrypt(kms, a, "move me", aad="A")
    out = kms.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=ct, source_additional_authenticated_data="A", destination_key_id=b,
        destination_additional_authenticated_data="B")))
    assert (out.key_id, out.source_key_id) == (b, a)
    assert decrypt(kms, out.cipher_text, aad="B").plain_text == "move me"
    expect_4xx(lambda: kms.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=ct, source_additional_authenticated_data="wrong", destination_key_id=b))))

    made = create_datakey(kms, a)
    moved = kms.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=made.cipher_text, datakey_cipher_length="32", destination_key_id=b)))
    assert decrypt_datakey(kms, b, moved.cipher_text, 32).data_key.lower() == made.plain_text.lower()

    r = create_key(key_spec="RSA_2048", key_usage="ENCRYPT_DECRYPT")
    rct = encrypt(kms, r, "from rsa", alg="RSAES_OAEP_SHA_256")
    out = kms.re_encrypt(ReEncryptRequest(body=ReEncryptRequestBody(
        cipher_text=rct, source_key_id=r, source_encryption_algorithm="RSAES_OAEP_SHA_256",
        destination_key_id=a)))
    assert out.source_encryption_algorithm == "RSAES_OAEP_SHA_256"
    assert decrypt(kms, out.cipher_text).plain_text == "from rsa"


def test_gen_random(kms):
    def gen(n):
        return kms.create_random(CreateRandomRequest(body=GenRandomRequestBody(random_data_length=n)))
    a, b = gen("512").random_data, gen("512").random_data
    assert len(bytes.fromhex(a)) == 64 and a != b
    assert len(bytes.fromhex(gen("8").random_data)) == 1
    expect_kms_error(lambda: gen("12"), 400, "KMS.1802")
    expect_kms_error(lambda: gen("8200"), 400, "KMS.1801")


@pytest.mark.parametrize("spec,alg", [("HMAC_256", "HMAC_SHA_256"), ("HMAC_384", "HMAC_SHA_384"),
                                      ("HMAC_512", "HMAC_SHA_512"), ("HMAC_SM3", "HMAC_SM3")])
def test_mac_round_trip(kms, create_key, spec, alg):
    key = create_key(key_spec=spec, key_usage="GENERATE_VERIFY_MAC")

    def verify(msg, mac):
        return kms.verify_mac(VerifyMacRequest(body=VerifyMacRequestBody(
            key_id=key, mac_algorithm=alg, message=b64(msg), mac=b64(mac)))).mac_valid
    mac = unb64(kms.generate_mac(GenerateMacRequest(body=GenerateMacRequestBody(
        key_id=key, mac_algorithm=alg, message=b64(b"mac me")))).mac)
    assert len(mac) == {"HMAC_384": 48, "HMAC_512": 64}.get(spec, 32)
    assert verify(b"mac me", mac) is True
    assert verify(b"mac me!", mac) is False
    assert verify(b"mac me", flip(mac, 5)) is False
    wrong = "HMAC_SHA_512" if alg != "HMAC_SHA_512" else "HMAC_SHA_256"
    expect_kms_error(lambda: kms.generate_mac(GenerateMacRequest(body=GenerateMacRequestBody(
        key_id=key, mac_algorithm=wrong, message=b64(b"x")))), 400, "KMS.0308")


# ---- unusable keys refuse everything -------------------------------------------------
def _all_ops(kms, aes, ct, dk, ec_key, mac_key):
    return [
        lambda: encrypt(kms, aes, "x"),
        lambda: decrypt(kms, ct),
        lambda: create_datakey(kms, aes),
        lambda: decrypt_datakey(kms, aes, dk, 32),
        lambda: sign(kms, ec_key, b"m", "ECDSA_SHA_256", "RAW"),
        lambda: validate(kms, ec_key, b"m", b"\x30\x00", "ECDSA_SHA_256", "RAW"),
        lambda: public_key(kms, ec_key),
        lambda: kms.generate_mac(GenerateMacRequest(body=GenerateMacRequestBody(
            key_id=mac_key, mac_algorithm="HMAC_SHA_256", message=b64(b"x")))),
    ]


@pytest.mark.parametrize("state,code", [("disabled", "KMS.0209"), ("pending_deletion", "KMS.0210")])
def test_unusable_keys_refuse_every_operation(kms, create_key, state, code):
    aes = create_key()
    ec_key = create_key(key_spec="EC_P256", key_usage="SIGN_VERIFY")
    mac_key = create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC")
    ct, dk = encrypt(kms, aes, "x"), create_datakey(kms, aes).cipher_text
    for k in (aes, ec_key, mac_key):
        (kh.disable if state == "disabled" else kh.schedule_deletion)(kms, k)
    for op in _all_ops(kms, aes, ct, dk, ec_key, mac_key):
        expect_kms_error(op, 400, code)


def test_wrong_usage_and_pending_import_refuse(kms, create_key):
    aes = create_key()
    ec_key = create_key(key_spec="EC_P256", key_usage="SIGN_VERIFY")
    expect_kms_error(lambda: sign(kms, aes, b"m", "ECDSA_SHA_256", "RAW"), 400, "KMS.0308")
    expect_kms_error(lambda: encrypt(kms, ec_key, "x", alg="SM2_ENCRYPT"), 400, "KMS.0308")
    expect_kms_error(lambda: kms.generate_mac(GenerateMacRequest(body=GenerateMacRequestBody(
        key_id=aes, mac_algorithm="HMAC_SHA_256", message=b64(b"x")))), 400, "KMS.0308")
    pending = create_key(origin="external")
    expect_4xx(lambda: encrypt(kms, pending, "x"))
    expect_4xx(lambda: create_datakey(kms, pending))
