"""The SDK's asymmetric AK/SK signing algorithms (SIGNING.md section 4): a stock KMS client
whose HttpConfig selects ECDSA_P256_SHA256 or SM2_SM3 signs with a key derived from AK/SK,
and the server must accept it.

A request handler records the Authorization header the SDK actually sent, so each test
proves the algorithm under test was used rather than the default HMAC.
"""

import dataclasses

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkcore.signer.algorithm import SigningAlgorithm
from huaweicloudsdkkms.v2 import (CreateKeyRequest, CreateKeyRequestBody, KmsClient,
                                  ListKeysRequest, ListKeysRequestBody)

import support

ALGORITHMS = {
    "SDK-ECDSA-P256-SHA256": SigningAlgorithm.ECDSA_P256_SHA256,
    "SDK-SM2-SM3": SigningAlgorithm.SM2_SM3,
}


def asym_client(server, ident, algorithm):
    """(client, sent) where ``sent`` collects the Authorization headers of its requests."""
    cfg = support.http_config()
    cfg.signing_algorithm = algorithm
    sent = []
    handler = HttpHandler().add_request_handler(
        lambda **kw: sent.append(kw["request"].header_params.get("Authorization", "")))
    client = (KmsClient.new_builder()
              .with_http_config(cfg)
              .with_http_handler(handler)
              .with_credentials(BasicCredentials(ident.ak, ident.sk, ident.project_id))
              .with_endpoints([server.endpoint])
              .build())
    return client, sent


def list_key_ids(client):
    resp = client.list_keys(ListKeysRequest(body=ListKeysRequestBody(limit="100")))
    return list(resp.keys or [])


@pytest.mark.parametrize("name", ALGORITHMS)
def test_list_keys(server, tenant, name):
    client, sent = asym_client(server, tenant, ALGORITHMS[name])
    assert list_key_ids(client) is not None
    assert sent and all(a.startswith(f"{name} Access={tenant.ak}, ") for a in sent), sent


@pytest.mark.parametrize("name", ALGORITHMS)
def test_create_then_list(server, tenant, name):
    # A body makes the payload hash matter (SM3 for SM2, SHA-256 for ECDSA).
    client, sent = asym_client(server, tenant, ALGORITHMS[name])
    resp = client.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=support.unique("asym"))))
    key_id = resp.key_info.key_id
    assert key_id in list_key_ids(client)
    assert all(a.startswith(f"{name} ") for a in sent), sent


@pytest.mark.parametrize("name", ALGORITHMS)
def test_repeated_calls(server, tenant, name):
    # Every call signs with a fresh random nonce; a few dozen calls are likely to include
    # an r or s with a leading zero byte, i.e. a shorter DER INTEGER.
    client, _ = asym_client(server, tenant, ALGORITHMS[name])
    for _ in range(30):
        list_key_ids(client)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_wrong_secret_is_401(server, tenant, name):
    bad = dataclasses.replace(tenant, sk=support.gen_sk())
    client, sent = asym_client(server, bad, ALGORITHMS[name])
    with pytest.raises(ClientRequestException) as ei:
        list_key_ids(client)
    assert ei.value.status_code == 401
    assert ei.value.error_code == support.APIGW_AUTH
    assert sent and sent[0].startswith(f"{name} ")
