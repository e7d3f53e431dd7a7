"""pytest fixtures for the dewstack conformance suite.

One dewstack server is started per test session (binary from $DEWSTACK_BIN, default
target/dist/dewstack) on a temporary data dir, with:

* a root identity passed through DEWSTACK_* env vars, and
* a second tenant "acme" (own domain, project, user, AK/SK) declared in a TOML config file.

Clients are built per test from ``server.endpoint`` so that tests that restart the server
(persistence) do not break later tests even though the port changes.

At the end of the session ``no_secret_in_any_audit_trail`` greps the whole audit trail of
the shared server (rotated files too) and of every other server the session started for
every secret the suite used (support.SECRETS, fed by the SDK, support.send_raw, the
identities and the servers' banners).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

import support
from support import DewstackServer, Identity

support.capture_sdk_traffic()

# Never send 127.0.0.1 traffic through a proxy that may be configured on the machine.
for _k in ("NO_PROXY", "no_proxy"):
    _cur = os.environ.get(_k, "")
    os.environ[_k] = ",".join(x for x in [_cur, "127.0.0.1", "localhost"] if x)


@pytest.fixture(scope="session")
def root_identity() -> Identity:
    return support.new_identity(domain_name=None, user="root-admin")


@pytest.fixture(scope="session")
def acme_identity() -> Identity:
    return support.new_identity(domain_name="acme", user="alice")


def _root_env(root: Identity) -> dict:
    return {
        "DEWSTACK_ACCESS_KEY": root.ak,
        "DEWSTACK_SECRET_KEY": root.sk,
        "DEWSTACK_DOMAIN_ID": root.domain_id,
        "DEWSTACK_PROJECT_ID": root.project_id,
        "DEWSTACK_REGION": support.REGION,
        "DEWSTACK_USER": root.user,
        "DEWSTACK_PASSWORD": root.password,
    }


# KMS allows 100 customer keys per project (KMS.1105), and several tests count keys, so
# every test that creates keys gets a fresh project of its own: the "pool" domain declares
# POOL_SIZE projects, handed out one per test by the ``tenant`` fixture.
POOL_SIZE = 500


@pytest.fixture(scope="session")
def pool_identity() -> Identity:
    return support.new_identity(domain_name="pool", user="pool-admin")


@pytest.fixture(scope="session")
def pool_projects(pool_identity):
    extra = [(support.gen_hex32(), f"{support.REGION}_t{i:03d}") for i in range(POOL_SIZE)]
    return {"all": extra, "next": iter(extra)}


@pytest.fixture
def tenant(pool_identity, pool_projects) -> Identity:
    """The calling identity of most tests: pool AK/SK bound to a project no other test uses."""
    try:
        pid, pname = next(pool_projects["next"])
    except StopIteration:
        raise RuntimeError("project pool exhausted; raise POOL_SIZE in conftest.py")
    return dataclasses.replace(pool_identity, project_id=pid, project_name=pname)


# The shared server's trail rotates every TRAIL_MAX_BYTES, so a full run spreads it over
# several files and the end-of-run grep reads rotated files, as an operator's would be.
# TRAIL_KEEP is the most dewstack keeps: the check fails if the oldest file could have
# been dropped.
TRAIL_MAX_BYTES = 1024 * 1024
TRAIL_KEEP = 1000
AUDIT_SETTINGS = f"[audit]\nmax_bytes = {TRAIL_MAX_BYTES}\nkeep = {TRAIL_KEEP}\n\n"


@pytest.fixture(scope="session")
def server(tmp_path_factory, root_identity, acme_identity, pool_identity, pool_projects):
    base = tmp_path_factory.mktemp("dewstack")
    cfg = base / "dewstack.toml"
    # CSMS: sweep every second (version expiries, scheduled deletions) and allow event
    # notifications to be POSTed to local test receivers.
    csms_settings = 'sweep_interval_secs = 1\nnotification_urls = ["http://127.0.0.1:"]\n\n'
    cfg.write_text(csms_settings + AUDIT_SETTINGS + support.config_toml(
        [acme_identity, pool_identity],
        extra_projects={pool_identity.domain_id: pool_projects["all"]}))
    srv = DewstackServer(base / "data", base / "logs", config=cfg,
                         identity_env=_root_env(root_identity), name="main")
    srv.start()
    yield srv
    srv.stop()


# A whole run (every module, nothing deselected, not stopped early) must have fed the
# registry and the trail this much at least, or the grep would prove little: about half
# of what one full run gave when this was written (476 secrets, 3575 records).
FULL_RUN_MIN_SECRETS = 250
FULL_RUN_MIN_RECORDS = 1800
# Kinds of secret a whole run must have registered: each proves one path of the wiring.
FULL_RUN_KINDS = (
    "a secret key (SK)", "a user's password", "plain_text in a request",
    "plain_text in a response", "message in a request", "secret_string in a request",
    "secret_string in a response", "x-subject-token in a response",
    "encrypted_key_material in a request", "imported key material",
)

_run = {"modules": set(), "deselected": 0}


def pytest_collection_finish(session):
    _run["modules"] = {item.path.name for item in session.items}


def pytest_deselected(items):
    _run["deselected"] += len(items)


def pytest_terminal_summary(terminalreporter):
    if _run.get("summary"):
        terminalreporter.write_line(_run["summary"])


def _whole_run(session) -> bool:
    every = {p.name for p in Path(__file__).parent.glob("test_*.py")}
    return (_run["modules"] >= every and not _run["deselected"]
            and not session.shouldstop and not session.shouldfail)


def _settle(srv: DewstackServer, root: Identity):
    """ListTraces waits until every record queued before it is written (best_effort
    mode writes a batch up to 2 ms late)."""
    if srv.proc is None or srv.proc.poll() is not None:
        return
    query = support.encode_query({"trace_type": "system", "limit": "1"})
    req = support.build_signed(srv.endpoint, root, "GET", f"/v3/{root.project_id}/traces", query)
    r = support.send_raw(srv.endpoint, req)
    assert r.status == 200, r.body


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_audit_trail(request, server, root_identity):
    """After every test: no record of any trail holds a secret the suite used. A hit is
    reported by file, line, trace_name and kind of secret, never by the value."""
    yield
    _settle(server, root_identity)
    shared = support.trail_files(server.data_dir / "audit" / "trail.jsonl")
    records = sum(len(p.read_text(errors="replace").splitlines()) for p in shared)
    problems = []
    if not records:
        problems.append("the shared server's trail holds no record")
    if any(p.name == f"trail.jsonl.{TRAIL_KEEP}" for p in shared):
        problems.append(f"the shared trail rotated {TRAIL_KEEP} times: its oldest records may "
                        "be gone; raise TRAIL_MAX_BYTES")
    files = list(shared)
    for srv in support.SERVERS:
        if srv is not server:
            files += support.trail_files(srv.data_dir / "audit" / "trail.jsonl")
    kinds = support.SECRETS.kinds()
    if _whole_run(request.session):
        if len(support.SECRETS) < FULL_RUN_MIN_SECRETS:
            problems.append(f"only {len(support.SECRETS)} secrets registered in a whole run "
                            f"(at least {FULL_RUN_MIN_SECRETS} expected): is the capture wired?")
        if records < FULL_RUN_MIN_RECORDS:
            problems.append(f"only {records} records in the shared trail of a whole run "
                            f"(at least {FULL_RUN_MIN_RECORDS} expected)")
        missing = [k for k in FULL_RUN_KINDS if not kinds.get(k)]
        if missing:
            problems.append(f"no secret of these kinds registered: {missing}")
    elif len(support.SECRETS) < 6:
        # The three session identities alone give an SK and a password each.
        problems.append(f"only {len(support.SECRETS)} secrets registered")
    for name, line, trace_name, kind in support.SECRETS.find_in(files):
        problems.append(f"{name} line {line} (trace_name {trace_name}) holds {kind}")
    _run["summary"] = (
        f"audit trail check: {len(files)} files, {records} shared records, "
        f"{len(support.SECRETS)} secrets ({support.SECRETS.spellings()} spellings), "
        f"{len(problems)} problems; secrets by kind: "
        + ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())))
    if problems:
        pytest.fail("audit trail check over %d files, %d shared records, %d secrets:\n  %s"
                    % (len(files), records, len(support.SECRETS), "\n  ".join(problems)),
                    pytrace=False)


@pytest.fixture
def make_kms(server):
    """make_kms(identity, project_id=None) -> KmsClient bound to the current endpoint."""

    def _make(ident: Identity, project_id=None):
        return support.kms_client(server.endpoint, ident, project_id)

    return _make


@pytest.fixture
def kms(make_kms, tenant):
    """KMS client of ``tenant`` (fresh project)."""
    return make_kms(tenant)


@pytest.fixture
def acme_kms(make_kms, acme_identity):
    return make_kms(acme_identity)


@pytest.fixture(scope="session")
def acme_user_id(server, acme_identity):
    """alice's IAM user id, as a password token reports it (grants name users by id)."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": acme_identity.user, "password": acme_identity.password,
        "domain": {"name": acme_identity.domain_name}}}},
        "scope": {"project": {"id": acme_identity.project_id}}}}
    req = support.build_signed(server.endpoint, None, "POST", "/v3/auth/tokens", "", body, sign=False)
    r = support.send_raw(server.endpoint, req)
    assert r.status == 201, r.body
    return r.json()["token"]["user"]["id"]


@pytest.fixture
def raw(server):
    """raw(ident, method, path, query="", body=None, **build_kwargs) -> RawResponse.

    ``path`` may contain ``{project_id}``, replaced with the identity's project id.
    Pass ``mutate=callable(RawRequest)`` to tamper with the request after signing.
    """

    def _raw(ident, method, path, query="", body=None, mutate=None, **kw):
        if ident is not None:
            path = path.replace("{project_id}", ident.project_id)
        req = support.build_signed(server.endpoint, ident, method, path, query, body, **kw)
        if mutate:
            mutate(req)
        return support.send_raw(server.endpoint, req)

    return _raw


@pytest.fixture
def restart_server(server):
    """Restart the session server on the same data dir; returns the old exit code."""

    def _restart():
        return server.restart()

    return _restart


@pytest.fixture
def create_key(kms):
    """create_key(client=None, **fields) -> key_id, with the ``tenant`` client by default."""
    from huaweicloudsdkkms.v2 import CreateKeyRequest, CreateKeyRequestBody

    def _create(client=None, **fields):
        fields.setdefault("key_alias", support.unique("key"))
        body = CreateKeyRequestBody(**fields)
        resp = (client or kms).create_key(CreateKeyRequest(body=body))
        assert resp.key_info is not None and resp.key_info.key_id, resp
        return resp.key_info.key_id

    return _create


@pytest.fixture
def describe(kms):
    from huaweicloudsdkkms.v2 import ListKeyDetailRequest, OperateKeyRequestBody

    def _describe(key_id, client=None):
        return (client or kms).list_key_detail(
            ListKeyDetailRequest(body=OperateKeyRequestBody(key_id=key_id))).key_info

    return _describe
