"""A ciphertext opens only through the operation that made it (through the official SDK).

A data key's cipher_text is a blob plus a trailer anyone can compute (key id, four zero bytes,
SHA-256). Before blobs named their purpose, stripping the trailer turned a data key ciphertext
into an EncryptData blob and adding one turned it back, so a grantee allowed only decrypt-data
could unwrap data keys, and one allowed only decrypt-datakey could read EncryptData output.
"""

from __future__ import annotations

import base64
import hashlib

from huaweicloudsdkkms.v2 import (
    CreateDatakeyRequest,
    CreateDatakeyRequestBody,
    DecryptDataRequest,
    DecryptDataRequestBody,
    DecryptDatakeyRequest,
    DecryptDatakeyRequestBody,
    EncryptDataRequest,
    EncryptDataRequestBody,
)

import support
from support import expect_kms_error

INVALID_DATAKEY_CIPHERTEXT = "KMS.2201"
TRAILER = 36 + 4 + 32


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
