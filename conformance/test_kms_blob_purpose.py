"""A ciphertext opens only through the operation that made it (through the official SDK).

A data key's cipher_text is a blob plus a trailer anyone can compute (key id, four zero bytes,
SHA-256). Before blobs named their purpose, stripping the trailer turned a data key ciphertext
into an EncryptData blob and adding one turned it back, so a grantee allowed only decrypt-data
could unwrap data keys, and one allowed only decrypt-datakey could read EncryptData output.

Data key capsules had the data key layout and a fixed, public associated data string, so a
grantee allowed only decrypt-datakey could unwrap a capsule by passing that string. Capsules
are now blobs of their own purpose.
"""

from __future__ import annotations

import base64
import hashlib

from huaweicloudsdkkms.v2 import (
    CreateDatakeyCapsuleRequest,
    CreateDatakeyCapsuleRequestBody,
    CreateDatakeyRequest,
    CreateDatakeyRequestBody,
    CreateGrantRequest,
    CreateGrantRequestBody,
    DecryptDataRequest,
    DecryptDataRequestBody,
    DecryptDatakeyCapsuleRequest,
    DecryptDatakeyCapsuleRequestBody,
    DecryptDatakeyRequest,
    DecryptDatakeyRequestBody,
    EncryptDataRequest,
    EncryptDataRequestBody,
)

import support
from support import expect_kms_error

INVALID_DATAKEY_CIPHERTEXT = "KMS.2201"
TRAILER = 36 + 4 + 32
# What capsules were sealed with before they had a purpose of their own (now reserved).
OLD_CAPSULE_AAD = "dewstack/datakey-capsule/v1"


def test_datakey_ciphertext_does_not_open_as_encrypt_data(kms, create_key):
    key = create_key()
    made = kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=key)))
    blob = bytes.fromhex(made.cipher_text)[:-TRAILER]
    as_data = base64.b64encode(blob).decode()
    expect_kms_error(lambda: kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=as_data))), 400, support.KMS_INVALID_PARAM)
    # Its own operation still opens it.
    back = kms.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
        key_id=key, cipher_text=made.cipher_text, datakey_cipher_length="32")))
    assert back.data_key.lower() == made.plain_text.lower()


def test_encrypt_data_blob_does_not_open_as_a_datakey(kms, create_key):
    key = create_key()
    secret = bytes(range(32))
    ct = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
        key_id=key, plain_text=base64.b64encode(secret).decode()))).cipher_text
    body = base64.b64decode(ct) + key.encode() + bytes(4)
    wrapped = (body + hashlib.sha256(body).digest()).hex().upper()
    expect_kms_error(lambda: kms.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
        key_id=key, cipher_text=wrapped, datakey_cipher_length="44"))), 400, INVALID_DATAKEY_CIPHERTEXT)
    assert kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        cipher_text=ct))).plain_text == base64.b64encode(secret).decode()


def test_grantee_with_decrypt_datakey_cannot_open_a_capsule(kms, acme_kms, create_key, acme_user_id):
    key = create_key()
    capsule = kms.create_datakey_capsule(CreateDatakeyCapsuleRequest(body=CreateDatakeyCapsuleRequestBody(
        key_id=key, datakey_length="256")))
    kms.create_grant(CreateGrantRequest(body=CreateGrantRequestBody(
        key_id=key, grantee_principal=acme_user_id, operations=["decrypt-datakey"])))
    as_datakey = base64.b64decode(capsule.datakey_capsule).hex().upper()
    for aad in (None, OLD_CAPSULE_AAD, "anything"):
        expect_kms_error(lambda: acme_kms.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
            key_id=key, cipher_text=as_datakey, datakey_cipher_length="32",
            additional_authenticated_data=aad))), 400, INVALID_DATAKEY_CIPHERTEXT)
    # The owner opens it as what it is.
    back = kms.decrypt_datakey_capsule(DecryptDatakeyCapsuleRequest(body=DecryptDatakeyCapsuleRequestBody(
        key_id=key, datakey_capsule=capsule.datakey_capsule)))
    assert back.datakey == capsule.datakey


def test_datakey_ciphertext_does_not_open_as_a_capsule(kms, create_key):
    key = create_key()
    made = kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=key)))
    as_capsule = base64.b64encode(bytes.fromhex(made.cipher_text)).decode()
    expect_kms_error(lambda: kms.decrypt_datakey_capsule(DecryptDatakeyCapsuleRequest(
        body=DecryptDatakeyCapsuleRequestBody(key_id=key, datakey_capsule=as_capsule))),
        400, INVALID_DATAKEY_CIPHERTEXT)
    # The associated data old capsules carried is reserved: no data key can pass for one.
    expect_kms_error(lambda: kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(
        key_id=key, additional_authenticated_data=OLD_CAPSULE_AAD))), 400, support.KMS_INVALID_PARAM)
