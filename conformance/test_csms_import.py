"""BatchImportSecrets through the official SDK: each secret created as
CreateSecret would, failures reported per secret, and a secret named after the
collection actions ("batch-import", "restore") still managed by name."""

from __future__ import annotations

from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

import support
from csms_helpers import *  # noqa: F401,F403  (codes, wrappers, fixtures make_csms/csms)
from csms_helpers import csms, make_csms  # noqa: F401  (fixtures)


def _import(c, bodies):
    return c.batch_import_secrets(BatchImportSecretsRequest(body=ImportSecretsRequest(secrets=bodies)))


def test_batch_import_creates_each_secret_and_reports_failures(csms):
    ok1, ok2, taken = support.unique("imp-a"), support.unique("imp-b"), support.unique("imp-taken")
    create_secret(csms, name=taken)
    r = _import(csms, [
        CreateSecretRequestBody(name=ok1, secret_string="first"),
        CreateSecretRequestBody(name=ok2, secret_string="second", description="two"),
        CreateSecretRequestBody(name=taken, secret_string="dup"),
        CreateSecretRequestBody(name="bad name!", secret_string="x"),
    ])
    assert (r.total, r.success, r.failed) == (4, 2, 2)
    assert isinstance(r.total, int) and isinstance(r.success, int)
    failed = {e.name: e.error_msg for e in r.error_list}
    assert set(failed) == {taken, "bad name!"}
    assert all(isinstance(m, str) and m for m in failed.values())
    assert show_version(csms, ok1).secret_string == "first"
    assert show_secret(csms, ok2).description == "two"
    # The secret that already existed keeps its value.
    assert show_version(csms, taken).secret_string != "dup"


def test_batch_import_refuses_an_empty_or_oversized_batch(csms):
    err(lambda: _import(csms, []), 400, INVALID)
    many = [CreateSecretRequestBody(name=support.unique(f"imp{i}"), secret_string="v") for i in range(101)]
    err(lambda: _import(csms, many), 400, INVALID)
    # Nothing of the refused batch was created.
    err(lambda: show_secret(csms, many[0].name), 404, SECRET_NOT_FOUND)


def test_secrets_named_like_collection_actions_are_managed_by_name(csms):
    for name in ("batch-import", "restore"):
        create_secret(csms, name=name)
        assert show_secret(csms, name).name == name
        csms.update_secret(UpdateSecretRequest(secret_name=name, body=UpdateSecretRequestBody(description="d")))
        assert show_secret(csms, name).description == "d"
        csms.delete_secret(DeleteSecretRequest(secret_name=name))
        err(lambda: show_secret(csms, name), 404, SECRET_NOT_FOUND)
