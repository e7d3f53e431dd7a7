"""ShowSecretFunctionTemplates through the official SDK: the cloud's choices of
secret type, rotation account type and engine, each answering dewstack's own
rotation function template (valid Python speaking docs/rotation.md's steps),
and the cloud's refusals in the CSMS envelope."""

from __future__ import annotations

from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

from csms_helpers import *  # noqa: F401,F403  (codes, wrappers, fixtures make_csms/csms)
from csms_helpers import csms, make_csms  # noqa: F401  (fixtures)


def template(c, secret_type, sub_type, engine=None):
    r = c.show_secret_function_templates(ShowSecretFunctionTemplatesRequest(
        secret_type=secret_type, secret_sub_type=sub_type, engine=engine))
    return r.function_templates


def test_every_documented_choice_has_a_working_template(csms):
    seen = set()
    choices = [("RDS-FG", s, e) for s in ("SingleUser", "MultiUser") for e in ("mysql", "postgresql", "sqlserver")]
    choices += [("GaussDB-FG", s, None) for s in ("SingleUser", "MultiUser")]
    for secret_type, sub_type, engine in choices:
        text = template(csms, secret_type, sub_type, engine)
        assert isinstance(text, str)
        compile(text, f"{secret_type}-{sub_type}-{engine}.py", "exec")
        assert f"{secret_type} / {engine or 'taurusdb'} / {sub_type}" in text
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            assert f'"{step}"' in text
        seen.add(text)
    assert len(seen) == len(choices)
    assert "_clone" in template(csms, "RDS-FG", "MultiUser", "mysql")
    assert "psycopg2" in template(csms, "RDS-FG", "SingleUser", "postgresql")


def test_undocumented_choices_are_refused(csms, raw, tenant):
    err(lambda: template(csms, None, "SingleUser", "mysql"), 400, INVALID)
    err(lambda: template(csms, "COMMON", "SingleUser"), 400, INVALID)
    err(lambda: template(csms, "RDS-FG", "TripleUser", "mysql"), 400, INVALID)
    err(lambda: template(csms, "RDS-FG", None, "mysql"), 400, INVALID)
    err(lambda: template(csms, "RDS-FG", "SingleUser"), 400, INVALID)
    err(lambda: template(csms, "RDS-FG", "SingleUser", "oracle"), 400, INVALID)
    err(lambda: template(csms, "GaussDB-FG", "SingleUser", "mysql"), 400, INVALID)
    r = raw(tenant, "GET", "/v1/csms/function-templates", query="secret_type=RDS-FG&secret_type=GaussDB-FG")
    assert r.status == 400 and r.json()["error"]["error_code"].startswith("CSMS."), r.body
    # Unsigned: refused before any template is chosen.
    r = raw(None, "GET", "/v1/csms/function-templates", query="secret_type=RDS-FG&secret_sub_type=SingleUser&engine=mysql")
    assert r.status == 401, r.body
