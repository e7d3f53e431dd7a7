"""CSMS conformance through the official SDK: tags, backup and restore (also into a
fresh dewstack with the same root key), random passwords, rotation and tasks."""

from __future__ import annotations

import base64

from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

import support
from csms_helpers import *  # noqa: F401,F403  (codes, wrappers, fixtures make_csms/csms)
from csms_helpers import csms, make_csms  # noqa: F401  (fixtures)


# ---- tags ---------------------------------------------------------------------------------
def test_secret_tags(csms):
    s = create_secret(csms, name=support.unique("tagged"))
    csms.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
        secret_id=s.id, body=BatchCreateOrDeleteTagsRequestBody(
            action="create", tags=[TagItem(key="env", value="prod"), TagItem(key="team", value="a")])))
    csms.create_secret_tag(CreateSecretTagRequest(secret_id=s.id, body=CreateSecretTagRequestBody(
        tag=TagItem(key="owner", value="bob"))))
    assert tags_of(csms, s.id) == {"env": "prod", "team": "a", "owner": "bob"}
    csms.delete_secret_tag(DeleteSecretTagRequest(secret_id=s.id, key="owner"))
    err(lambda: csms.delete_secret_tag(DeleteSecretTagRequest(secret_id=s.id, key="owner")), 404, NOT_FOUND)
    csms.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
        secret_id=s.id, body=BatchCreateOrDeleteTagsRequestBody(action="delete", tags=[TagItem(key="team")])))
    assert tags_of(csms, s.id) == {"env": "prod"}
    # KMS's tag rules.
    bad = [TagItem(key="a*b", value="x")]
    err(lambda: csms.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
        secret_id=s.id, body=BatchCreateOrDeleteTagsRequestBody(action="create", tags=bad))), 400, INVALID)
    err(lambda: csms.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
        secret_id=s.id, body=BatchCreateOrDeleteTagsRequestBody(action="create", tags=[]))), 400, INVALID)
    err(lambda: csms.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
        secret_id=s.id, body=BatchCreateOrDeleteTagsRequestBody(action="explode", tags=bad))), 400, INVALID)
    many = [TagItem(key=f"k{i}", value="v") for i in range(20)]
    err(lambda: csms.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
        secret_id=s.id, body=BatchCreateOrDeleteTagsRequestBody(action="create", tags=many))), 400, INVALID)
    assert tags_of(csms, s.id) == {"env": "prod"}
    err(lambda: tags_of(csms, support.rand_uuid()), 404, SECRET_NOT_FOUND)


def test_project_tags_and_resource_instances(csms):
    a = create_secret(csms, name="alpha-db")
    b = create_secret(csms, name="beta-db")
    create_secret(csms, name="gamma")
    for s, env in ((a, "prod"), (b, "test")):
        csms.create_secret_tag(CreateSecretTagRequest(secret_id=s.id, body=CreateSecretTagRequestBody(
            tag=TagItem(key="env", value=env))))
    tags = csms.list_project_secrets_tags(ListProjectSecretsTagsRequest()).tags
    assert [(t.key, sorted(t.values)) for t in tags] == [("env", ["prod", "test"])]

    def query(**fields):
        return csms.list_resource_instances(ListResourceInstancesRequest(
            resource_instances="resource_instances", body=ListResourceInstancesRequestBody(**fields)))

    r = query(action="filter", tags=[Tag(key="env", values=["prod"])])
    assert r.total_count == 1 and r.resources[0].resource_name == "alpha-db"
    assert r.resources[0].resource_id == a.id and r.resources[0].resource_detail.name == "alpha-db"
    assert query(action="count", tags=[Tag(key="env", values=[])]).total_count == 2
    assert query(action="count", matches=[TagMatches(key="resource_name", value="-db")]).total_count == 2
    assert query(action="count").total_count == 3
    page = query(action="filter", limit="2", offset="2")
    assert page.total_count == 3 and len(page.resources) == 1
    err(lambda: query(action="nope"), 400, INVALID)
    err(lambda: query(action="filter", matches=[TagMatches(key="other", value="x")]), 400, INVALID)


# ---- backup and restore -------------------------------------------------------------------
def test_backup_and_restore(csms, create_key):
    key = create_key()
    s = create_secret(csms, secret_string="first", kms_key_id=key, description="backed up")
    add_version(csms, s.name, "second")
    add_version(csms, s.name, "third", version_stages=["green"])
    blob = backup(csms, s.name)
    assert "first" not in blob and "second" not in base64.b64decode(blob).decode("latin-1")
    err(lambda: restore(csms, blob), 400, SECRET_EXISTS)
    csms.delete_secret(DeleteSecretRequest(secret_name=s.name))
    r = restore(csms, blob)
    assert r.name == s.name and r.description == "backed up" and r.kms_key_id == key
    assert show_version(csms, s.name, "v1").secret_string == "first"
    assert show_version(csms, s.name).secret_string == "second"
    assert stage(csms, s.name, "green").version_id == "v3"
    assert stage(csms, s.name, "SYSPREVIOUS").version_id == "v1"
    # Tampered or foreign blobs are refused.
    raw = bytearray(base64.b64decode(blob))
    raw[20] ^= 1
    err(lambda: restore(csms, base64.b64encode(bytes(raw)).decode()), 400, INVALID)
    err(lambda: restore(csms, "not base64 !"), 400, INVALID)
    err(lambda: backup(csms, "missing"), 404, SECRET_NOT_FOUND)


def test_backup_is_bound_to_its_project(csms, pool_identity, pool_projects, make_csms):
    s = create_secret(csms)
    blob = backup(csms, s.name)
    pid, _ = next(pool_projects["next"])
    other = make_csms(pool_identity, pid)
    err(lambda: restore(other, blob), 400, INVALID)


def test_restore_into_fresh_dewstack_with_same_root_key(csms, server, tenant, tmp_path):
    s = create_secret(csms, secret_binary=base64.b64encode(b"\x00\x01binary").decode())
    blob = backup(csms, s.name)
    root_key = base64.b64encode((server.data_dir / "root.key").read_bytes()).decode()
    fresh = support.DewstackServer(tmp_path / "data", tmp_path / "logs", config=server.config,
                                   identity_env={**server.identity_env, "DEWSTACK_ROOT_KEY": root_key},
                                   name="fresh", shared_database=False)
    fresh.start()
    try:
        c = csms_client(fresh.endpoint, tenant)
        r = restore(c, blob)
        assert r.name == s.name
        v = show_version(c, s.name)
        assert base64.b64decode(v.secret_binary) == b"\x00\x01binary"
        assert v.version_metadata.kms_key_id == r.kms_key_id  # that dewstack's csms/default
    finally:
        fresh.stop()
    other = support.DewstackServer(tmp_path / "data2", tmp_path / "logs2", config=server.config,
                                   identity_env=server.identity_env, name="other-root",
                                   shared_database=False)
    other.start()
    try:
        err(lambda: restore(csms_client(other.endpoint, tenant), blob), 400, INVALID)
    finally:
        other.stop()


# ---- passwords, rotation, tasks -------------------------------------------------------------
def test_generate_random_password(csms):
    def gen(**fields):
        return csms.generate_random_password(GenerateRandomPasswordRequest(
            body=CreatePasswordRequestBody(**fields))).password

    assert len(gen()) == 32
    p = gen(length=40, exclude_punctuation=True, exclude_uppercase=True, require_each_included_type=True)
    assert len(p) == 40 and all(ch.islower() or ch.isdigit() for ch in p)
    assert any(ch.isdigit() for ch in p)
    assert "x" not in gen(length=200, exclude_characters="x")
    err(lambda: gen(length=2), 400, INVALID)
    err(lambda: gen(exclude_lowercase=True, exclude_uppercase=True, exclude_numbers=True,
                    exclude_punctuation=True), 400, INVALID)


def test_rotate_secret_and_tasks(csms):
    e = create_event(csms, types=["SECRET_ROTATED"])
    s = create_secret(csms, secret_string="before", event_subscriptions=[e.name])
    r = csms.rotate_secret(RotateSecretRequest(secret_name=s.name))
    assert r.version_id == "v2" and r.secret_name == s.name and r.rotation_task_id
    now = show_version(csms, s.name)
    assert now.version_metadata.id == "v2" and now.secret_string != "before" and len(now.secret_string) == 32
    assert show_version(csms, s.name, "previous").secret_string == "before"
    assert show_secret(csms, s.name).rotation_time
    assert [x.trigger_event_type for x in records(csms)] == ["SECRET_ROTATED"]
    csms.rotate_secret(RotateSecretRequest(secret_name=s.name))
    tasks = csms.list_secret_task(ListSecretTaskRequest(secret_name=s.name))
    assert tasks.total == 2 and all(t.task_status == "SUCCESS" for t in tasks.tasks)
    one = csms.list_secret_task(ListSecretTaskRequest(task_id=r.rotation_task_id)).tasks
    assert [t.secret_name for t in one] == [s.name]
    page = csms.list_secret_task(ListSecretTaskRequest(limit=1))
    assert len(page.tasks) == 1 and page.next_marker == page.tasks[0].task_id
    assert len(csms.list_secret_task(ListSecretTaskRequest(limit=1, marker=page.next_marker)).tasks) == 1
    err(lambda: csms.list_secret_task(ListSecretTaskRequest(status="MAYBE")), 400, INVALID)
    err(lambda: csms.rotate_secret(RotateSecretRequest(secret_name="missing")), 404, SECRET_NOT_FOUND)
