"""CSMS helpers shared by the CSMS test modules (official SDK only): error codes,
a CsmsClient factory with its fixtures, call wrappers and a notification receiver.

Error codes: docs/error-codes.md section 2 and src/csms/error.rs. dewstack answers
404 for lookups of named resources (the cloud publishes CSMS.0005/0106 as 400);
CSMS.9001-9004 are dewstack's own codes (no published code exists).
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time

import pytest
from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)
from huaweicloudsdkcsms.v1 import CsmsClient

import support

INVALID = "CSMS.0002"
NOT_FOUND = "CSMS.0005"
SECRET_NOT_FOUND = "CSMS.0106"
PENDING_UNUSABLE = "CSMS.0103"
SYSTEM_STAGE = "CSMS.0105"
PENDING = "CSMS.0107"
NOT_PENDING = "CSMS.0108"
KMS_UNUSABLE = "CSMS.0401"
SECRET_EXISTS = "CSMS.9001"
EVENT_EXISTS = "CSMS.9002"
EVENT_IN_USE = "CSMS.9003"
EVENT_QUOTA = "CSMS.9004"


def csms_client(endpoint, ident, project_id=None):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials

    creds = BasicCredentials(ident.ak, ident.sk, project_id or ident.project_id)
    return (CsmsClient.new_builder()
            .with_http_config(support.http_config())
            .with_credentials(creds)
            .with_endpoints([endpoint])
            .build())


@pytest.fixture
def make_csms(server):
    return lambda ident, project_id=None: csms_client(server.endpoint, ident, project_id)


@pytest.fixture
def csms(make_csms, tenant):
    return make_csms(tenant)


def err(fn, status, code):
    return support.expect_kms_error(fn, status, code, prefix="CSMS.")


# ---- small wrappers ---------------------------------------------------------------------
def create_secret(c, name=None, **fields):
    if "secret_string" not in fields and "secret_binary" not in fields:
        fields["secret_string"] = "value-1"
    body = CreateSecretRequestBody(name=name or support.unique("sec"), **fields)
    return c.create_secret(CreateSecretRequest(body=body)).secret


def show_secret(c, name):
    return c.show_secret(ShowSecretRequest(secret_name=name)).secret


def show_version(c, name, version_id="latest"):
    return c.show_secret_version(ShowSecretVersionRequest(secret_name=name, version_id=version_id)).version


def add_version(c, name, value="v", **fields):
    body = CreateSecretVersionRequestBody(secret_string=value, **fields)
    return c.create_secret_version(CreateSecretVersionRequest(secret_name=name, body=body)).version_metadata


def create_event(c, name=None, types=None, state="ENABLED", target_id="urn:smn:cn-north-4:x:topic"):
    body = CreateSecretEventRequestBody(
        name=name or support.unique("ev"),
        event_types=types or ["SECRET_VERSION_CREATED"],
        state=state,
        notification=Notification(target_type="SMN", target_id=target_id, target_name="topic"))
    return c.create_secret_event(CreateSecretEventRequest(body=body)).event


def update_secret(c, name, **fields):
    return c.update_secret(UpdateSecretRequest(secret_name=name, body=UpdateSecretRequestBody(**fields))).secret


def records(c):
    return c.list_notification_records(ListNotificationRecordsRequest()).records or []


def stage(c, name, stage_name):
    return c.show_secret_stage(ShowSecretStageRequest(secret_name=name, stage_name=stage_name)).stage


def set_stage(c, name, stage_name, version_id):
    return c.update_secret_stage(UpdateSecretStageRequest(
        secret_name=name, stage_name=stage_name,
        body=UpdateSecretStageRequestBody(version_id=version_id))).stage


# ---- notification receiver --------------------------------------------------------------------------
class Receiver:
    """A local HTTP endpoint that records POSTed notifications."""

    def __init__(self):
        got = self.got = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length", 0))
                got.append(json.loads(self.rfile.read(n)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/hook"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()


def wait_for(pred, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


# ---- tags ---------------------------------------------------------------------------------
def tags_of(c, secret_id):
    return {t.key: t.value for t in (c.list_secret_tags(ListSecretTagsRequest(secret_id=secret_id)).tags or [])}


# ---- backup and restore -------------------------------------------------------------------
def backup(c, name):
    return c.download_secret_blob(DownloadSecretBlobRequest(secret_name=name)).secret_blob


def restore(c, blob):
    return c.upload_secret_blob(UploadSecretBlobRequest(body=UploadSecretBlobRequestBody(secret_blob=blob))).secret
