"""HTTPS (`serve --tls-listen`): the Python SDK over TLS trusting the CA that
dewstack generated, next to plain HTTP on the other port."""

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkkms.v2 import (
    CreateKeyRequest,
    CreateKeyRequestBody,
    DecryptDataRequest,
    DecryptDataRequestBody,
    EncryptDataRequest,
    EncryptDataRequestBody,
    KmsClient,
    ListKeysRequest,
    ListKeysRequestBody,
)

import support


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    srv = support.tls_server(tmp_path_factory.mktemp("dewstack-tls"), "tls")
    yield srv
    srv.stop()


def client(srv, endpoint, ca=None):
    b = srv.banner
    cfg = support.http_config()
    if ca:
        cfg.ssl_ca_cert = ca
    creds = BasicCredentials(b["HUAWEICLOUD_SDK_AK"], b["HUAWEICLOUD_SDK_SK"], b["HUAWEICLOUD_SDK_PROJECT_ID"])
    return KmsClient.new_builder().with_http_config(cfg).with_credentials(creds).with_endpoints([endpoint]).build()


def test_python_sdk_over_https_trusting_the_generated_ca(tls_server):
    b = tls_server.banner
    https, ca = b["DEWSTACK_TLS_ENDPOINT"], b["DEWSTACK_CA_FILE"]
    assert https.startswith("https://127.0.0.1:") and b["DEWSTACK_ENDPOINT"].startswith("http://")
    # Unchanged applications are pointed at HTTPS.
    assert b["HUAWEICLOUD_SDK_IAM_ENDPOINT"] == https
    kms = client(tls_server, https, ca)
    kid = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=support.unique("tls")))).key_info.key_id
    ct = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(key_id=kid, plain_text="over tls"))).cipher_text
    assert kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(cipher_text=ct))).plain_text == "over tls"
    # The same server over plain HTTP sees the key.
    plain = client(tls_server, b["DEWSTACK_ENDPOINT"])
    assert kid in plain.list_keys(ListKeysRequest(body=ListKeysRequestBody())).keys


def test_without_the_ca_the_certificate_is_not_trusted(tls_server):
    kms = client(tls_server, tls_server.banner["DEWSTACK_TLS_ENDPOINT"])
    with pytest.raises(sdk_exc.SdkException):
        kms.list_keys(ListKeysRequest(body=ListKeysRequestBody()))
