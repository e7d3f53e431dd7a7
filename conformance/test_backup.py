"""`dewstack backup` while serving, `dewstack restore` into a fresh data dir, then the
restored dewstack decrypts old ciphertexts and reads old secret values (docs/operations.md)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess

from huaweicloudsdkcsms.v1 import CreateSecretRequest, CreateSecretRequestBody, ShowSecretVersionRequest
from huaweicloudsdkkms.v2 import (CreateKeyRequest, CreateKeyRequestBody, DecryptDataRequest,
                                  DecryptDataRequestBody, EncryptDataRequest, EncryptDataRequestBody)

import support
from csms_helpers import csms_client
from test_ops import _root_env


def _cmd(*args, env=None):
    # The servers here keep their state in their data dirs (shared_database=False),
    # so the commands must not pick up the PostgreSQL pass's DEWSTACK_DATABASE_URL.
    if env is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEWSTACK_")}
    return subprocess.run([str(support.dewstack_bin()), *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_backup_while_serving_restores_into_a_fresh_dir(tmp_path):
    root = support.new_identity(user="backup-root")
    tenant = support.new_identity(domain_name="backupco", user="bob")
    cfg = tmp_path / "dewstack.toml"
    cfg.write_text(support.config_toml([tenant]))
    env = _root_env(root)
    a = support.DewstackServer(tmp_path / "a", tmp_path / "logs-a", config=cfg, identity_env=env,
                               name="backup-a", shared_database=False)
    a.start()
    try:
        kms = support.kms_client(a.endpoint, tenant)
        key_id = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(
            key_alias=support.unique("bk")))).key_info.key_id
        plain = "BACKUP-PLAINTEXT-" + support.gen_hex32()
        blob = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
            key_id=key_id, plain_text=plain))).cipher_text
        value = "BACKUP-SECRET-" + support.gen_hex32()
        name = support.unique("bk-secret")
        csms_client(a.endpoint, tenant).create_secret(CreateSecretRequest(
            body=CreateSecretRequestBody(name=name, secret_string=value)))
        out = tmp_path / "state.backup"
        r = _cmd("backup", "--data-dir", str(a.data_dir), "--out", str(out))
        assert r.returncode == 0, r.stderr
    finally:
        a.stop()

    text = out.read_text()
    for s in [plain, base64.b64encode(plain.encode()).decode(), value, root.sk, tenant.sk]:
        assert s not in text, "a secret reached the backup"

    b_dir = tmp_path / "b"
    r = _cmd("restore", "--data-dir", str(b_dir), "--in", str(out))
    assert r.returncode == 0, r.stderr
    again = _cmd("restore", "--data-dir", str(b_dir), "--in", str(out))
    assert again.returncode != 0 and "--force" in again.stderr, again.stderr
    # The root key travels apart from the backup (docs/operations.md).
    shutil.copy(a.data_dir / "root.key", b_dir / "root.key")
    b = support.DewstackServer(b_dir, tmp_path / "logs-b", config=cfg, identity_env=env,
                               name="backup-b", shared_database=False)
    b.start()
    try:
        kms = support.kms_client(b.endpoint, tenant)
        got = kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(cipher_text=blob)))
        assert got.plain_text == plain and got.key_id == key_id
        v = csms_client(b.endpoint, tenant).show_secret_version(
            ShowSecretVersionRequest(secret_name=name, version_id="latest"))
        assert v.version.secret_string == value
    finally:
        b.stop()


def test_check_prints_every_problem_with_its_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('listen = "127.0.0.1:0"\n[audit]\nsinc = "file"\n[limits]\nmax_body_bytes = "big"\n')
    r = _cmd("check", "--config", str(bad))
    assert r.returncode != 0
    assert "line 3:" in r.stderr and "sinc" in r.stderr, r.stderr
    assert "line 5:" in r.stderr and "max_body_bytes" in r.stderr, r.stderr
    good = tmp_path / "good.toml"
    good.write_text('listen = "127.0.0.1:0"\n[audit]\nsink = "stdout"\n')
    r = _cmd("check", "--config", str(good))
    assert r.returncode == 0, r.stderr
