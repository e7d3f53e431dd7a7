"""Per-secret bounds through the official SDK.

A secret keeps at most 20 versions (CreateSecretVersion: "凭据管理服务的每个凭据中最多可支持20个
版本"). The cloud does not say what the 21st does; CSMS has no call to delete a version, so
dewstack's choice is to drop the oldest version no stage points to, never a staged one.
"""

from __future__ import annotations

from huaweicloudsdkcsms.v1 import ListSecretVersionsRequest

from csms_helpers import NOT_FOUND, add_version, create_secret, err, set_stage, show_version
from csms_helpers import csms, make_csms  # noqa: F401  (fixtures)


def version_ids(c, name):
    page = c.list_secret_versions(ListSecretVersionsRequest(secret_name=name, limit=50))
    return [v.id for v in page.version_metadatas]


def test_secret_keeps_twenty_versions_dropping_the_oldest_unstaged(csms):
    s = create_secret(csms)
    set_stage(csms, s.name, "pinned", "v1")
    for i in range(2, 23):
        add_version(csms, s.name, value=f"value-{i}")
    ids = version_ids(csms, s.name)
    assert len(ids) == 20
    # v1 carries "pinned" and stays; v2 and v3 were the oldest without a stage.
    assert ids == ["v1"] + [f"v{i}" for i in range(4, 23)]
    assert show_version(csms, s.name, "v1").secret_string == "value-1"
    assert show_version(csms, s.name, "latest").secret_string == "value-22"
    assert show_version(csms, s.name, "previous").secret_string == "value-21"
    err(lambda: show_version(csms, s.name, "v2"), 404, NOT_FOUND)
