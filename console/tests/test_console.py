"""The web console in a real browser (Debian's Chromium through Playwright).

Each flow is done by clicking in the page and then checked through the
official SDKs, so a console that only looked right would fail.
"""

from __future__ import annotations

import re
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect

import support
from conftest import PAGING_PROJECT

from huaweicloudsdkkms.v2 import (CreateKeyRequest, CreateKeyRequestBody, ListKeyDetailRequest,
                                  OperateKeyRequestBody)


def csms(server, ident, project_id=None):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcsms.v1 import CsmsClient

    creds = BasicCredentials(ident.ak, ident.sk, project_id or ident.project_id)
    return (CsmsClient.new_builder().with_http_config(support.http_config())
            .with_credentials(creds).with_endpoints([server.endpoint]).build())


def vpcep(server, ident):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkvpcep.v1 import VpcepClient

    creds = BasicCredentials(ident.ak, ident.sk, ident.project_id)
    return (VpcepClient.new_builder().with_http_config(support.http_config())
            .with_credentials(creds).with_endpoints([server.endpoint]).build())


def key_state(server, ident, key_id):
    kms = support.kms_client(server.endpoint, ident)
    return kms.list_key_detail(ListKeyDetailRequest(body=OperateKeyRequestBody(key_id=key_id))).key_info.key_state


def sign_in(page, ident, project=None):
    page.get_by_label("Domain name").fill(ident.domain_name)
    page.get_by_label("User name").fill(ident.user)
    page.get_by_label("Password").fill(ident.password)
    page.get_by_label("Project (name or id)").fill(project or ident.project_name)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def form(page, name):
    return page.get_by_role("form", name=name, exact=True)


def error_box(page):
    return page.get_by_role("alert")


def test_pages_carry_a_strict_policy(server):
    for path in ("/console/", "/console/app.js", "/console/style.css"):
        with urllib.request.urlopen(f"{server.endpoint}{path}") as r:
            csp = r.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
            assert "unsafe-inline" not in csp
            assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_the_banner_says_where_and_how_to_sign_in(browser, server):
    """What a new user does: open the URL the banner prints, type what it prints."""
    text = server.stdout_path.read_text()
    url = re.search(r"^  console +(\S+)$", text, re.M).group(1)
    creds = re.search(r"^ +sign in: domain (\S+), user (\S+), password (\S+), project (\S+)$", text, re.M)
    assert creds, text
    pg = browser.new_page()
    try:
        pg.goto(url)
        for label, value in zip(["Domain name", "User name", "Password", "Project (name or id)"], creds.groups()):
            pg.get_by_label(label).fill(value)
        pg.get_by_role("button", name="Sign in").click()
        expect(pg.get_by_role("button", name="Sign out")).to_be_visible()
        expect(pg.get_by_role("table", name="Keys")).to_be_visible()
    finally:
        pg.close()


def test_wrong_password_shows_the_api_error(page, alice, shots):
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    page.screenshot(path=str(shots / "sign-in.png"), full_page=True)
    page.get_by_label("Domain name").fill(alice.domain_name)
    page.get_by_label("User name").fill(alice.user)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_label("Project (name or id)").fill(alice.project_name)
    page.get_by_role("button", name="Sign in").click()
    expect(error_box(page)).to_contain_text("The username or password is wrong.")
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()


def test_key_lifecycle_and_crypto(page, server, alice, shots):
    sign_in(page, alice)
    alias = f"console-{uuid.uuid4().hex[:8]}"
    create = form(page, "Create key")
    create.get_by_label("Alias").fill(alias)
    create.get_by_label("Description").fill("made in the browser")
    create.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name=f"Key {alias}")).to_be_visible()
    key_id = page.locator(".facts dd").first.inner_text()
    assert key_state(server, alice, key_id) == "2"
    expect(page.get_by_role("table", name="Keys")).to_contain_text(alias)

    page.get_by_role("button", name="Disable", exact=True).click()
    expect(page.get_by_role("button", name="Enable", exact=True)).to_be_visible()
    assert key_state(server, alice, key_id) == "3"
    page.get_by_role("button", name="Enable", exact=True).click()
    expect(page.get_by_role("button", name="Disable", exact=True)).to_be_visible()
    assert key_state(server, alice, key_id) == "2"

    sched = form(page, "Schedule deletion")
    sched.get_by_label("Pending days (7 to 1096)").fill("9")
    sched.get_by_role("button", name="Schedule deletion").click()
    expect(page.get_by_role("button", name="Cancel deletion")).to_be_visible()
    assert key_state(server, alice, key_id) == "4"
    page.get_by_role("button", name="Cancel deletion").click()
    expect(page.get_by_role("button", name="Enable", exact=True)).to_be_visible()
    assert key_state(server, alice, key_id) == "3"
    page.get_by_role("button", name="Enable", exact=True).click()
    expect(page.get_by_role("button", name="Disable", exact=True)).to_be_visible()

    plaintext = "a text that is never stored"
    form(page, "Encrypt a text").get_by_label("Plaintext").fill(plaintext)
    form(page, "Encrypt a text").get_by_role("button", name="Encrypt").click()
    cipher = form(page, "Decrypt a text").get_by_label("Ciphertext")
    expect(cipher).not_to_have_value("")
    assert plaintext not in cipher.input_value()
    form(page, "Decrypt a text").get_by_role("button", name="Decrypt").click()
    expect(page.locator("output.result")).to_have_text(plaintext)

    tags = form(page, "Add tag")
    tags.get_by_label("Tag key").fill("team")
    tags.get_by_label("Tag value").fill("blue")
    tags.get_by_role("button", name="Add tag").click()
    expect(page.get_by_role("table", name="Tags")).to_contain_text("blue")
    expect(page.get_by_role("table", name="Keys")).to_contain_text("team=blue")
    page.screenshot(path=str(shots / "kms.png"), full_page=True)

    # The same alias again: the API's own error code and message on the page.
    create.get_by_label("Alias").fill(alias)
    create.get_by_role("button", name="Create key").click()
    expect(error_box(page)).to_contain_text("KMS.1104")
    assert error_box(page).locator(".msg").inner_text().strip()


def test_secret_versions_reveal_stage_and_deletion(page, server, alice, shots):
    sign_in(page, alice)
    page.get_by_role("link", name="CSMS secrets").click()
    name = f"console-{uuid.uuid4().hex[:8]}"
    create = form(page, "Create secret")
    create.get_by_label("Name").fill(name)
    create.get_by_label("Value").fill("first-value")
    create.get_by_role("button", name="Create secret").click()
    expect(page.get_by_role("heading", name=f"Secret {name}")).to_be_visible()
    # Nothing of the value is on the page until asked for.
    expect(page.get_by_text("first-value")).to_have_count(0)

    add = form(page, "Add version")
    add.get_by_label("New value").fill("second-value")
    add.get_by_role("button", name="Add version").click()
    versions = page.get_by_role("table", name="Versions")
    expect(versions.locator("tbody tr")).to_have_count(2)

    from huaweicloudsdkcsms.v1 import ListSecretVersionsRequest
    client = csms(server, alice)
    metas = client.list_secret_versions(ListSecretVersionsRequest(secret_name=name)).version_metadatas
    by_stage = {s: m.id for m in metas for s in (m.version_stages or [])}
    assert set(by_stage) >= {"SYSCURRENT", "SYSPREVIOUS"}, by_stage
    current, previous = by_stage["SYSCURRENT"], by_stage["SYSPREVIOUS"]

    page.get_by_role("button", name=f"Reveal {current}", exact=True).click()
    expect(versions).to_contain_text("second-value")
    page.get_by_role("button", name=f"Hide {current}", exact=True).click()
    expect(page.get_by_text("second-value")).to_have_count(0)

    move = form(page, "Move a stage")
    move.get_by_label("Stage name").fill("SYSCURRENT")
    move.get_by_label("To version id").fill(previous)
    move.get_by_role("button", name="Move stage").click()
    expect(page.locator("#notice")).to_contain_text("Stage SYSCURRENT moved.")
    from huaweicloudsdkcsms.v1 import ShowSecretStageRequest
    stage = client.show_secret_stage(ShowSecretStageRequest(secret_name=name, stage_name="SYSCURRENT"))
    assert stage.stage.version_id == previous
    page.screenshot(path=str(shots / "csms.png"), full_page=True)

    sched = form(page, "Schedule deletion")
    sched.get_by_label("Recovery window (7 to 30 days)").fill("7")
    sched.get_by_role("button", name="Schedule deletion").click()
    expect(page.get_by_role("button", name="Restore secret")).to_be_visible()
    from huaweicloudsdkcsms.v1 import ShowSecretRequest
    assert client.show_secret(ShowSecretRequest(secret_name=name)).secret.state == "PENDING_DELETE"
    page.get_by_role("button", name="Restore secret").click()
    expect(form(page, "Schedule deletion")).to_be_visible()
    assert client.show_secret(ShowSecretRequest(secret_name=name)).secret.state == "ENABLED"


def test_accept_an_endpoint_connection(page, server, alice, bob, shots):
    from huaweicloudsdkvpcep.v1 import (AddOrRemoveServicePermissionsRequest,
                                        AddOrRemoveServicePermissionsRequestBody, CreateEndpointRequest,
                                        CreateEndpointRequestBody, CreateEndpointServiceRequest,
                                        CreateEndpointServiceRequestBody, ListEndpointInfoDetailsRequest,
                                        PortList)
    provider, consumer = vpcep(server, alice), vpcep(server, bob)
    svc = provider.create_endpoint_service(CreateEndpointServiceRequest(body=CreateEndpointServiceRequestBody(
        server_type="VM", vpc_id=str(uuid.uuid4()), port_id=str(uuid.uuid4()), approval_enabled=True,
        ports=[PortList(client_port=8080, server_port=80, protocol="TCP")])))
    provider.add_or_remove_service_permissions(AddOrRemoveServicePermissionsRequest(
        vpc_endpoint_service_id=svc.id, body=AddOrRemoveServicePermissionsRequestBody(
            permissions=[f"iam:domain::{bob.domain_id}"], action="add")))
    ep = consumer.create_endpoint(CreateEndpointRequest(body=CreateEndpointRequestBody(
        endpoint_service_id=svc.id, vpc_id=str(uuid.uuid4()), subnet_id=str(uuid.uuid4()))))
    shown = consumer.list_endpoint_info_details(ListEndpointInfoDetailsRequest(vpc_endpoint_id=ep.id))
    assert shown.status == "pendingAcceptance"

    sign_in(page, alice)
    page.get_by_role("link", name="VPC endpoints").click()
    page.get_by_role("button", name=svc.service_name).click()
    conns = page.get_by_role("table", name="Connections")
    expect(conns).to_contain_text("pendingAcceptance")
    expect(page.get_by_role("table", name="Permissions")).to_contain_text(bob.domain_id)
    # A pending connection is not counted; the accepted one is, and the
    # services list is read again after the accept to show it.
    row = page.get_by_role("table", name="Endpoint services").get_by_role("row").filter(
        has_text=svc.service_name)
    expect(row.get_by_role("cell").nth(4)).to_have_text("0")
    page.get_by_role("button", name=f"Accept {ep.id}").click()
    expect(conns).to_contain_text("accepted")
    expect(row.get_by_role("cell").nth(4)).to_have_text("1")
    status = consumer.list_endpoint_info_details(ListEndpointInfoDetailsRequest(vpc_endpoint_id=ep.id)).status
    assert status == "accepted"
    page.screenshot(path=str(shots / "vpcep.png"), full_page=True)


def test_another_domain_sees_none_of_it(page, server, alice, bob):
    """alice's key, secret, endpoint service and endpoint (made here, so the
    test stands alone): alice's console shows each of them and the key's
    CreateKey in her trail; bob's console, of another domain, shows none of
    them in the same views."""
    from huaweicloudsdkcsms.v1 import CreateSecretRequest, CreateSecretRequestBody
    from huaweicloudsdkvpcep.v1 import (CreateEndpointRequest, CreateEndpointRequestBody,
                                        CreateEndpointServiceRequest, CreateEndpointServiceRequestBody,
                                        PortList)
    alias, secret = support.unique("private"), support.unique("private")
    kid = support.kms_client(server.endpoint, alice).create_key(
        CreateKeyRequest(body=CreateKeyRequestBody(key_alias=alias))).key_info.key_id
    csms(server, alice).create_secret(CreateSecretRequest(body=CreateSecretRequestBody(
        name=secret, secret_string="alice-only")))
    provider = vpcep(server, alice)
    svc = provider.create_endpoint_service(CreateEndpointServiceRequest(body=CreateEndpointServiceRequestBody(
        server_type="VM", vpc_id=str(uuid.uuid4()), port_id=str(uuid.uuid4()), approval_enabled=False,
        ports=[PortList(client_port=8443, server_port=443, protocol="TCP")])))
    ep = provider.create_endpoint(CreateEndpointRequest(body=CreateEndpointRequestBody(
        endpoint_service_id=svc.id, vpc_id=str(uuid.uuid4()), subnet_id=str(uuid.uuid4()))))

    def views(who):
        """The console's lists as `who` sees them, each once it has loaded."""
        sign_in(page, who)
        # Signing in reopens the view in the URL (the trail, after the first round).
        page.get_by_role("link", name="KMS keys").click()
        expect(page.get_by_role("table", name="Keys")).to_be_visible()
        seen = {"keys": page.get_by_role("table", name="Keys").inner_text()}
        page.get_by_role("link", name="CSMS secrets").click()
        expect(page.get_by_role("table", name="Secrets")).to_be_visible()
        seen["secrets"] = page.get_by_role("table", name="Secrets").inner_text()
        page.get_by_role("link", name="VPC endpoints").click()
        expect(page.get_by_role("table", name="Endpoint services")).to_be_visible()
        expect(page.get_by_role("table", name="Endpoints")).to_be_visible()
        seen["services"] = page.get_by_role("table", name="Endpoint services").inner_text()
        seen["endpoints"] = page.get_by_role("table", name="Endpoints").inner_text()
        page.get_by_role("link", name="Audit trail").click()
        trail = page.get_by_role("table", name="Audit records (last 7 days)")
        expect(trail).to_be_visible()
        seen["trail"] = trail.inner_text()
        f = form(page, "Filter")
        f.get_by_label("Resource id").fill(kid)
        unfiltered = trail.element_handle()
        f.get_by_role("button", name="Apply").click()
        # Apply replaces the table: read the filtered one, not the old one.
        unfiltered.wait_for_element_state("hidden")
        expect(trail).to_be_visible()
        seen["trail of the key"] = trail.inner_text()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("form", name="Sign in")).to_be_visible()
        return seen

    # First alice, so bob's empty answers cannot come from records not yet written.
    mine = views(alice)
    assert alias in mine["keys"], mine["keys"]
    assert secret in mine["secrets"], mine["secrets"]
    assert svc.service_name in mine["services"], mine["services"]
    assert ep.id in mine["endpoints"], mine["endpoints"]
    assert "CreateKey" in mine["trail of the key"], mine["trail of the key"]
    assert alias in mine["trail"] or kid in mine["trail"], mine["trail"]

    theirs = views(bob)
    for name, text in theirs.items():
        for mark in (alias, kid, secret, svc.id, svc.service_name, ep.id, alice.user):
            assert mark not in text, (name, mark, text)
    assert "CreateKey" not in theirs["trail of the key"], theirs["trail of the key"]
    assert "None" in theirs["trail of the key"], theirs["trail of the key"]
    assert "None" in theirs["services"], theirs["services"]


def test_hundreds_of_resources_page(page, server, alice, shots):
    pid, pname = PAGING_PROJECT
    kms = support.kms_client(server.endpoint, alice, pid)
    # 100 is KMS's per-project key quota (KMS.1105).
    for i in range(100):
        kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=f"bulk-{i:03d}")))
    from huaweicloudsdkcsms.v1 import CreateSecretRequest, CreateSecretRequestBody
    client = csms(server, alice, pid)
    for i in range(250):
        client.create_secret(CreateSecretRequest(body=CreateSecretRequestBody(
            name=f"bulk-{i:03d}", secret_string="x")))

    sign_in(page, alice, pname)
    seen, pages = set(), 0
    keys = page.get_by_role("table", name="Keys")
    nxt = page.get_by_role("button", name="Next page")
    while True:
        pages += 1
        expect(page.get_by_text(f"Page {pages}", exact=True)).to_be_visible()
        found = re.findall(r"bulk-\d{3}|kms/default", keys.inner_text())
        assert 0 < len(found) <= 20, found
        seen |= set(found)
        if nxt.is_disabled():
            break
        assert len(found) == 20, found
        nxt.click()
    # The 100 keys and the project's default key, 20 to a page.
    assert len(seen) == 101 and pages == 6, (len(seen), pages)
    page.get_by_role("button", name="Previous page").click()
    expect(page.get_by_text("Page 5", exact=True)).to_be_visible()

    page.get_by_role("link", name="CSMS secrets").click()
    secrets = page.get_by_role("table", name="Secrets")
    names = set()
    for n in range(1, 14):
        expect(page.get_by_role("navigation", name="Pages").first.get_by_text(f"Page {n}", exact=True)).to_be_visible()
        names |= set(re.findall(r"bulk-\d{3}", secrets.inner_text()))
        nxt = page.get_by_role("navigation", name="Pages").first.get_by_role("button", name="Next page")
        if nxt.is_disabled():
            break
        nxt.click()
    assert len(names) == 250, len(names)

    # Legible in a narrow window: the table scrolls inside its box, the page does not.
    page.set_viewport_size({"width": 380, "height": 800})
    page.get_by_role("link", name="KMS keys").click()
    expect(page.get_by_role("table", name="Keys")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380, width
    page.screenshot(path=str(shots / "narrow.png"), full_page=True)


def test_sign_out_forgets_the_session(page, alice):
    sign_in(page, alice)
    expect(page.get_by_role("table", name="Keys")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    expect(page.get_by_role("table", name="Keys")).to_have_count(0)
    expect(page.get_by_label("Password")).to_have_value("")
    # Nothing survives in storage either: the token lived in memory only.
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    page.goto(page.url.split("#")[0] + "#kms")
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()


def test_keyboard_alone_signs_in_and_opens_a_key(page, server, alice):
    kms = support.kms_client(server.endpoint, alice)
    alias = f"kbd-{uuid.uuid4().hex[:8]}"
    kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=alias)))
    # The page puts the focus on the first field; Tab walks the form in order.
    for value in (alice.domain_name, alice.user, alice.password, alice.project_name):
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("table", name="Keys")).to_contain_text(alias)
    page.get_by_role("button", name=alias).focus()
    page.keyboard.press("Enter")
    # Opening a key moves the focus to its panel's heading.
    expect(page.get_by_role("heading", name=f"Key {alias}")).to_be_focused()


def test_grants_are_listed_created_and_revoked(page, server, alice, bob):
    from huaweicloudsdkkms.v2 import ListGrantsRequest, ListGrantsRequestBody
    sign_in(page, alice)
    alias = f"granted-{uuid.uuid4().hex[:8]}"
    form(page, "Create key").get_by_label("Alias").fill(alias)
    form(page, "Create key").get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name=f"Key {alias}")).to_be_visible()
    key_id = page.locator(".facts dd").first.inner_text()
    grant = form(page, "Create grant")
    grant.get_by_label("Grant name").fill("for-bob")
    grant.get_by_label("Grantee (user or domain id)").fill(bob.domain_id)
    grant.get_by_label("Grantee type").select_option("domain")
    grant.get_by_role("button", name="Create grant").click()
    expect(page.get_by_role("table", name="Grants")).to_contain_text("for-bob")
    kms = support.kms_client(server.endpoint, alice)
    listed = kms.list_grants(ListGrantsRequest(body=ListGrantsRequestBody(key_id=key_id))).grants
    assert [g.grantee_principal for g in listed] == [bob.domain_id]
    page.get_by_role("button", name="Revoke grant for-bob").click()
    expect(page.get_by_role("table", name="Grants")).not_to_contain_text("for-bob")
    assert not kms.list_grants(ListGrantsRequest(body=ListGrantsRequestBody(key_id=key_id))).grants


def test_access_key_sign_in_signs_every_request(page, server, alice):
    """AK/SK instead of a password: the page signs each call (SDK-HMAC-SHA256),
    finds the project by name as the SDKs do, and acts as that key's user."""
    kms = support.kms_client(server.endpoint, alice)
    alias = support.unique("aksk")
    kid = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=alias))).key_info.key_id
    f = form(page, "Use an access key instead")
    f.get_by_label("Access key (AK)").fill(alice.ak)
    f.get_by_label("Secret key (SK)").fill(alice.sk)
    f.get_by_label("Project of the key (name or id)").fill(alice.project_name)
    f.get_by_role("button", name="Use access key").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The secret key is not left in the page.
    expect(page.locator("#ks-sk")).to_have_value("")
    expect(page.get_by_role("button", name=alias)).to_be_visible()
    # A write through signed requests lands in alice's project.
    page.get_by_role("button", name=alias).click()
    expect(page.get_by_role("heading", name=f"Key {alias}")).to_be_visible()
    page.get_by_role("button", name="Disable", exact=True).click()
    expect(page.get_by_role("button", name="Enable", exact=True)).to_be_visible()
    assert key_state(server, alice, kid) == "3"


def test_a_wrong_secret_key_is_refused_by_the_signature_check(page, alice):
    f = form(page, "Use an access key instead")
    f.get_by_label("Access key (AK)").fill(alice.ak)
    f.get_by_label("Secret key (SK)").fill("x" * 40)
    f.get_by_label("Project of the key (name or id)").fill(alice.project_id)
    f.get_by_role("button", name="Use access key").click()
    # With a project id nothing is asked at sign-in; the first list is refused.
    expect(error_box(page)).to_contain_text("APIGW.0301")


def test_the_audit_trail_shows_the_projects_calls(page, server, alice, shots):
    sign_in(page, alice)
    alias = support.unique("trail")
    kms = support.kms_client(server.endpoint, alice)
    kid = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=alias))).key_info.key_id
    page.get_by_role("link", name="Audit trail").click()
    rows = page.get_by_role("table", name="Audit records (last 7 days)").locator("tbody tr")
    expect(rows.filter(has_text=alias).filter(has_text="CreateKey")).to_have_count(1)
    page.screenshot(path=str(shots / "trail.png"), full_page=False)
    f = form(page, "Filter")
    f.get_by_label("Resource id").fill(kid)
    f.get_by_role("button", name="Apply").click()
    expect(rows.filter(has_text="CreateKey")).to_have_count(1)
    expect(rows.first).to_contain_text("200 normal")
