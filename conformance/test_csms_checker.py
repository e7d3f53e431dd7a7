"""The secret checker through the official SDK: CheckSecrets judges given and
stored values without ever returning them, ShowSecretsConfig/UpdateSecretsConfig
hold `checking_secret_strength`, and with it on CreateSecret, CreateSecretVersion
and BatchImportSecrets refuse weak values. Another project's secrets are
invisible to the check."""

from __future__ import annotations

import json

from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

import support
from csms_helpers import *  # noqa: F401,F403  (codes, wrappers, fixtures make_csms/csms)
from csms_helpers import csms, make_csms  # noqa: F401  (fixtures)

WEAK = "CSMS.9007"
BAD_BODY = "CSMS.0004"
STRONG = "Vq7#rT9!mK2$xLp4"


def check(c, data, kind="1"):
    r = c.check_secrets(CheckSecretsRequest(body=CheckSecretsRequestBody(type=kind, data=data)))
    return r.type, r.data


def set_strength(c, on):
    r = c.update_secrets_config(UpdateSecretsConfigRequest(
        body=UpdateSecretsConfigRequestBody(checking_secret_strength=on)))
    assert r.checking_secret_strength is on
    return r


def test_check_judges_given_and_stored_values_and_never_returns_them(csms):
    weak_name = support.unique("weak")
    create_secret(csms, name=weak_name, secret_string="password123")
    strong_name = support.unique("strong")
    create_secret(csms, name=strong_name, secret_string=STRONG)
    kind, data = check(csms, {"secrets": [
        {"name": "candidate", "secret_string": json.dumps({"username": "app", "password": "Qwerty123!"})},
        {"name": weak_name},
        {"name": strong_name, "version_id": "v1"},
        {"name": "copy", "secret_string": STRONG},
    ]})
    assert kind == "1"
    assert (data["total"], data["weak"]) == (4, 4)
    by_name = {r["name"]: r for r in data["results"]}
    assert by_name["candidate"]["strong"] is False and by_name["candidate"]["issues"]
    assert by_name[weak_name]["version_id"] == "v1"
    assert set(by_name[weak_name]["issues"]) & {"COMMON_PASSWORD", "EASY_TO_GUESS", "FEW_CHARACTER_TYPES"}
    # Strong on its own, but the same value as the candidate "copy": both reused.
    assert by_name[strong_name]["issues"] == ["REUSED"]
    assert by_name["copy"]["issues"] == ["REUSED"]
    assert all(isinstance(r["score"], int) and 0 <= r["score"] <= 4 for r in data["results"])
    text = json.dumps(data)
    for value in ("password123", "Qwerty123!", STRONG):
        assert value not in text
    _, data = check(csms, {"secrets": [{"name": "alone", "secret_string": STRONG}]})
    assert data["results"][0]["strong"] is True and data["weak"] == 0


def test_check_of_the_project_pages_and_sees_no_other_project(csms, make_csms, pool_projects, pool_identity):
    names = sorted(support.unique(f"pg{i}") for i in range(3))
    for n in names:
        create_secret(csms, name=n, secret_string="abc")
    create_secret(csms, name=support.unique("bin"), secret_binary="AAEC")
    other_project, _ = next(pool_projects["next"])
    other = make_csms(pool_identity, other_project)
    theirs = create_secret(other, name=support.unique("theirs"), secret_string="abc")
    seen, marker = [], None
    while True:
        body = {"limit": 2}
        if marker:
            body["marker"] = marker
        _, data = check(csms, body)
        seen += data["results"]
        marker = data.get("next_marker")
        if not marker:
            break
    assert len(seen) == 4
    assert theirs.name not in {r["name"] for r in seen}
    binary = [r for r in seen if r["value_type"] == "BINARY"]
    assert len(binary) == 1 and "strong" not in binary[0] and binary[0]["issues"] == []
    assert all("TOO_SHORT" in r["issues"] for r in seen if r["value_type"] == "TEXT")
    # Named explicitly, another project's secret does not exist here.
    err(lambda: check(csms, {"secrets": [{"name": theirs.name}]}), 404, SECRET_NOT_FOUND)
    other.delete_secret(DeleteSecretRequest(secret_name=theirs.name))


def test_check_refuses_bad_input_in_the_csms_envelope(csms, raw, tenant):
    err(lambda: check(csms, {"secrets": []}, kind="2"), 400, INVALID)
    err(lambda: check(csms, None), 400, INVALID)
    err(lambda: check(csms, {"secrets": []}), 400, INVALID)
    many = [{"name": f"n{i}", "secret_string": STRONG} for i in range(51)]
    err(lambda: check(csms, {"secrets": many}), 400, INVALID)
    err(lambda: check(csms, {"secrets": [{"name": "bad name!", "secret_string": "x"}]}), 400, INVALID)
    err(lambda: check(csms, {"limit": 51}), 400, INVALID)
    err(lambda: check(csms, {"secrets": [{"name": support.unique("none")}]}), 404, SECRET_NOT_FOUND)
    for body in (b"{not json", b'{"type": "1", "data": []}', b"[]"):
        r = raw(tenant, "POST", "/v1/{project_id}/secrets/checker/check", body=body)
        assert r.status == 400 and r.json()["error"]["error_code"] == BAD_BODY, r.body
    r = raw(tenant, "POST", "/v1/{project_id}/secrets/checker/config", body=b'{"checking_secret_strength": "yes"}')
    assert r.status == 400 and r.json()["error"]["error_code"] == BAD_BODY, r.body


def test_strength_checking_is_off_by_default_and_per_project(csms, make_csms, pool_projects, pool_identity):
    assert csms.show_secrets_config(ShowSecretsConfigRequest()).checking_secret_strength is False
    set_strength(csms, True)
    assert csms.show_secrets_config(ShowSecretsConfigRequest()).checking_secret_strength is True
    other_project, _ = next(pool_projects["next"])
    other = make_csms(pool_identity, other_project)
    assert other.show_secrets_config(ShowSecretsConfigRequest()).checking_secret_strength is False
    # The other project still stores weak values.
    mine = create_secret(other, name=support.unique("weakok"), secret_string="abc")
    other.delete_secret(DeleteSecretRequest(secret_name=mine.name))


def test_strength_checking_refuses_weak_values_on_create_version_and_import(csms):
    set_strength(csms, True)
    weak = support.unique("w")
    e = err(lambda: create_secret(csms, name=weak, secret_string="hunter2hunter2"), 400, WEAK)
    assert "hunter2" not in str(e.error_msg)
    err(lambda: show_secret(csms, weak), 404, SECRET_NOT_FOUND)
    ok = create_secret(csms, name=support.unique("s"), secret_string=STRONG)
    err(lambda: add_version(csms, ok.name, "12345678"), 400, WEAK)
    add_version(csms, ok.name, "Hn3&wS8?jD5%zQc1")
    # Binary values are not passwords and are not judged.
    create_secret(csms, name=support.unique("b"), secret_binary="AAEC")
    r = csms.batch_import_secrets(BatchImportSecretsRequest(body=ImportSecretsRequest(secrets=[
        CreateSecretRequestBody(name=support.unique("i1"), secret_string="Zp4!kW7#tR2@mN9q"),
        CreateSecretRequestBody(name=weak, secret_string="qwertyuiop"),
    ])))
    assert (r.total, r.success, r.failed) == (2, 1, 1)
    assert r.error_list[0].name == weak and "qwertyuiop" not in r.error_list[0].error_msg
    set_strength(csms, False)
    create_secret(csms, name=weak, secret_string="hunter2hunter2")


def test_a_secret_named_checker_keeps_its_routes(csms):
    create_secret(csms, name="checker", secret_string="v1")
    add_version(csms, "checker", "v2")
    assert show_version(csms, "checker").secret_string == "v2"
    versions = csms.list_secret_versions(ListSecretVersionsRequest(secret_name="checker"))
    assert len(versions.version_metadatas) == 2
    csms.delete_secret(DeleteSecretRequest(secret_name="checker"))
