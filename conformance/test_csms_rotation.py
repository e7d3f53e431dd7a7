"""CSMS rotation through the official SDK against a dewstack whose config maps a
FunctionGraph URN to a tiny local rotation function (http.server in a thread):
the agency an "-FG" rotation needs, the four steps with the SYSPENDING version, the
new version becoming SYSCURRENT and the old one SYSPREVIOUS, and a failed step that
leaves the current version current and reports a FAILED task and
SECRET_ROTATED_FAILED. The protocol is docs/rotation.md."""

from __future__ import annotations

import http.server
import json
import threading

import pytest
from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

import support
from csms_helpers import *  # noqa: F401,F403  (codes, wrappers)
from csms_helpers import csms_client
from support import DewstackServer

URN = "urn:fss:cn-north-4:0123456789abcdef0123456789abcdef:function:default:rotate-rds:latest"
CONFIG = '{"InstanceId":"rds-instance-1","SecretSubType":"SingleUser"}'


class RotationFunction:
    """Records every step event; at setSecret reads the pending value through the
    CSMS API as a real rotation function would; answers 500 at the step in `fail`."""

    def __init__(self):
        self.events, self.pending_values, self.fail, self.client = [], [], None, None
        fn = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                event = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                fn.events.append(event)
                if event["step"] == "setSecret" and fn.client is not None:
                    v = fn.client.show_secret_version(ShowSecretVersionRequest(
                        secret_name=event["secret_name"], version_id=event["version_id"])).version
                    fn.pending_values.append((v.version_metadata.version_stages, v.secret_string))
                self.send_response(500 if event["step"] == fn.fail else 200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/rotate"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def steps(self):
        return [e["step"] for e in self.events]


@pytest.fixture(scope="module")
def rotation(tmp_path_factory):
    fn = RotationFunction()
    owner, stranger = support.new_identity("rot-owner"), support.new_identity("rot-stranger")
    base = tmp_path_factory.mktemp("rotation")
    cfg = base / "dewstack.toml"
    cfg.write_text(f'[rotation_functions]\n"{URN}" = "{fn.url}"\n\n'
                   + support.config_toml([owner, stranger]))
    srv = DewstackServer(base / "data", base / "logs", config=cfg, identity_env={}, name="rotation")
    srv.start()
    fn.client = csms_client(srv.endpoint, owner)
    yield fn, csms_client(srv.endpoint, owner), csms_client(srv.endpoint, stranger)
    srv.stop()
    fn.srv.shutdown()


def rds_secret(c, value='{"username":"app","password":"old-pass"}', **extra):
    return create_secret(c, secret_string=value, secret_type="RDS-FG", rotation_func_urn=URN,
                         rotation_config=CONFIG, **extra)


def agency_granted(c):
    return c.show_agency(ShowAgencyRequest(secret_type="RDS-FG")).agency_granted


def test_an_fg_rotation_needs_the_agency_of_its_domain(rotation):
    _, _, stranger = rotation
    s = rds_secret(stranger)
    assert agency_granted(stranger) == "false"
    err(lambda: stranger.rotate_secret(RotateSecretRequest(secret_name=s.name)), 400, INVALID)
    err(lambda: stranger.show_agency(ShowAgencyRequest(secret_type="COMMON")), 400, INVALID)
    err(lambda: stranger.create_agency(CreateAgencyRequest(body=CreateAgencyRequestBody(secret_type="X"))),
        400, INVALID)
    assert show_version(stranger, s.name).version_metadata.id == "v1"
    assert not stranger.list_secret_task(ListSecretTaskRequest(secret_name=s.name)).tasks


def test_the_function_runs_the_steps_and_the_new_version_becomes_current(rotation):
    fn, c, stranger = rotation
    made = c.create_agency(CreateAgencyRequest(body=CreateAgencyRequestBody(secret_type="RDS-FG")))
    assert len(made.agencies) == 2 and all(a.agency_name and a.agency_id for a in made.agencies)
    assert agency_granted(c) == "true"
    assert agency_granted(stranger) == "false", "agencies are per domain"
    e = create_event(c, types=["SECRET_ROTATED", "SECRET_ROTATED_FAILED"])
    s = rds_secret(c, event_subscriptions=[e.name])
    fn.events.clear()
    r = c.rotate_secret(RotateSecretRequest(secret_name=s.name))
    assert r.version_id == "v2" and r.secret_name == s.name
    assert fn.steps() == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    first = fn.events[0]
    assert first["secret_name"] == s.name and first["version_id"] == "v2"
    assert first["version_stage"] == "SYSPENDING" and first["current_version_id"] == "v1"
    assert first["rotation_func_urn"] == URN and first["rotation_config"] == CONFIG
    assert first["rotation_task_id"] == r.rotation_task_id
    assert all("secret_string" not in ev for ev in fn.events), "events never carry values"
    stages_then, pending_value = fn.pending_values[-1]
    assert stages_then == ["SYSPENDING"]
    now = show_version(c, s.name)
    assert now.version_metadata.id == "v2" and now.version_metadata.version_stages == ["SYSCURRENT"]
    assert now.secret_string == pending_value and len(pending_value) == 32
    before = show_version(c, s.name, "v1")
    assert before.version_metadata.version_stages == ["SYSPREVIOUS"]
    assert json.loads(before.secret_string)["password"] == "old-pass"
    assert show_secret(c, s.name).rotation_time
    task = c.list_secret_task(ListSecretTaskRequest(task_id=r.rotation_task_id)).tasks[0]
    assert task.task_status == "SUCCESS" and task.rotation_func_urn == URN and task.attempt_nums == 1
    assert [x.trigger_event_type for x in records(c)] == ["SECRET_ROTATED"]

    # A failed step: v2 stays current, the pending v3 is gone, the task says why.
    fn.fail, fn.events[:] = "testSecret", []
    try:
        failed = c.rotate_secret(RotateSecretRequest(secret_name=s.name))
    finally:
        fn.fail = None
    assert fn.steps() == ["createSecret", "setSecret", "testSecret"]
    assert failed.version_id == "v2"
    assert show_version(c, s.name).version_metadata.id == "v2"
    ids = [v.id for v in c.list_secret_versions(ListSecretVersionsRequest(secret_name=s.name)).version_metadatas]
    assert ids == ["v1", "v2"]
    bad = c.list_secret_task(ListSecretTaskRequest(task_id=failed.rotation_task_id)).tasks[0]
    assert bad.task_status == "FAILED" and "testSecret" in bad.task_error_msg and bad.task_error_code
    assert [t.task_id for t in c.list_secret_task(ListSecretTaskRequest(status="FAILED")).tasks] == \
        [failed.rotation_task_id]
    assert sorted(x.trigger_event_type for x in records(c)) == ["SECRET_ROTATED", "SECRET_ROTATED_FAILED"]
    # Nothing of this is visible from another domain.
    assert not stranger.list_secret_task(ListSecretTaskRequest(secret_name=s.name)).tasks
    err(lambda: stranger.rotate_secret(RotateSecretRequest(secret_name=s.name)), 404, SECRET_NOT_FOUND)


def test_a_missing_rotation_setting_is_refused(rotation):
    _, c, _ = rotation
    s = create_secret(c, secret_type="RDS-FG", rotation_config=CONFIG)
    err(lambda: c.rotate_secret(RotateSecretRequest(secret_name=s.name)), 400, INVALID)
    s = create_secret(c, secret_type="RDS-FG", rotation_func_urn=URN)
    err(lambda: c.rotate_secret(RotateSecretRequest(secret_name=s.name)), 400, INVALID)
