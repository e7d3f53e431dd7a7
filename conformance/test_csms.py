"""CSMS conformance through the official SDK: secrets, versions and stages, events
(including the seed operation DeleteSecretEvent) and their notifications, isolation
and persistence. Codes: see csms_helpers.py."""

from __future__ import annotations

import base64
import json
import time

from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

import kms_helpers as kh
import support
from csms_helpers import *  # noqa: F401,F403  (codes, wrappers, fixtures make_csms/csms)
from csms_helpers import csms, make_csms  # noqa: F401  (fixtures)


# ---- secrets ----------------------------------------------------------------------------
def test_create_and_read_secret_with_default_key(csms, kms):
    s = create_secret(csms, description="db password", secret_string="p@ss word")
    assert s.state == "ENABLED" and s.secret_type == "COMMON" and s.id
    assert s.description == "db password"
    key = kh.describe(kms, s.kms_key_id)
    assert key.key_alias == "csms/default" and key.default_key_flag == "1"
    v = show_version(csms, s.name)
    assert v.secret_string == "p@ss word"
    assert v.version_metadata.id == "v1" and v.version_metadata.version_stages == ["SYSCURRENT"]
    assert v.version_metadata.kms_key_id == s.kms_key_id
    shown = show_secret(csms, s.name)
    assert shown.id == s.id and shown.create_time == s.create_time
    # A second secret reuses csms/default.
    assert create_secret(csms).kms_key_id == s.kms_key_id


def test_binary_secret_round_trips(csms):
    raw = bytes(range(256))
    s = create_secret(csms, secret_binary=base64.b64encode(raw).decode())
    v = show_version(csms, s.name, "v1")
    assert base64.b64decode(v.secret_binary) == raw and v.secret_string is None


def test_create_secret_errors(csms, create_key, kms):
    err(lambda: create_secret(csms, name="bad name"), 400, INVALID)
    err(lambda: create_secret(csms, name="x" * 65), 400, INVALID)
    err(lambda: create_secret(csms, secret_string="a", secret_binary="AAAA"), 400, INVALID)
    err(lambda: csms.create_secret(CreateSecretRequest(body=CreateSecretRequestBody(name="novalue"))), 400, INVALID)
    err(lambda: create_secret(csms, secret_string="x" * (32 * 1024 + 1)), 400, INVALID)
    err(lambda: create_secret(csms, secret_binary="not base64!"), 400, INVALID)
    err(lambda: create_secret(csms, description="d" * 2049), 400, INVALID)
    err(lambda: create_secret(csms, kms_key_id=support.rand_uuid()), 400, NOT_FOUND)
    err(lambda: create_secret(csms, kms_key_id="not-a-key"), 400, INVALID)
    err(lambda: create_secret(csms, secret_type="RDS"), 400, INVALID)
    err(lambda: create_secret(csms, event_subscriptions=["missing-event"]), 404, NOT_FOUND)
    s = create_secret(csms)
    err(lambda: create_secret(csms, name=s.name), 400, SECRET_EXISTS)
    # A customer key works; a disabled one refuses to encrypt.
    key = create_key()
    assert create_secret(csms, kms_key_id=key).kms_key_id == key
    kh.disable(kms, key)
    err(lambda: create_secret(csms, kms_key_id=key), 400, KMS_UNUSABLE)


def test_list_secrets_pages_by_name(csms):
    names = sorted(create_secret(csms, name=f"page-{i}").name for i in range(5))
    first = csms.list_secrets(ListSecretsRequest(limit="2"))
    assert [s.name for s in first.secrets] == names[:2]
    assert first.page_info.next_marker == names[1] and first.page_info.current_count == 2
    second = csms.list_secrets(ListSecretsRequest(limit="2", marker=first.page_info.next_marker))
    assert [s.name for s in second.secrets] == names[2:4]
    last = csms.list_secrets(ListSecretsRequest(limit="2", marker=second.page_info.next_marker))
    assert [s.name for s in last.secrets] == names[4:] and last.page_info.next_marker is None
    assert len(csms.list_secrets(ListSecretsRequest()).secrets) == 5
    err(lambda: csms.list_secrets(ListSecretsRequest(limit="0")), 400, INVALID)
    err(lambda: csms.list_secrets(ListSecretsRequest(limit="abc")), 400, INVALID)


def test_update_secret_and_new_key_for_new_versions(csms, create_key):
    s = create_secret(csms, secret_string="old")
    key = create_key()
    u = update_secret(csms, s.name, description="new text", kms_key_id=key)
    assert u.description == "new text" and u.kms_key_id == key and u.update_time >= s.update_time
    meta = add_version(csms, s.name, "new")
    assert meta.kms_key_id == key
    assert show_version(csms, s.name, "v1").secret_string == "old"
    assert show_version(csms, s.name).secret_string == "new"
    err(lambda: update_secret(csms, s.name, kms_key_id=support.rand_uuid()), 400, NOT_FOUND)
    err(lambda: update_secret(csms, s.name, event_subscriptions=["nope"]), 404, NOT_FOUND)
    err(lambda: update_secret(csms, "missing-secret", description="x"), 404, SECRET_NOT_FOUND)
    r = update_secret(csms, s.name, auto_rotation=True, rotation_period="30d")
    assert r.auto_rotation is True and r.rotation_period == "30d" and r.next_rotation_time
    err(lambda: update_secret(csms, s.name, rotation_period="1h"), 400, INVALID)


def test_delete_secret_is_immediate(csms):
    s = create_secret(csms)
    csms.delete_secret(DeleteSecretRequest(secret_name=s.name))
    err(lambda: show_secret(csms, s.name), 404, SECRET_NOT_FOUND)
    err(lambda: show_version(csms, s.name), 404, SECRET_NOT_FOUND)
    err(lambda: csms.delete_secret(DeleteSecretRequest(secret_name=s.name)), 404, SECRET_NOT_FOUND)
    # The name is free again.
    assert create_secret(csms, name=s.name).id != s.id


def test_scheduled_deletion_and_restore(csms):
    s = create_secret(csms)

    def schedule(days):
        return csms.delete_secret_for_schedule(DeleteSecretForScheduleRequest(
            secret_name=s.name, body=DeleteSecretForScheduleRequestBody(recovery_window_in_days=days))).secret

    err(lambda: schedule(6), 400, INVALID)
    err(lambda: schedule(31), 400, INVALID)
    p = schedule(7)
    assert p.state == "PENDING_DELETE"
    assert abs(p.scheduled_delete_time - (p.update_time + 7 * 86400 * 1000)) < 5000
    err(lambda: schedule(7), 400, PENDING)
    err(lambda: show_version(csms, s.name), 400, PENDING_UNUSABLE)
    err(lambda: add_version(csms, s.name), 400, PENDING_UNUSABLE)
    err(lambda: update_secret(csms, s.name, description="x"), 400, PENDING)
    assert show_secret(csms, s.name).state == "PENDING_DELETE"
    r = csms.restore_secret(RestoreSecretRequest(secret_name=s.name)).secret
    assert r.state == "ENABLED" and r.scheduled_delete_time is None
    err(lambda: csms.restore_secret(RestoreSecretRequest(secret_name=s.name)), 400, NOT_PENDING)
    assert show_version(csms, s.name).secret_string == "value-1"


def test_disabled_kms_key_makes_secret_unreadable(csms, create_key, kms):
    key = create_key()
    s = create_secret(csms, kms_key_id=key, secret_string="guarded")
    kh.disable(kms, key)
    e = err(lambda: show_version(csms, s.name), 400, KMS_UNUSABLE)
    assert "guarded" not in (e.error_msg or "")
    err(lambda: add_version(csms, s.name), 400, KMS_UNUSABLE)
    kh.enable(kms, key)
    assert show_version(csms, s.name).secret_string == "guarded"


# ---- versions and stages ------------------------------------------------------------------
def test_versions_and_system_stages_move(csms):
    s = create_secret(csms, secret_string="one")
    m2 = add_version(csms, s.name, "two")
    assert m2.id == "v2" and m2.version_stages == ["SYSCURRENT"]
    assert show_version(csms, s.name, "v1").version_metadata.version_stages == ["SYSPREVIOUS"]
    assert show_version(csms, s.name, "previous").secret_string == "one"
    assert show_version(csms, s.name, "latest").secret_string == "two"
    # A custom stage leaves SYSCURRENT where it is.
    m3 = add_version(csms, s.name, "three", version_stages=["staging"])
    assert m3.version_stages == ["staging"]
    assert stage(csms, s.name, "SYSCURRENT").version_id == "v2"
    # Moving SYSCURRENT hands SYSPREVIOUS to the version it leaves.
    st = set_stage(csms, s.name, "SYSCURRENT", "v3")
    assert st.version_id == "v3" and st.secret_name == s.name and st.name == "SYSCURRENT"
    assert stage(csms, s.name, "SYSPREVIOUS").version_id == "v2"
    assert show_version(csms, s.name).secret_string == "three"
    # A stage points to one version only.
    set_stage(csms, s.name, "staging", "v1")
    assert show_version(csms, s.name, "v3").version_metadata.version_stages == ["SYSCURRENT"]
    assert sorted(show_version(csms, s.name, "v1").version_metadata.version_stages) == ["staging"]
    # System stages cannot be deleted; custom ones can.
    for sys_stage in ("SYSCURRENT", "SYSPREVIOUS"):
        err(lambda: csms.delete_secret_stage(DeleteSecretStageRequest(secret_name=s.name, stage_name=sys_stage)),
            400, SYSTEM_STAGE)
    err(lambda: set_stage(csms, s.name, "SYSPREVIOUS", "v1"), 400, SYSTEM_STAGE)
    csms.delete_secret_stage(DeleteSecretStageRequest(secret_name=s.name, stage_name="staging"))
    err(lambda: stage(csms, s.name, "staging"), 404, NOT_FOUND)
    err(lambda: csms.delete_secret_stage(DeleteSecretStageRequest(secret_name=s.name, stage_name="staging")),
        404, NOT_FOUND)
    err(lambda: set_stage(csms, s.name, "x", "v99"), 404, NOT_FOUND)
    err(lambda: set_stage(csms, s.name, "bad stage", "v1"), 400, INVALID)
    err(lambda: show_version(csms, s.name, "v42"), 404, NOT_FOUND)


def test_stage_quota(csms):
    s = create_secret(csms)
    for i in range(11):
        set_stage(csms, s.name, f"st{i}", "v1")
    err(lambda: set_stage(csms, s.name, "one-too-many", "v1"), 400, "CSMS.0203")
    err(lambda: add_version(csms, s.name, version_stages=[f"n{i}" for i in range(13)]), 400, INVALID)


def test_list_versions_and_expire_time(csms):
    s = create_secret(csms)
    for i in range(4):
        add_version(csms, s.name, f"value-{i}")
    page = csms.list_secret_versions(ListSecretVersionsRequest(secret_name=s.name, limit=3))
    assert [m.id for m in page.version_metadatas] == ["v1", "v2", "v3"]
    assert page.page_info.next_marker == "v3"
    rest = csms.list_secret_versions(ListSecretVersionsRequest(secret_name=s.name, marker="v3", limit=3))
    assert [m.id for m in rest.version_metadatas] == ["v4", "v5"] and rest.page_info.next_marker is None
    expire = int(time.time() * 1000) + 86400_000
    m = csms.update_version(UpdateVersionRequest(secret_name=s.name, version_id="v2",
                                                 body=UpdateVersionRequestBody(expire_time=expire))).version_metadata
    assert m.expire_time == expire and m.id == "v2"
    assert show_version(csms, s.name, "v2").version_metadata.expire_time == expire
    err(lambda: csms.update_version(UpdateVersionRequest(secret_name=s.name, version_id="v9",
                                                         body=UpdateVersionRequestBody(expire_time=expire))),
        404, NOT_FOUND)
    err(lambda: csms.list_secret_versions(ListSecretVersionsRequest(secret_name="nope")), 404, SECRET_NOT_FOUND)


# ---- events (the seed operation: DeleteSecretEvent) -----------------------------------------
def test_event_crud(csms):
    e = create_event(csms, types=["SECRET_VERSION_CREATED", "SECRET_DELETED"])
    assert e.state == "ENABLED" and e.event_id and e.notification.target_type == "SMN"
    shown = csms.show_secret_event(ShowSecretEventRequest(event_name=e.name)).event
    assert shown.event_types == ["SECRET_VERSION_CREATED", "SECRET_DELETED"]
    u = csms.update_secret_event(UpdateSecretEventRequest(
        event_name=e.name, body=UpdateSecretEventRequestBody(state="DISABLED", event_types=["SECRET_ROTATED"])))
    assert u.event.state == "DISABLED" and u.event.event_types == ["SECRET_ROTATED"]
    err(lambda: create_event(csms, name=e.name), 400, EVENT_EXISTS)
    err(lambda: create_event(csms, types=["NOT_A_TYPE"]), 400, INVALID)
    err(lambda: create_event(csms, types=["SECRET_DELETED", "SECRET_DELETED"]), 400, INVALID)
    err(lambda: create_event(csms, state="ON"), 400, INVALID)
    err(lambda: create_event(csms, name="bad name"), 400, INVALID)
    err(lambda: csms.show_secret_event(ShowSecretEventRequest(event_name="missing")), 404, NOT_FOUND)
    err(lambda: csms.update_secret_event(UpdateSecretEventRequest(
        event_name="missing", body=UpdateSecretEventRequestBody(state="ENABLED"))), 404, NOT_FOUND)
    for i in range(3):
        create_event(csms, name=f"zz-{i}")
    page = csms.list_secret_events(ListSecretEventsRequest(limit="2"))
    assert len(page.events) == 2 and page.page_info.next_marker == page.events[-1].name
    rest = csms.list_secret_events(ListSecretEventsRequest(limit="10", marker=page.page_info.next_marker))
    assert len(rest.events) == 2 and rest.page_info.next_marker is None


def test_delete_event_refused_while_referenced(csms):
    e = create_event(csms)
    s = create_secret(csms, event_subscriptions=[e.name])
    assert s.event_subscriptions == [e.name]
    listed = csms.list_secrets(ListSecretsRequest(event_name=e.name)).secrets
    assert [x.name for x in listed] == [s.name]
    err(lambda: csms.delete_secret_event(DeleteSecretEventRequest(event_name=e.name)), 400, EVENT_IN_USE)
    # Refused means untouched.
    kept = csms.show_secret_event(ShowSecretEventRequest(event_name=e.name)).event
    assert kept.event_id == e.event_id and kept.state == "ENABLED"
    # A secret pending deletion still references the event.
    csms.delete_secret_for_schedule(DeleteSecretForScheduleRequest(
        secret_name=s.name, body=DeleteSecretForScheduleRequestBody(recovery_window_in_days=7)))
    err(lambda: csms.delete_secret_event(DeleteSecretEventRequest(event_name=e.name)), 400, EVENT_IN_USE)
    csms.restore_secret(RestoreSecretRequest(secret_name=s.name))
    # Unsubscribing releases it; the deletion is immediate and final.
    assert update_secret(csms, s.name, event_subscriptions=[]).event_subscriptions == []
    assert csms.list_secrets(ListSecretsRequest(event_name=e.name)).secrets == []
    csms.delete_secret_event(DeleteSecretEventRequest(event_name=e.name))
    err(lambda: csms.show_secret_event(ShowSecretEventRequest(event_name=e.name)), 404, NOT_FOUND)
    err(lambda: csms.delete_secret_event(DeleteSecretEventRequest(event_name=e.name)), 404, NOT_FOUND)
    # Deleting the referencing secret also releases an event.
    e2 = create_event(csms)
    s2 = create_secret(csms, event_subscriptions=[e2.name])
    csms.delete_secret(DeleteSecretRequest(secret_name=s2.name))
    csms.delete_secret_event(DeleteSecretEventRequest(event_name=e2.name))


def test_delete_missing_event_is_404(csms):
    err(lambda: csms.delete_secret_event(DeleteSecretEventRequest(event_name="never-existed")), 404, NOT_FOUND)


# ---- notifications ----
def test_notification_record_for_each_event_type(csms):
    types = ["SECRET_VERSION_CREATED", "SECRET_VERSION_EXPIRED", "SECRET_DELETED"]
    e = create_event(csms, types=types)
    s = create_secret(csms, event_subscriptions=[e.name])
    add_version(csms, s.name, "second")
    created = [r for r in records(csms) if r.trigger_event_type == "SECRET_VERSION_CREATED"]
    assert len(created) == 2 and all(r.secret_name == s.name and r.event_name == e.name for r in created)
    assert all("value-1" not in r.notification_content and "second" not in r.notification_content
               for r in created)
    past = int(time.time() * 1000) - 1000
    csms.update_version(UpdateVersionRequest(secret_name=s.name, version_id="v1",
                                             body=UpdateVersionRequestBody(expire_time=past)))
    wait_for(lambda: [r for r in records(csms) if r.trigger_event_type == "SECRET_VERSION_EXPIRED"])
    csms.delete_secret(DeleteSecretRequest(secret_name=s.name))
    deleted = [r for r in records(csms) if r.trigger_event_type == "SECRET_DELETED"]
    assert len(deleted) == 1 and deleted[0].notification_target_id == "urn:smn:cn-north-4:x:topic"
    assert deleted[0].secret_type == "COMMON"


def test_disabled_or_unsubscribed_events_stay_silent(csms):
    off = create_event(csms, state="DISABLED")
    other = create_event(csms, types=["SECRET_DELETED"])
    s = create_secret(csms, event_subscriptions=[off.name])
    add_version(csms, s.name)
    t = create_secret(csms, event_subscriptions=[other.name])
    add_version(csms, t.name)
    assert records(csms) == []


def test_notifications_are_posted_to_allowed_urls(csms):
    rx = Receiver()
    try:
        e = create_event(csms, types=["SECRET_VERSION_CREATED", "SECRET_DELETED"], target_id=rx.url)
        s = create_secret(csms, event_subscriptions=[e.name], secret_string="never-in-a-notification")
        csms.delete_secret(DeleteSecretRequest(secret_name=s.name))
        wait_for(lambda: len(rx.got) >= 2)
        kinds = sorted(m["event_type"] for m in rx.got)
        assert kinds == ["SECRET_DELETED", "SECRET_VERSION_CREATED"]
        assert all(m["secret_name"] == s.name and m["event_name"] == e.name for m in rx.got)
        assert "never-in-a-notification" not in json.dumps(rx.got)
        wait_for(lambda: all(r.notification_status == "SUCCESS" for r in records(csms)))
    finally:
        rx.close()


def test_undeliverable_url_never_blocks_the_api(csms):
    # Port 9 on localhost: nothing listens; the call still succeeds at once.
    e = create_event(csms, target_id="http://127.0.0.1:9/nothing-here")
    started = time.time()
    create_secret(csms, event_subscriptions=[e.name])
    assert time.time() - started < 5
    assert [r.notification_status for r in records(csms)] in (["PENDING"], ["FAIL"])
    # Not on the allow-list: recorded, never sent.
    e2 = create_event(csms, target_id="http://example.invalid/hook")
    create_secret(csms, event_subscriptions=[e2.name])
    wait_for(lambda: any(r.event_name == e2.name and r.notification_status == "INVALID" for r in records(csms)))
    # https targets: this build has no TLS client, so they are recorded as INVALID.
    e3 = create_event(csms, target_id="https://127.0.0.1:1/hook")
    create_secret(csms, event_subscriptions=[e3.name])
    wait_for(lambda: any(r.event_name == e3.name and r.notification_status == "INVALID" for r in records(csms)))


# ---- isolation and persistence --------------------------------------------------------------
def test_project_isolation(csms, make_csms, acme_identity, pool_identity, pool_projects):
    # acme (another domain) only probes: creating a secret there would add a csms/default
    # key to acme's shared project, which the KMS suite counts.
    acme = make_csms(acme_identity)
    e = create_event(csms)
    s = create_secret(csms, event_subscriptions=[e.name])
    err(lambda: show_secret(acme, s.name), 404, SECRET_NOT_FOUND)
    err(lambda: show_version(acme, s.name), 404, SECRET_NOT_FOUND)
    err(lambda: acme.delete_secret(DeleteSecretRequest(secret_name=s.name)), 404, SECRET_NOT_FOUND)
    err(lambda: add_version(acme, s.name), 404, SECRET_NOT_FOUND)
    err(lambda: acme.delete_secret_event(DeleteSecretEventRequest(event_name=e.name)), 404, NOT_FOUND)
    err(lambda: acme.show_secret_event(ShowSecretEventRequest(event_name=e.name)), 404, NOT_FOUND)
    assert s.name not in [x.name for x in acme.list_secrets(ListSecretsRequest(limit="1000")).secrets]
    assert e.name not in [x.name for x in acme.list_secret_events(ListSecretEventsRequest(limit="1000")).events]
    assert all(r.secret_name != s.name for r in records(acme))
    # Another project: the same names are free and values stay apart.
    pid, _ = next(pool_projects["next"])
    other = make_csms(pool_identity, pid)
    create_event(other, name=e.name)
    twin = create_secret(other, name=s.name, secret_string="other's")
    assert twin.id != s.id and twin.kms_key_id != s.kms_key_id
    assert show_version(csms, s.name).secret_string == "value-1"
    assert show_version(other, s.name).secret_string == "other's"
    other.delete_secret(DeleteSecretRequest(secret_name=s.name))
    other.delete_secret_event(DeleteSecretEventRequest(event_name=e.name))
    err(lambda: csms.delete_secret_event(DeleteSecretEventRequest(event_name=e.name)), 400, EVENT_IN_USE)


def test_secrets_and_events_survive_restart(make_csms, tenant, restart_server):
    c = make_csms(tenant)
    e = create_event(c)
    s = create_secret(c, secret_string="durable", event_subscriptions=[e.name])
    add_version(c, s.name, "durable-2", version_stages=["blue"])
    assert restart_server() == 0
    c = make_csms(tenant)
    assert show_version(c, s.name, "v1").secret_string == "durable"
    assert show_version(c, s.name, "v2").secret_string == "durable-2"
    assert stage(c, s.name, "blue").version_id == "v2"
    assert show_secret(c, s.name).event_subscriptions == [e.name]
    err(lambda: c.delete_secret_event(DeleteSecretEventRequest(event_name=e.name)), 400, EVENT_IN_USE)
    assert len(records(c)) == 2


def test_bad_body_never_echoes_values(raw, tenant):
    r = raw(tenant, "POST", "/v1/{project_id}/secrets",
            body=json.dumps({"name": "n1", "secret_string": 987654321}).encode())
    assert r.status == 400 and support.error_code_of(r.body) == "CSMS.0004"
    assert b"987654321" not in r.body
