"""IAM secrets (secret_type "IAM", docs/rotation.md): RotateSecret makes a new access key
for dewstack's own user, stored as the new version; the SDK client built from it works at
once, and the old key answers the gateway's auth error once the grace (24 h) has passed on
the dev clock."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)
from huaweicloudsdkkms.v2 import ListKeysRequest, ListKeysRequestBody

import support
from csms_helpers import *  # noqa: F401,F403  (codes, wrappers)
from csms_helpers import csms_client
from support import DewstackServer


def _root_env(root) -> dict:
    return {
        "DEWSTACK_ACCESS_KEY": root.ak, "DEWSTACK_SECRET_KEY": root.sk,
        "DEWSTACK_DOMAIN_ID": root.domain_id, "DEWSTACK_PROJECT_ID": root.project_id,
        "DEWSTACK_REGION": support.REGION, "DEWSTACK_USER": root.user,
        "DEWSTACK_PASSWORD": root.password, "DEWSTACK_DEV_CLOCK": "1",
    }


@pytest.fixture(scope="module")
def iam_rotation(tmp_path_factory):
    root = support.new_identity(user="iamrot-root")
    owner, stranger = support.new_identity("iam-owner"), support.new_identity("iam-stranger")
    base = tmp_path_factory.mktemp("iam-rotation")
    cfg = base / "dewstack.toml"
    cfg.write_text(support.config_toml([owner, stranger]))
    srv = DewstackServer(base / "data", base / "logs", config=cfg, identity_env=_root_env(root),
                         name="iam-rotation", shared_database=False)
    srv.start()
    yield srv, root, owner, stranger
    srv.stop()


def _advance(srv, root, by):
    req = support.build_signed(srv.endpoint, root, "POST", "/_dewstack/clock", "",
                               {"advance": by}, project_header=None)
    r = support.send_raw(srv.endpoint, req)
    assert r.status == 200, r.body


def _credential(ident):
    return json.dumps({"access": ident.ak, "secret": ident.sk, "note": "ci"})


def test_rotating_the_very_key_the_client_signs_with(iam_rotation):
    import dataclasses
    srv, root, owner, stranger = iam_rotation
    c = csms_client(srv.endpoint, owner)
    s = create_secret(c, secret_type="IAM", secret_string=_credential(owner))
    assert s.secret_type == "IAM"

    # Another domain cannot see, let alone rotate, the secret.
    err(lambda: csms_client(srv.endpoint, stranger).rotate_secret(
        RotateSecretRequest(secret_name=s.name)), 404, SECRET_NOT_FOUND)

    r = c.rotate_secret(RotateSecretRequest(secret_name=s.name))
    assert r.version_id == "v2"
    current = show_version(c, s.name, "latest")
    assert current.version_metadata.version_stages == ["SYSCURRENT"]
    value = json.loads(current.secret_string)
    assert value["note"] == "ci" and value["access"] != owner.ak and len(value["secret"]) == 40
    previous = json.loads(show_version(c, s.name, "v1").secret_string)
    assert previous["access"] == owner.ak
    assert show_version(c, s.name, "v1").version_metadata.version_stages == ["SYSPREVIOUS"]

    rotated = dataclasses.replace(owner, ak=value["access"], sk=value["secret"])
    new_csms = csms_client(srv.endpoint, rotated)
    assert show_secret(new_csms, s.name).name == s.name
    new_kms = support.kms_client(srv.endpoint, rotated)
    new_kms.list_keys(ListKeysRequest(body=ListKeysRequestBody()))
    # The old key still works during the grace.
    assert show_secret(c, s.name).name == s.name

    _advance(srv, root, "23h")
    assert show_secret(c, s.name).name == s.name
    _advance(srv, root, "1h")
    support.expect_kms_error(lambda: show_secret(c, s.name), 401, support.APIGW_AUTH)
    support.expect_kms_error(
        lambda: support.kms_client(srv.endpoint, owner).list_keys(
            ListKeysRequest(body=ListKeysRequestBody())), 401, support.APIGW_AUTH)
    assert show_secret(new_csms, s.name).name == s.name

    # Survives a restart: the new key is stored (the dev clock starts again from the
    # real time, so the old key's retirement, 24 h ahead, is not due there yet).
    srv.restart()
    new_csms = csms_client(srv.endpoint, rotated)
    assert show_secret(new_csms, s.name).name == s.name
    _advance(srv, root, "25h")
    support.expect_kms_error(lambda: show_secret(csms_client(srv.endpoint, owner), s.name),
                             401, support.APIGW_AUTH)


def test_a_value_that_is_not_a_key_of_the_domain_is_refused(iam_rotation):
    srv, _, owner, stranger = iam_rotation
    c = csms_client(srv.endpoint, stranger)
    # The owner's credential stored by another domain: never rotated for it.
    foreign = create_secret(c, secret_type="IAM", secret_string=_credential(owner))
    err(lambda: c.rotate_secret(RotateSecretRequest(secret_name=foreign.name)), 400, INVALID)
    wrong = create_secret(c, secret_type="IAM", secret_string=json.dumps(
        {"access": stranger.ak, "secret": "not-the-secret-key"}))
    err(lambda: c.rotate_secret(RotateSecretRequest(secret_name=wrong.name)), 400, INVALID)
    plain = create_secret(c, secret_type="IAM", secret_string="not json")
    err(lambda: c.rotate_secret(RotateSecretRequest(secret_name=plain.name)), 400, INVALID)
    assert show_version(c, plain.name, "latest").version_metadata.id == "v1"
    # The stranger's own key still works: nothing was retired.
    assert show_secret(c, plain.name).name == plain.name
