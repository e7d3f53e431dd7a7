"""pytest fixtures for the dewstack conformance suite.

One dewstack server is started per test session (binary from $DEWSTACK_BIN, default
target/release/dewstack) on a temporary data dir, with:

* a root identity passed through DEWSTACK_* env vars, and
* a second tenant "acme" (own domain, project, user, AK/SK) declared in a TOML config file.

Clients are built per test from ``server.endpoint`` so that tests that restart the server
(persistence) do not break later tests even though the port changes.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

import support
from support import DewstackServer, Identity

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


@pytest.fixture(scope="session")
def server(tmp_path_factory, root_identity, acme_identity, pool_identity, pool_projects):
    base = tmp_path_factory.mktemp("dewstack")
    cfg = base / "dewstack.toml"
    # CSMS: sweep every second (version expiries, scheduled deletions) and allow event
    # notifications to be POSTed to local test receivers.
    csms_settings = 'sweep_interval_secs = 1\nnotification_urls = ["http://127.0.0.1:"]\n\n'
    cfg.write_text(csms_settings + support.config_toml(
        [acme_identity, pool_identity],
        extra_projects={pool_identity.domain_id: pool_projects["all"]}))
    srv = DewstackServer(base / "data", base / "logs", config=cfg,
                         identity_env=_root_env(root_identity), name="main")
    srv.start()
    yield srv
    srv.stop()


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
