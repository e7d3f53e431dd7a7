"""Offline self-test of the suite's own SDK-HMAC-SHA256 signer (support.sign_request).

The vectors come from SIGNING.md / signing_vectors.json (produced with the SDK's own
signer). If these fail, the tampering tests in test_iam_auth.py cannot be trusted.
These tests need no server.
"""

import json

import pytest

import support

AK = "HPUAEXAMPLEAK0000001"
SK = "ExampleSecretKey0123456789abcdefghijklmn"
PID = "0123456789abcdef0123456789abcdef"
DATE = "20240102T030405Z"
UA = "huaweicloud-usdk-python/3.0; apicatalog-example"

VECTORS = [
    dict(
        name="kms_create_key",
        method="POST",
        path=f"/v1.0/{PID}/kms/create-key",
        query="",
        headers={"Content-Type": "application/json;charset=utf-8", "User-Agent": UA, "X-Sdk-Date": DATE,
                 "X-Project-Id": PID, "Host": "kms.cn-north-4.myhuaweicloud.com"},
        body=b'{"key_alias": "test-key", "key_spec": "AES_256", "key_usage": "ENCRYPT_DECRYPT"}',
        string_to_sign="SDK-HMAC-SHA256\n20240102T030405Z\n"
                       "acc8a2fbecc4a3c0660bcc59200ce2ac53ef1580b28acf66dd3a268a59846425",
        signature="617d20fd9676e1adb94218be2d9a35bc5de8f68d22a43b8bc576eb1c106d2687",
    ),
    dict(
        name="csms_get_escaped_path_and_query",
        method="GET",
        path=f"/v1/{PID}/secrets/db%20pass%3A%C3%BC/versions",
        query="limit=5&marker=a%2Bb%20c%2Fd~e",
        headers={"Content-Type": "application/json", "User-Agent": UA, "X-Sdk-Date": DATE,
                 "X-Project-Id": PID, "Host": "kms.cn-north-4.myhuaweicloud.com"},
        body=b"",
        string_to_sign="SDK-HMAC-SHA256\n20240102T030405Z\n"
                       "f967e56d8f11e3ab70c6a8d32b51faa63d6cc3d3f25c0d297b9836384e64b0b7",
        signature="8eb3a18f2835687a95b0fd18c8680106755e99200a722c1cb30522330d654fc5",
    ),
    dict(
        name="iam_list_projects_global",
        method="GET",
        path="/v3/projects",
        query="name=cn-north-4",
        headers={"Content-Type": "application/json", "User-Agent": UA, "X-Sdk-Date": DATE,
                 "X-Domain-Id": "fedcba9876543210fedcba9876543210", "Host": "iam.myhuaweicloud.com"},
        body=b"",
        string_to_sign="SDK-HMAC-SHA256\n20240102T030405Z\n"
                       "e0720bb486689383d557e3220ff5dbf68b98b0c5fc7b633f87450e93fa7bc1f6",
        signature="3a39c9a75fe8b4de0a7b0a6619b26099bb5d684f65f8eb87a024e6c204355dbe",
    ),
    dict(
        name="wire_capture_local_host_with_port",
        method="POST",
        path=f"/v1.0/{PID}/kms/create-key",
        query="",
        headers={"Content-Type": "application/json;charset=utf-8", "User-Agent": UA, "X-Sdk-Date": DATE,
                 "X-Project-Id": PID, "Host": "127.0.0.1:43933"},
        body=b'{"key_alias": "test-key", "key_spec": "AES_256", "key_usage": "ENCRYPT_DECRYPT"}',
        string_to_sign=None,
        signature="b340826136830a4e93399e8e9c4511bea8d27da99c21405b2339d9738dd00d99",
    ),
]


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_signer_matches_sdk_vectors(v):
    auth = support.sign_request(v["method"], v["path"], v["query"], v["headers"], v["body"], AK, SK)
    assert auth.startswith(f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=")
    assert auth.endswith(f", Signature={v['signature']}"), auth


def test_canonical_request_worked_example():
    v = VECTORS[0]
    signed = support.default_signed_headers(v["headers"])
    assert signed == ["content-type", "host", "user-agent", "x-project-id", "x-sdk-date"]
    creq = support.canonical_request(v["method"], v["path"], v["query"], v["headers"], v["body"], signed)
    assert creq == (
        "POST\n/v1.0/0123456789abcdef0123456789abcdef/kms/create-key/\n\n"
        "content-type:application/json;charset=utf-8\nhost:kms.cn-north-4.myhuaweicloud.com\n"
        "user-agent:huaweicloud-usdk-python/3.0; apicatalog-example\n"
        "x-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20240102T030405Z\n\n"
        "content-type;host;user-agent;x-project-id;x-sdk-date\n"
        "48f5d9a12d33866be95808c2839e5a9a76a46d00d59b449daa67791ad02d5146"
    )


def test_canonical_uri_rules():
    assert support.canonical_uri("/") == "/"
    assert support.canonical_uri("/v1.0/p/kms/create-key") == "/v1.0/p/kms/create-key/"
    # decode-then-split: %2F becomes a literal '/'
    assert support.canonical_uri("/a/b%2Fc") == "/a/b/c/"
    assert support.canonical_uri("/a/x%20y~z") == "/a/x%20y~z/"


def test_canonical_query_sorting_and_encoding():
    assert support.canonical_query("b=2&a=1&a=0") == "a=0&a=1&b=2"
    assert support.canonical_query("m=a%2Bb%20c") == "m=a%2Bb%20c"
    assert support.canonical_query("flag") == "flag="


def test_banner_parser():
    text = ("dewstack 0.1\nexport DEWSTACK_ENDPOINT=http://127.0.0.1:1234\n"
            "  export NOT_AT_LINE_START=1\nexport HUAWEICLOUD_SDK_AK='ABC'\n")
    b = support.parse_banner(text)
    assert b["DEWSTACK_ENDPOINT"] == "http://127.0.0.1:1234"
    assert b["HUAWEICLOUD_SDK_AK"] == "ABC"
    assert "NOT_AT_LINE_START" not in b


def test_sdk_serialises_body_like_our_helper():
    """The raw helper's JSON bytes match what the SDK would sign (json default separators)."""
    assert json.dumps({"key_alias": "test-key", "key_spec": "AES_256", "key_usage": "ENCRYPT_DECRYPT"}).encode() \
        == VECTORS[0]["body"]
