"""CSMS grants through the official SDK: CreateGrants, ListGrants, UpdateGrant and
DeleteGrant, and what a grant lets its grantee read (docs/csms.md, "Grants").

The owner is a pool project; the grantee is alice of the acme domain, who reads the
granted secret from her own project by the secret's id."""

from __future__ import annotations

import datetime
import time

from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

import support
from csms_helpers import *  # noqa: F401,F403  (codes, wrappers, fixtures make_csms/csms)
from csms_helpers import csms, make_csms  # noqa: F401  (fixtures)

BAD_BODY = "CSMS.0004"
GRANT_QUOTA = "CSMS.9005"


def grant(c, resource_id, grantee, validity=None, **over):
    fields = dict(resource_id=resource_id, type="SECRET", grantee_type="0",
                  grantee_target_id=grantee, validity_time=validity)
    fields.update(over)
    return c.create_grants(CreateGrantsRequest(body=GrantSecretReqBody(**fields))).data


def grantees(c, resource_id):
    return {u.user_id: u for u in c.list_grants(ListGrantsRequest(resource_id=resource_id)).data.grantee_user}


def reads(c, secret_id):
    """Everything a grant allows, as the grantee calls it."""
    shown = show_secret(c, secret_id)
    value = show_version(c, secret_id).secret_string
    versions = c.list_secret_versions(ListSecretVersionsRequest(secret_name=secret_id)).version_metadatas
    stage = c.show_secret_stage(ShowSecretStageRequest(secret_name=secret_id, stage_name="SYSCURRENT")).stage
    return shown.name, value, [v.id for v in versions], stage.version_id


def test_grant_lets_the_grantee_read_that_secret_and_nothing_else(csms, make_csms, acme_identity, acme_user_id):
    alice = make_csms(acme_identity)
    s = create_secret(csms, name=support.unique("shared"), secret_string="s3cret")
    other = create_secret(csms, name=support.unique("private"))
    err(lambda: show_secret(alice, s.id), 404, SECRET_NOT_FOUND)

    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    g = grant(csms, s.id, acme_user_id, tomorrow)
    assert (g.resource_id, g.type, g.grantee_user, g.state) == (s.id, "SECRET", acme_user_id, 0)
    assert g.uuid and g.validity_time > time.time() * 1000 and g.create_time == g.update_time
    assert reads(alice, s.id) == (s.name, "s3cret", ["v1"], "v1")
    listed = csms.list_grants(ListGrantsRequest(resource_id=s.id)).data
    assert (listed.id, listed.name, listed.type) == (s.id, s.name, "SECRET")
    assert [(u.user_id, u.user_name, u.validity_time) for u in listed.grantee_user] == [
        (acme_user_id, acme_identity.user, g.validity_time)]

    # Reading only: every change, and every other secret, stays out of reach.
    err(lambda: show_secret(alice, other.id), 404, SECRET_NOT_FOUND)
    err(lambda: show_secret(alice, s.name), 404, SECRET_NOT_FOUND)
    err(lambda: add_version(alice, s.id, "mine"), 404, SECRET_NOT_FOUND)
    err(lambda: alice.update_secret(UpdateSecretRequest(secret_name=s.id, body=UpdateSecretRequestBody(
        description="x"))), 404, SECRET_NOT_FOUND)
    err(lambda: alice.delete_secret(DeleteSecretRequest(secret_name=s.id)), 404, SECRET_NOT_FOUND)
    err(lambda: alice.list_grants(ListGrantsRequest(resource_id=s.id)), 404, SECRET_NOT_FOUND)
    err(lambda: grant(alice, s.id, acme_user_id), 404, SECRET_NOT_FOUND)
    assert s.name not in [x.name for x in alice.list_secrets(ListSecretsRequest()).secrets]

    # Granting again keeps the grant and moves its end; DeleteGrant takes it away.
    again = grant(csms, s.id, acme_user_id)
    assert again.uuid == g.uuid and again.validity_time is None
    csms.delete_grant(DeleteGrantRequest(resource_id=s.id, grantee_user=acme_user_id))
    err(lambda: show_version(alice, s.id), 404, SECRET_NOT_FOUND)
    assert grantees(csms, s.id) == {}
    err(lambda: csms.delete_grant(DeleteGrantRequest(resource_id=s.id, grantee_user=acme_user_id)),
        404, NOT_FOUND)


def test_a_grant_ends_at_its_validity_time_and_update_moves_it(csms, make_csms, acme_identity, acme_user_id):
    alice = make_csms(acme_identity)
    s = create_secret(csms, name=support.unique("brief"))
    end = int(time.time() * 1000) + 2500
    grant(csms, s.id, acme_user_id, str(end))
    assert show_secret(alice, s.id).id == s.id
    time.sleep(3)
    err(lambda: show_secret(alice, s.id), 404, SECRET_NOT_FOUND)
    # Still listed (state 1: expired) until the owner moves its end.
    assert grantees(csms, s.id)[acme_user_id].validity_time == end
    later = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    up = csms.update_grant(UpdateGrantRequest(resource_id=s.id, body=GrantSecretReqBody(
        grantee_target_id=acme_user_id, validity_time=later))).data
    assert up.state == 0 and up.validity_time > end and up.update_time >= up.create_time
    assert show_version(alice, s.id).secret_string == "value-1"
    err(lambda: csms.update_grant(UpdateGrantRequest(resource_id=s.id, body=GrantSecretReqBody(
        grantee_target_id="0" * 32, validity_time=later))), 404, NOT_FOUND)
    # DeleteGrant without a grantee revokes every grant of the secret.
    csms.delete_grant(DeleteGrantRequest(resource_id=s.id))
    err(lambda: show_secret(alice, s.id), 404, SECRET_NOT_FOUND)


def test_grants_go_with_their_secret(csms, make_csms, acme_identity, acme_user_id):
    alice = make_csms(acme_identity)
    s = create_secret(csms, name=support.unique("doomed"))
    grant(csms, s.id, acme_user_id)
    csms.delete_secret(DeleteSecretRequest(secret_name=s.name))
    again = create_secret(csms, name=s.name)
    err(lambda: show_secret(alice, s.id), 404, SECRET_NOT_FOUND)
    err(lambda: show_secret(alice, again.id), 404, SECRET_NOT_FOUND)
    assert grantees(csms, again.id) == {}


def test_grant_input_is_checked(csms, make_csms, acme_user_id, tenant, raw, pool_identity, pool_projects):
    s = create_secret(csms, name=support.unique("checked"))
    err(lambda: grant(csms, s.id, acme_user_id, grantee_type="2"), 400, INVALID)
    err(lambda: grant(csms, s.id, acme_user_id, grantee_type="7"), 400, INVALID)
    err(lambda: grant(csms, s.id, acme_user_id, type="GROUP"), 400, INVALID)
    err(lambda: grant(csms, s.id, acme_user_id, validity="2001-01-01"), 400, INVALID)
    err(lambda: grant(csms, s.id, acme_user_id, validity="soon"), 400, INVALID)
    err(lambda: grant(csms, s.id, "f" * 32), 400, NOT_FOUND)
    err(lambda: grant(csms, s.id, "a/b"), 400, INVALID)
    err(lambda: grant(csms, None, acme_user_id), 400, INVALID)
    err(lambda: grant(csms, support.rand_uuid(), acme_user_id), 404, SECRET_NOT_FOUND)
    err(lambda: csms.list_grants(ListGrantsRequest()), 400, INVALID)
    # Another project's secret cannot be granted, listed or revoked (a fresh pool
    # project: the acme project must keep no CSMS key, test_iam_auth counts its keys).
    other_project, _ = next(pool_projects["next"])
    other = make_csms(pool_identity, other_project)
    theirs = create_secret(other, name=support.unique("other"))
    err(lambda: grant(csms, theirs.id, acme_user_id), 404, SECRET_NOT_FOUND)
    err(lambda: csms.list_grants(ListGrantsRequest(resource_id=theirs.id)), 404, SECRET_NOT_FOUND)
    err(lambda: csms.delete_grant(DeleteGrantRequest(resource_id=theirs.id)), 404, SECRET_NOT_FOUND)
    other.delete_secret(DeleteSecretRequest(secret_name=theirs.name))
    # Malformed bodies answer in the CSMS envelope.
    for body in (b"{not json", b'{"resource_id": 5}', b"[]"):
        r = raw(tenant, "POST", "/v1/{project_id}/csms/grants", body=body)
        assert r.status == 400 and r.json()["error"]["error_code"] == BAD_BODY, r.body
