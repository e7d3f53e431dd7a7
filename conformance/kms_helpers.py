"""Small KMS call wrappers shared by the test modules (official SDK only)."""

from __future__ import annotations

from typing import List

from huaweicloudsdkkms.v2 import (
    CancelKeyDeletionRequest,
    DeleteKeyRequest,
    DisableKeyRequest,
    EnableKeyRequest,
    ListKeyDetailRequest,
    ListKeysRequest,
    ListKeysRequestBody,
    OperateKeyRequestBody,
    ScheduleKeyDeletionRequestBody,
    ShowKmsTagsRequest,
    UpdateKeyAliasRequest,
    UpdateKeyAliasRequestBody,
    UpdateKeyDescriptionRequest,
    UpdateKeyDescriptionRequestBody,
)


def describe(client, key_id):
    return client.list_key_detail(ListKeyDetailRequest(body=OperateKeyRequestBody(key_id=key_id))).key_info


def enable(client, key_id):
    return client.enable_key(EnableKeyRequest(body=OperateKeyRequestBody(key_id=key_id)))


def disable(client, key_id):
    return client.disable_key(DisableKeyRequest(body=OperateKeyRequestBody(key_id=key_id)))


def schedule_deletion(client, key_id, pending_days="7"):
    return client.delete_key(DeleteKeyRequest(
        body=ScheduleKeyDeletionRequestBody(key_id=key_id, pending_days=pending_days)))


def cancel_deletion(client, key_id):
    return client.cancel_key_deletion(CancelKeyDeletionRequest(body=OperateKeyRequestBody(key_id=key_id)))


def update_description(client, key_id, description):
    return client.update_key_description(UpdateKeyDescriptionRequest(
        body=UpdateKeyDescriptionRequestBody(key_id=key_id, key_description=description)))


def update_alias(client, key_id, alias):
    return client.update_key_alias(UpdateKeyAliasRequest(
        body=UpdateKeyAliasRequestBody(key_id=key_id, key_alias=alias)))


def list_keys(client, **fields):
    return client.list_keys(ListKeysRequest(body=ListKeysRequestBody(**fields)))


def list_all_key_details(client, page_size: int = 50, **filters) -> List:
    """Page through list-keys (default key_spec=ALL) and return every KeyDetails."""
    filters.setdefault("key_spec", "ALL")
    out = []
    marker = None
    for _ in range(1000):
        fields = dict(filters, limit=str(page_size))
        if marker:
            fields["marker"] = marker
        resp = list_keys(client, **fields)
        out.extend(resp.key_details or [])
        if resp.truncated != "true":
            return out
        assert resp.next_marker, "truncated=true but no next_marker"
        marker = resp.next_marker
    raise AssertionError("list-keys paging did not terminate")


def default_key(client):
    defaults = [k for k in list_all_key_details(client) if k.default_key_flag == "1"]
    assert len(defaults) == 1, f"expected exactly one default key, got {[(k.key_id, k.key_alias) for k in defaults]}"
    return defaults[0]


def tags_of(client, key_id) -> dict:
    resp = client.show_kms_tags(ShowKmsTagsRequest(key_id=key_id))
    return {t.key: t.value for t in (resp.tags or [])}


def batch_tags(client, key_id, action, tags):
    """BatchCreateKmsTags with [(key, value), ...]."""
    from huaweicloudsdkkms.v2 import BatchCreateKmsTagsRequest, BatchCreateKmsTagsRequestBody, TagItem

    body = BatchCreateKmsTagsRequestBody(action=action, tags=[TagItem(key=k, value=v) for k, v in tags])
    return client.batch_create_kms_tags(BatchCreateKmsTagsRequest(key_id=key_id, body=body))
