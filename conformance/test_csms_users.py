"""CSMS users through the official SDK: ListUsers, ShowUserDetail and UpdateUserPassword
(docs/csms.md, "Users"): dewstack's own directory, the caller's domain only; a changed
password holds for POST /v3/auth/tokens at once and after a restart."""

from __future__ import annotations

from huaweicloudsdkcsms.v1 import *  # noqa: F401,F403  (request/model classes)

import support
from csms_helpers import *  # noqa: F401,F403  (codes, wrappers, fixtures make_csms/csms)
from csms_helpers import csms, make_csms  # noqa: F401  (fixtures)
from test_iam_auth import get_token

BAD_BODY = "CSMS.0004"


def token_status(server, ident, password):
    return get_token(server, ident, password=password).status


def user_id_of(server, ident):
    r = get_token(server, ident)
    assert r.status == 201, r.body
    return r.json()["token"]["user"]["id"]


def test_list_and_show_users_of_the_callers_domain(csms, make_csms, server, pool_identity,
                                                   acme_identity, acme_user_id):
    me = user_id_of(server, pool_identity)
    r = csms.list_users(ListUsersRequest(offset=0, limit=10))
    assert r.total == 1 and [u.user_name for u in r.users] == [pool_identity.user]
    u = r.users[0]
    assert (u.user_id, u.org_id, u.locked) == (me, pool_identity.domain_id, "false")
    assert [(o.org_id, o.relation_type) for o in u.user_org_relation_list] == [(pool_identity.domain_id, "MAIN")]
    # Fuzzy name search, the domain as the one organization, pages.
    assert csms.list_users(ListUsersRequest(offset=0, limit=10, user_info="POOL")).total == 1
    assert csms.list_users(ListUsersRequest(offset=0, limit=10, user_info="nobody")).total == 0
    assert csms.list_users(ListUsersRequest(offset=0, limit=10, org_id=pool_identity.domain_id)).total == 1
    assert csms.list_users(ListUsersRequest(offset=0, limit=10, org_id=acme_identity.domain_id)).total == 0
    second = csms.list_users(ListUsersRequest(offset=1, limit=10))
    assert (second.total, second.users) == (1, [])
    d = csms.show_user_detail(ShowUserDetailRequest(user_id=me))
    assert (d.user_id, d.user_name, d.domain_id, d.disabled, d.pwd_must_modify) == (
        me, pool_identity.user, pool_identity.domain_id, False, False)
    # Another domain's user does not exist for this caller.
    err(lambda: csms.show_user_detail(ShowUserDetailRequest(user_id=acme_user_id)), 404, NOT_FOUND)
    assert [u.user_name for u in make_csms(acme_identity).list_users(
        ListUsersRequest(offset=0, limit=100)).users] == [acme_identity.user]
    for bad in (dict(offset=0, limit=9), dict(offset=0, limit=101), dict(offset=-1, limit=10),
                dict(limit=10), dict(offset=0), dict(offset=0, limit=10, user_info="x" * 65)):
        err(lambda: csms.list_users(ListUsersRequest(**bad)), 400, INVALID)


def test_password_change_holds_for_tokens_and_survives_restart(make_csms, server, pool_identity,
                                                               restart_server, tenant, raw):
    c = make_csms(tenant)
    old, new = pool_identity.password, "New-pass-" + support.gen_hex32()[:10]
    me = user_id_of(server, pool_identity)
    # Refused: wrong old password, policy (length, one kind only), unchanged, missing.
    for old_pw, new_pw in ((old + "x", new), (old, "Ab1"), (old, "lowercaseonly"), (old, old),
                           (old, None), (None, new)):
        err(lambda: c.update_user_password(UpdateUserPasswordRequest(body=ChangeUsersPassword(
            password=new_pw, old_password=old_pw))), 400, INVALID)
    r = raw(tenant, "POST", "/v1/csms/users/change-password", body=b"{oops")
    assert r.status == 400 and r.json()["error"]["error_code"] == BAD_BODY
    assert token_status(server, pool_identity, old) == 201
    try:
        r = c.update_user_password(UpdateUserPasswordRequest(body=ChangeUsersPassword(
            password=new, old_password=old)))
        assert r.user_id == me
        assert token_status(server, pool_identity, new) == 201
        assert token_status(server, pool_identity, old) == 401
        assert c.show_user_detail(ShowUserDetailRequest(user_id=me)).pwd_change_at
        restart_server()
        assert token_status(server, pool_identity, new) == 201
        c = make_csms(tenant)
        # The password never reaches the log.
        assert new not in server.stderr_tail(200000)
    finally:
        make_csms(tenant).update_user_password(UpdateUserPasswordRequest(body=ChangeUsersPassword(
            password=old, old_password=new)))
    assert token_status(server, pool_identity, old) == 201
