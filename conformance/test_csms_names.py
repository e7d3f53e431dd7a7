"""Secret names that are also words of CSMS paths (`events`, `tags`, `tasks`,
`versions`, `stages`, `backup`, `rotate`): the cloud's name rule (1-64 of
letters, digits, `_`, `-`, `.`) allows them, and every secret-by-name route
takes them as names, since none of those words sits where `{secret_name}` does."""

from __future__ import annotations

import pytest
from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

from csms_helpers import *  # noqa: F401,F403  (codes, wrappers, fixtures make_csms/csms)
from csms_helpers import csms, make_csms  # noqa: F401  (fixtures)

WORDS = ["events", "tags", "tasks", "versions", "stages", "backup", "rotate", "action"]


@pytest.mark.parametrize("name", WORDS)
def test_a_secret_named_like_a_path_word_is_managed_by_name(csms, name):
    s = create_secret(csms, name=name, secret_string="first")
    assert show_secret(csms, name).id == s.id
    v2 = add_version(csms, name, value="second")
    assert show_version(csms, name).secret_string == "second"
    assert show_version(csms, name, v2.id).secret_string == "second"
    versions = csms.list_secret_versions(ListSecretVersionsRequest(secret_name=name)).version_metadatas
    assert len(versions) == 2
    set_stage(csms, name, "blue", v2.id)
    assert stage(csms, name, "blue").version_id == v2.id
    update_secret(csms, name, description="renamed-not")
    assert show_secret(csms, name).description == "renamed-not"
    csms.delete_secret_for_schedule(DeleteSecretForScheduleRequest(
        secret_name=name, body=DeleteSecretForScheduleRequestBody(recovery_window_in_days=7)))
    assert show_secret(csms, name).state == "PENDING_DELETE"
    csms.restore_secret(RestoreSecretRequest(secret_name=name))
    csms.delete_secret(DeleteSecretRequest(secret_name=name))
    err(lambda: show_secret(csms, name), 404, SECRET_NOT_FOUND)


def test_path_words_still_reach_their_own_routes(csms):
    # With secrets of those names present, the project-level routes answer as before.
    for name in ("events", "tags", "tasks"):
        create_secret(csms, name=name)
    assert csms.list_secret_events(ListSecretEventsRequest()).events == []
    assert csms.list_project_secrets_tags(ListProjectSecretsTagsRequest()).tags == []
    tasks = csms.list_secret_task(ListSecretTaskRequest()).tasks
    assert tasks == [] or tasks is None
    names = sorted(s.name for s in csms.list_secrets(ListSecretsRequest()).secrets)
    assert names == ["events", "tags", "tasks"]
