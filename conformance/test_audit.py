"""The audit trail (src/audit/, docs/operations.md): CTS-shaped JSON lines in the data dir
or on stdout, no secret ever in a record, ListTraces through the official CTS SDK, and
`required` mode. The grep that conftest.py runs over every trail at the end of the
session is shown here to find what it looks for, in a made-up trail and in a live record."""

from __future__ import annotations

import base64
import json
import time

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkcts.v3 import CtsClient, ListTracesRequest
from huaweicloudsdkkms.v2 import (CreateDatakeyRequest, CreateDatakeyRequestBody, CreateKeyRequest,
                                  CreateKeyRequestBody, DecryptDataRequest, DecryptDataRequestBody,
                                  EncryptDataRequest, EncryptDataRequestBody, ListKeysRequest,
                                  ListKeysRequestBody)

import support
from csms_helpers import csms_client
from huaweicloudsdkcsms.v1 import (CreateSecretRequest, CreateSecretRequestBody,
                                   ShowSecretVersionRequest)
from test_ops import _own_server


def cts_client(endpoint, ident):
    creds = BasicCredentials(ident.ak, ident.sk, ident.project_id)
    return (CtsClient.new_builder().with_http_config(support.http_config())
            .with_credentials(creds).with_endpoints([endpoint]).build())


def _key(kms) -> str:
    r = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=support.unique("audit"))))
    return r.key_info.key_id


def test_trail_records_calls_and_never_a_secret(tmp_path):
    tenant = support.new_identity(domain_name="auditco", user="auditor")
    srv, root = _own_server(tmp_path, "audit", tenants=[tenant])
    try:
        kms = support.kms_client(srv.endpoint, tenant)
        key_id = _key(kms)
        plain = "PLAINTEXT-" + support.gen_hex32()
        enc = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(key_id=key_id, plain_text=plain)))
        dec = kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(cipher_text=enc.cipher_text)))
        assert dec.plain_text == plain
        dk = kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=key_id, datakey_length="256")))
        kms.list_keys(ListKeysRequest(body=ListKeysRequestBody()))
        csms = csms_client(srv.endpoint, tenant)
        value = "SECRET-VALUE-" + support.gen_hex32()
        name = support.unique("audit-secret")
        csms.create_secret(CreateSecretRequest(body=CreateSecretRequestBody(name=name, secret_string=value)))
        got = csms.show_secret_version(ShowSecretVersionRequest(secret_name=name, version_id="latest"))
        assert got.version.secret_string == value
        # A password login, so the password went over the wire too.
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": tenant.user, "password": tenant.password, "domain": {"name": tenant.domain_name}}}},
            "scope": {"project": {"id": tenant.project_id}}}}
        req = support.build_signed(srv.endpoint, None, "POST", "/v3/auth/tokens", "", body, sign=False)
        r = support.send_raw(srv.endpoint, req)
        assert r.status == 201, r.body
        token = r.header("x-subject-token")

        cts = cts_client(srv.endpoint, tenant)
        listed = cts.list_traces(ListTracesRequest(trace_type="system", limit=200))
        names = [t.trace_name for t in listed.traces]
        for op in ["CreateKey", "EncryptData", "DecryptData", "CreateDatakey", "CreateSecret", "ShowSecretVersion"]:
            assert op in names, names
        assert "ListKeys" not in names  # metadata reads are not audited
        assert listed.meta_data.count == len(listed.traces)
        enc_trace = next(t for t in listed.traces if t.trace_name == "EncryptData")
        assert enc_trace.resource_id == key_id
        assert enc_trace.service_type == "KMS" and enc_trace.trace_rating == "normal"
        assert enc_trace.code == "200" and enc_trace.trace_type == "ApiCall"
        assert enc_trace.user.access_key_id == tenant.ak and enc_trace.user.name == tenant.user
        assert enc_trace.user.domain.id == tenant.domain_id
        assert enc_trace.source_ip == "127.0.0.1"
        assert json.loads(enc_trace.request)["key_id"] == key_id
        assert enc_trace.time <= enc_trace.record_time

        # Filters, paging and isolation.
        only = cts.list_traces(ListTracesRequest(trace_type="system", trace_name="DecryptData"))
        assert [t.trace_name for t in only.traces] == ["DecryptData"]
        assert only.traces[0].resource_id == key_id
        page = cts.list_traces(ListTracesRequest(trace_type="system", limit=2))
        assert len(page.traces) == 2 and page.meta_data.marker == page.traces[-1].trace_id
        rest = cts.list_traces(ListTracesRequest(trace_type="system", limit=200, next=page.meta_data.marker))
        assert [t.trace_id for t in page.traces + rest.traces] == [t.trace_id for t in listed.traces]
        assert rest.meta_data.marker is None
        assert cts_client(srv.endpoint, root).list_traces(ListTracesRequest(trace_type="system")).traces == []
        with pytest.raises(exceptions.ClientRequestException) as e:
            cts.list_traces(ListTracesRequest(trace_type="system", limit=201))
        assert e.value.status_code == 400 and e.value.error_code == "CTS.0001"

        trail = (srv.data_dir / "audit" / "trail.jsonl").read_text()
        for line in trail.splitlines():
            json.loads(line)
        secrets = [plain, base64.b64encode(plain.encode()).decode(), value, dk.plain_text,
                   dk.plain_text.lower(), tenant.sk, tenant.password, root.sk, root.password, token]
        for s in secrets:
            assert s and s not in trail, f"a secret reached the trail: {s[:6]}..."
    finally:
        srv.stop()


def test_required_mode_refuses_success_when_the_record_cannot_be_written(tmp_path):
    # /dev/full opens and accepts nothing: every write fails.
    srv, root = _own_server(tmp_path, "audit-required",
                            toml='[audit]\nmode = "required"\npath = "/dev/full"\n')
    try:
        kms = support.kms_client(srv.endpoint, root)
        with pytest.raises(exceptions.ServerResponseException) as e:
            _key(kms)
        assert e.value.status_code == 500 and e.value.error_code == "KMS.0101"
        # Calls that are not audited are unaffected.
        kms.list_keys(ListKeysRequest(body=ListKeysRequestBody()))
    finally:
        srv.stop()


def test_trail_grep_finds_registered_values_in_every_file_and_spelling(tmp_path):
    """The end-of-run check's grep over a made-up trail: a hit in the current file and in
    rotated ones, in plain, base64 and JSON-escaped (twice, inside `request`) spellings;
    reports name the file, line, trace_name and kind, never the value; short values are
    not registered; a clean trail gives nothing."""
    reg = support.SecretRegistry()
    plain = "FAKE-PLAINTEXT-" + support.gen_hex32()
    quoted = 'pass "word" \\ ' + support.gen_hex32()
    material = bytes(range(32))
    reg.add(plain, "plain_text in a request")
    reg.add(quoted, "secret_string in a request")
    reg.add_bytes(material, "imported key material")
    reg.add("short-1", "secret_string in a request")
    assert plain in reg and quoted in reg and material.hex() in reg
    assert "short-1" not in reg

    def record(name, **fields):
        return json.dumps({"trace_name": name, "trace_id": support.rand_uuid(), **fields})

    trail = tmp_path / "audit" / "trail.jsonl"
    trail.parent.mkdir()
    trail.write_text("\n".join([
        record("CreateKey", request=json.dumps({"key_alias": "short-1"})),
        record("EncryptData", request=json.dumps({"key_id": "k", "note": quoted})),
    ]) + "\n")
    (tmp_path / "audit" / "trail.jsonl.1").write_text("\n".join([
        record("ListKeys"),
        record("DecryptData", response=json.dumps({"x": base64.b64encode(plain.encode()).decode()})),
        record("ImportKeyMaterial", resource_name=material.hex().upper()),
    ]) + "\n")
    (tmp_path / "audit" / "trail.jsonl.2").write_text(record("Sign", user={"name": plain}) + "\n")
    (tmp_path / "audit" / "trail.jsonl.bak").write_text(record("Other", user={"name": plain}) + "\n")

    files = support.trail_files(trail)
    assert [p.name for p in files] == ["trail.jsonl", "trail.jsonl.1", "trail.jsonl.2"]
    hits = reg.find_in(files)
    assert hits == [
        ("trail.jsonl", 2, "EncryptData", "secret_string in a request"),
        ("trail.jsonl.1", 2, "DecryptData", "plain_text in a request (base64)"),
        ("trail.jsonl.1", 3, "ImportKeyMaterial", "imported key material"),
        ("trail.jsonl.2", 1, "Sign", "plain_text in a request"),
    ], hits
    assert not any(v in repr(hits) for v in (plain, quoted, material.hex()))

    clean = tmp_path / "clean.jsonl"
    clean.write_text(record("CreateKey", request=json.dumps({"key_alias": "short-1"})) + "\n")
    assert reg.find_in([clean]) == []


def test_trail_grep_finds_a_value_in_a_live_record(server, tenant):
    """The same grep over the shared server's real trail finds a value that a call put in
    an allow-listed field (a secret's description), so the end-of-run check reads the
    right files in the right format. The value is in a registry of its own: it is not a
    secret and must not fail the end-of-run check."""
    reg = support.SecretRegistry()
    marker = 'marker "in" a description ' + support.gen_hex32()
    reg.add(marker, "a marker")
    csms = csms_client(server.endpoint, tenant)
    csms.create_secret(CreateSecretRequest(body=CreateSecretRequestBody(
        name=support.unique("grep"), secret_string="value-" + support.gen_hex32(),
        description=marker)))
    cts_client(server.endpoint, tenant).list_traces(ListTracesRequest(trace_type="system", limit=1))
    hits = reg.find_in(support.trail_files(server.data_dir / "audit" / "trail.jsonl"))
    assert [(h[2], h[3]) for h in hits] == [("CreateSecret", "a marker")], hits


def test_stdout_sink_prints_records_and_writes_no_file(tmp_path):
    """`sink = "stdout"`: each audited call is one CTS-shaped JSON line on stdout (among
    the banner's lines), nothing is written to the data dir's trail, calls that are not
    audited print nothing, and no secret of the calls is in a record."""
    srv, root = _own_server(tmp_path, "audit-stdout", toml='[audit]\nsink = "stdout"\n')
    try:
        kms = support.kms_client(srv.endpoint, root)
        key_id = _key(kms)
        plain = "STDOUT-PLAINTEXT-" + support.gen_hex32()
        kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(key_id=key_id, plain_text=plain)))
        kms.list_keys(ListKeysRequest(body=ListKeysRequestBody()))

        def lines():  # the records among the banner's lines
            return [l for l in srv.stdout_path.read_text().splitlines() if l.startswith("{")]

        def records():
            return [json.loads(l) for l in lines()]

        deadline = time.monotonic() + 10
        while len(records()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        got = records()
        assert [r["trace_name"] for r in got] == ["CreateKey", "EncryptData"], got
        enc = got[1]
        assert enc["resource_id"] == key_id and enc["resource_type"] == "key"
        assert (enc["service_type"], enc["trace_type"], enc["trace_rating"], enc["code"]) == \
            ("KMS", "ApiCall", "normal", "200")
        assert enc["user"]["access_key_id"] == root.ak and enc["user"]["name"] == root.user
        assert enc["user"]["domain"]["id"] == root.domain_id
        assert enc["project_id"] == root.project_id and enc["source_ip"] == "127.0.0.1"
        assert json.loads(enc["request"])["key_id"] == key_id
        assert enc["trace_id"] and enc["request_id"] and enc["time"] <= enc["record_time"]
        assert got[0]["resource_id"] == key_id

        assert not (srv.data_dir / "audit" / "trail.jsonl").exists()
        assert support.trail_files(srv.data_dir / "audit" / "trail.jsonl") == []
        # No file, nothing to list (docs/operations.md).
        assert cts_client(srv.endpoint, root).list_traces(ListTracesRequest(trace_type="system")).traces == []
        text = "\n".join(lines())
        for s in (plain, base64.b64encode(plain.encode()).decode(), root.sk, root.password):
            assert s not in text, f"a secret reached a record: {s[:6]}..."
    finally:
        srv.stop()
