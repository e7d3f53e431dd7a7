"""dewstack's operability endpoints (docs/operations.md), against the real binary:

* ``GET /metrics`` parsed with the official Prometheus client's OpenMetrics parser; its
  counters move with SDK traffic; access rules (loopback, bearer token, own listener);
  the sampled per-project gauges.
* ``GET /health`` and ``GET /ready``.
* The dev clock: refused when off and to anyone but root; with ``--dev-clock`` a key
  scheduled for deletion in 7 days is gone, through the SDK, after advancing 8 days.
* ``DEWSTACK_LOG_FORMAT=json``: the request line is one JSON object with the request id,
  operation, caller domain/project and latency.
"""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

import support
from support import RawRequest


def _get(endpoint: str, path: str, headers=None) -> support.RawResponse:
    h = {"Host": urllib.parse.urlsplit(endpoint).netloc}
    h.update(headers or {})
    return support.send_raw(endpoint, RawRequest("GET", path, "", h, b""))


def scrape(endpoint: str, headers=None) -> dict:
    """{(sample name, frozenset(labels)): value} of one scrape, via the real parser."""
    r = _get(endpoint, "/metrics", headers)
    assert r.status == 200, r.body
    assert r.header("content-type").startswith("application/openmetrics-text"), r.headers
    out = {}
    for family in text_string_to_metric_families(r.body.decode("utf-8")):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _root_env(root) -> dict:
    return {
        "DEWSTACK_ACCESS_KEY": root.ak, "DEWSTACK_SECRET_KEY": root.sk,
        "DEWSTACK_DOMAIN_ID": root.domain_id, "DEWSTACK_PROJECT_ID": root.project_id,
        "DEWSTACK_REGION": support.REGION, "DEWSTACK_USER": root.user,
        "DEWSTACK_PASSWORD": root.password,
    }


def _own_server(tmp_path, name, toml="", env=None, tenants=()):
    """A dewstack of its own (embedded database), root identity in the environment."""
    root = support.new_identity(user="ops-root")
    cfg = tmp_path / "dewstack.toml"
    cfg.write_text(toml + "\n" + support.config_toml(list(tenants)))
    srv = support.DewstackServer(tmp_path / "data", tmp_path / "logs", config=cfg,
                                 identity_env={**_root_env(root), **(env or {})}, name=name,
                                 shared_database=False)
    srv.start()
    return srv, root


def _create_key(client):
    from huaweicloudsdkkms.v2 import CreateKeyRequest, CreateKeyRequestBody
    body = CreateKeyRequestBody(key_alias=support.unique("ops"))
    return client.create_key(CreateKeyRequest(body=body)).key_info.key_id


# --------------------------------------------------------------------------- metrics
def test_metrics_counters_move_with_sdk_traffic(server, kms, raw, tenant):
    labels = dict(service="kms", operation="CreateKey")
    before = scrape(server.endpoint)
    _create_key(kms)
    _create_key(kms)
    bad = raw(tenant, "POST", "/v1.0/{project_id}/kms/list-keys", body={},
              mutate=lambda req: support.set_header(req, "X-Sdk-Date", "20000101T000000Z"))
    assert bad.status == 401, bad.body
    assert _get(server.endpoint, "/no/such/path-3b1f").status == 404
    after = scrape(server.endpoint)

    ok = "dewstack_http_requests_total"
    assert value(after, ok, status_class="2xx", **labels) >= value(before, ok, status_class="2xx", **labels) + 2
    hist = "dewstack_http_request_duration_seconds_count"
    assert value(after, hist, **labels) >= value(before, hist, **labels) + 2
    fail = "dewstack_auth_failures_total"
    assert value(after, fail, service="kms", reason="skewed_date") >= \
        value(before, fail, service="kms", reason="skewed_date") + 1
    unknown = dict(service="none", operation="unknown", status_class="4xx")
    assert value(after, ok, **unknown) >= value(before, ok, **unknown) + 1
    # Bounded labels: operation names only, never a raw path or an id.
    operations = {dict(l).get("operation") for (n, l) in after if n == ok}
    assert all(op and "/" not in op and tenant.project_id not in op for op in operations), operations
    assert "unlisted" not in operations, "a served route is missing from ops/operations.rs"
    assert value(after, "dewstack_build_info", version=_version(after)) == 1


def _version(samples) -> str:
    return next(dict(l)["version"] for (n, l) in samples if n == "dewstack_build_info")


def test_metrics_own_listener_bearer_token_and_sampled_inventory(tmp_path):
    token = "scrape-" + support.gen_hex32()
    toml = (f'[metrics]\nlisten = "127.0.0.1:0"\nbearer_token = "{token}"\n'
            "inventory_interval_secs = 1\n")
    srv, root = _own_server(tmp_path, "metrics-listener", toml)
    try:
        url = next(line.split()[-1] for line in srv.stdout_path.read_text().splitlines()
                   if line.strip().startswith("metrics "))
        metrics_endpoint = url.rsplit("/metrics", 1)[0]
        assert metrics_endpoint != srv.endpoint
        r = _get(srv.endpoint, "/metrics")
        assert (r.status, support.error_code_of(r.body)) == (404, "APIGW.0101"), r.body
        r = _get(metrics_endpoint, "/metrics")
        assert (r.status, support.error_code_of(r.body)) == (401, "APIGW.0305"), r.body
        assert r.header("www-authenticate") == "Bearer"
        r = _get(metrics_endpoint, "/metrics", {"Authorization": "Bearer wrong"})
        assert r.status == 401
        assert token not in r.body.decode()
        auth = {"Authorization": f"Bearer {token}"}
        assert _get(metrics_endpoint, "/ready").status == 200

        keys = dict(project_id=root.project_id, state="enabled")
        start = value(scrape(metrics_endpoint, auth), "dewstack_kms_keys", **keys)
        client = support.kms_client(srv.endpoint, root)
        _create_key(client)
        _create_key(client)
        deadline = time.monotonic() + 10
        while True:
            now = scrape(metrics_endpoint, auth)
            if value(now, "dewstack_kms_keys", **keys) == start + 2:
                break
            assert time.monotonic() < deadline, "the key gauge never moved"
            time.sleep(0.3)
        assert value(now, "dewstack_inventory_sampled_timestamp_seconds") > time.time() - 60
        assert value(now, "dewstack_background_runs_total", job="kms_deletions", outcome="ok") >= 1
        assert value(now, "dewstack_background_runs_total", job="inventory", outcome="ok") >= 1
    finally:
        srv.stop()


# --------------------------------------------------------------------------- health
def test_health_and_ready(server):
    r = _get(server.endpoint, "/health")
    assert r.status == 200 and r.json() == {"status": "ok"}
    r = _get(server.endpoint, "/ready")
    assert r.status == 200, r.body
    assert r.json()["status"] == "ready" and r.json()["storage"] in ("sqlite", "postgresql")


# --------------------------------------------------------------------------- dev clock
def _clock(endpoint, ident, method="POST", body=None):
    req = support.build_signed(endpoint, ident, method, "/_dewstack/clock", "", body,
                               project_header=None)
    return support.send_raw(endpoint, req)


def test_dev_clock_is_refused_when_off(server, root_identity):
    r = _clock(server.endpoint, root_identity, body={"advance": "8d"})
    assert (r.status, support.error_code_of(r.body)) == (403, "APIGW.0306"), r.body
    assert "--dev-clock" in r.json()["error"]["error_msg"]
    assert _clock(server.endpoint, root_identity, "GET").status == 403


def test_dev_clock_deletes_a_key_scheduled_for_7_days_after_8(tmp_path):
    from huaweicloudsdkkms.v2 import (ListKeyDetailRequest, OperateKeyRequestBody,
                                      ScheduleKeyDeletionRequestBody, DeleteKeyRequest)
    other = support.new_identity(domain_name="ops-other", user="bob")
    srv, root = _own_server(tmp_path, "dev-clock", env={"DEWSTACK_DEV_CLOCK": "1"},
                            tenants=[other])
    try:
        kms = support.kms_client(srv.endpoint, root)
        key_id = _create_key(kms)
        kms.delete_key(DeleteKeyRequest(body=ScheduleKeyDeletionRequestBody(
            key_id=key_id, pending_days="7")))

        r = _clock(srv.endpoint, other, body={"advance": "8d"})
        assert (r.status, support.error_code_of(r.body)) == (403, "APIGW.0302"), r.body
        r = _clock(srv.endpoint, root, body={"advance": "6d"})
        assert r.status == 200, r.body
        assert r.json()["ran"]["kms_keys_deleted"] == 0
        describe = lambda: kms.list_key_detail(
            ListKeyDetailRequest(body=OperateKeyRequestBody(key_id=key_id)))
        assert describe().key_info.key_state == "4"  # still pending deletion

        r = _clock(srv.endpoint, root, body={"advance": "2d"})
        assert r.status == 200, r.body
        assert r.json()["ran"]["kms_keys_deleted"] == 1
        assert r.json()["offset_seconds"] == 8 * 86400
        # The SDK signs with the real time; dewstack's clock is 8 days ahead.
        support.expect_kms_error(describe, 404, support.KMS_NOT_FOUND)
        shown = _clock(srv.endpoint, root, "GET")
        assert shown.status == 200 and shown.json()["offset_seconds"] == 8 * 86400
    finally:
        srv.stop()


# --------------------------------------------------------------------------- JSON logs
def test_json_log_lines_name_request_operation_caller_and_latency(tmp_path):
    srv, root = _own_server(tmp_path, "json-logs", env={"DEWSTACK_LOG_FORMAT": "json"})
    try:
        req = support.build_signed(srv.endpoint, root, "POST", f"/v1.0/{root.project_id}/kms/list-keys",
                                   "", {})
        r = support.send_raw(srv.endpoint, req)
        assert r.status == 200, r.body
        request_id = r.header("x-request-id")
        deadline = time.monotonic() + 5
        while True:
            lines = [json.loads(l) for l in srv.stderr_path.read_text().splitlines() if l.strip()]
            hits = [l for l in lines if l.get("request_id") == request_id and l.get("message") == "request"]
            if hits or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(hits) == 1, lines[-5:]
        line = hits[0]
        assert line["level"] == "INFO" and line["timestamp"]
        assert (line["service"], line["operation"]) == ("kms", "ListKeys")
        assert (line["domain_id"], line["project_id"]) == (root.domain_id, root.project_id)
        assert line["status"] == 200 and line["method"] == "POST"
        assert isinstance(line["latency_ms"], (int, float)) and line["latency_ms"] >= 0
        text = srv.stderr_path.read_text()
        assert root.sk not in text and root.password not in text
    finally:
        srv.stop()


def test_an_unknown_log_format_is_a_startup_error(tmp_path):
    with pytest.raises(RuntimeError):
        _own_server(tmp_path, "bad-log-format", env={"DEWSTACK_LOG_FORMAT": "yaml"})
