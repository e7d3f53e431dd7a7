"""VPCEP through the official VpcepClient (AK/SK signing).

The provider is ``tenant`` (a fresh project of the "pool" domain per test); the consumer is
``acme_identity`` (another domain). Every endpoint and service a test creates is deleted at
teardown, so the consumer's endpoint quota is not used up across tests.
"""

from __future__ import annotations

import re
import socket
import threading
import uuid

import pytest
from huaweicloudsdkvpcep.v1 import *  # noqa: F401,F403 (request and model classes)
from huaweicloudsdkvpcep.v1 import VpcepClient

import support

TIME_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
SEED_DESC_1 = "终端节点节点1, 属于账户[0605767a3300d5762fb7c0186d9e1779]iaas_commonnet_odin_26"
SEED_DESC_2 = "终端节点节点2, 属于账户[7876999999999]iaas_commonnet_odin_26"


def vpcep_client(endpoint: str, ident, project_id=None) -> VpcepClient:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials

    creds = BasicCredentials(ident.ak, ident.sk, project_id or ident.project_id)
    return (VpcepClient.new_builder().with_http_config(support.http_config())
            .with_credentials(creds).with_endpoints([endpoint]).build())


def expect_err(fn, status: int, code):
    return support.expect_kms_error(fn, status, code, prefix=None)


def rid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def provider(server, tenant):
    return vpcep_client(server.endpoint, tenant)


@pytest.fixture
def consumer(server, acme_identity):
    return vpcep_client(server.endpoint, acme_identity)


@pytest.fixture
def made():
    """Records what a test creates; deletes endpoints, then services, at teardown."""
    rec = {"endpoints": [], "services": []}
    yield rec
    for client, eid in rec["endpoints"]:
        try:
            client.delete_endpoint(DeleteEndpointRequest(vpc_endpoint_id=eid))
        except Exception:
            pass
    for client, sid in rec["services"]:
        try:
            client.delete_endpoint_service(DeleteEndpointServiceRequest(vpc_endpoint_service_id=sid))
        except Exception:
            pass


@pytest.fixture
def new_service(provider, made):
    def _new(client=None, **fields):
        client = client or provider
        fields.setdefault("server_type", "VM")
        fields.setdefault("vpc_id", rid())
        if "ip" not in fields:
            fields.setdefault("port_id", rid())
        fields.setdefault("ports", [PortList(client_port=8080, server_port=80, protocol="TCP")])
        resp = client.create_endpoint_service(
            CreateEndpointServiceRequest(body=CreateEndpointServiceRequestBody(**fields)))
        made["services"].append((client, resp.id))
        return resp

    return _new


@pytest.fixture
def new_endpoint(consumer, made):
    def _new(service_id, client=None, **fields):
        client = client or consumer
        fields.setdefault("vpc_id", rid())
        fields.setdefault("subnet_id", rid())
        resp = client.create_endpoint(CreateEndpointRequest(
            body=CreateEndpointRequestBody(endpoint_service_id=service_id, **fields)))
        made["endpoints"].append((client, resp.id))
        return resp

    return _new


def permit(provider, service_id, domain_id):
    provider.add_or_remove_service_permissions(AddOrRemoveServicePermissionsRequest(
        vpc_endpoint_service_id=service_id,
        body=AddOrRemoveServicePermissionsRequestBody(
            permissions=[f"iam:domain::{domain_id}"], action="add")))


def connections(provider, service_id, **query):
    return provider.list_service_connections(
        ListServiceConnectionsRequest(vpc_endpoint_service_id=service_id, **query))


def act(provider, service_id, action, *endpoint_ids):
    return provider.accept_or_reject_endpoint(AcceptOrRejectEndpointRequest(
        vpc_endpoint_service_id=service_id,
        body=AcceptOrRejectEndpointRequestBody(action=action, endpoints=list(endpoint_ids))))


def describe_connections(provider, service_id, items):
    return provider.update_endpoint_connections_desc(UpdateEndpointConnectionsDescRequest(
        vpc_endpoint_service_id=service_id,
        body=UpdateEndpointConnectionsDescRequestBody(
            connections=[ConnectionsDesc(id=i, description=d) for i, d in items])))


def show_endpoint(client, eid):
    return client.list_endpoint_info_details(ListEndpointInfoDetailsRequest(vpc_endpoint_id=eid))


def status_of(client, eid):
    return show_endpoint(client, eid).status


# ------------------------------------------------------------------ the whole flow (seed)
def test_flow_create_permit_connect_accept_describe_reject_delete(
        provider, consumer, new_service, new_endpoint, acme_identity, tenant, made):
    svc = new_service(service_name="seedsvc", approval_enabled=True, description="seed")
    assert svc.status == "available" and svc.approval_enabled is True
    assert svc.service_name == f"{support.REGION}.seedsvc.{svc.id}"
    assert re.match(support.UUID_RE, svc.id)

    # Not permitted yet: the consumer can neither see nor connect.
    expect_err(lambda: consumer.list_service_describe_details(
        ListServiceDescribeDetailsRequest(id=svc.id)), 400, "EndPoint.2003")
    expect_err(lambda: new_endpoint(svc.id), 400, "EndPoint.2012")

    permit(provider, svc.id, acme_identity.domain_id)
    desc = consumer.list_service_describe_details(ListServiceDescribeDetailsRequest(id=svc.id))
    assert desc.id == svc.id and desc.service_name == svc.service_name
    by_name = consumer.list_service_describe_details(
        ListServiceDescribeDetailsRequest(endpoint_service_name=svc.service_name))
    assert by_name.id == svc.id

    ep1 = new_endpoint(svc.id, description="consumer's own")
    ep2 = new_endpoint(svc.id)
    assert ep1.status == "creating"
    assert ep1.marker_id != ep2.marker_id
    assert ep1.endpoint_service_id == svc.id and ep1.endpoint_service_name == svc.service_name
    assert status_of(consumer, ep1.id) == "pendingAcceptance"

    conns = connections(provider, svc.id)
    assert conns.total_count == 2
    assert {c.id for c in conns.connections} == {ep1.id, ep2.id}
    for c in conns.connections:
        assert c.status == "pendingAcceptance" and c.domain_id == acme_identity.domain_id

    resp = act(provider, svc.id, "receive", ep1.id)
    assert [c.status for c in resp.connections] == ["accepted"]
    act(provider, svc.id, "receive", ep2.id)
    assert status_of(consumer, ep1.id) == "accepted"

    # The seed request, with our endpoint ids.
    resp = describe_connections(provider, svc.id, [(ep1.id, SEED_DESC_1), (ep2.id, SEED_DESC_2)])
    got = {c.id: c for c in resp.connections}
    assert set(got) == {ep1.id, ep2.id}
    assert got[ep1.id].description == SEED_DESC_1 and got[ep2.id].description == SEED_DESC_2
    for field in ("id", "marker_id", "created_at", "updated_at", "domain_id", "status", "description"):
        assert getattr(got[ep1.id], field) is not None, field
    assert got[ep1.id].error is None
    assert got[ep1.id].status == "accepted" and got[ep1.id].domain_id == acme_identity.domain_id
    assert got[ep1.id].marker_id == ep1.marker_id
    listed = {c.id: c.description for c in connections(provider, svc.id).connections}
    assert listed == {ep1.id: SEED_DESC_1, ep2.id: SEED_DESC_2}
    assert show_endpoint(consumer, ep1.id).description == "consumer's own"

    act(provider, svc.id, "reject", ep1.id)
    assert status_of(consumer, ep1.id) == "rejected"
    rejected = connections(provider, svc.id, status="rejected")
    assert [c.id for c in rejected.connections] == [ep1.id]

    expect_err(lambda: provider.delete_endpoint_service(
        DeleteEndpointServiceRequest(vpc_endpoint_service_id=svc.id)), 400, "EndPoint.3006")
    for e in (ep1, ep2):
        consumer.delete_endpoint(DeleteEndpointRequest(vpc_endpoint_id=e.id))
        expect_err(lambda: show_endpoint(consumer, e.id), 404, "EndPoint.2006")
    assert connections(provider, svc.id).total_count == 0
    provider.delete_endpoint_service(DeleteEndpointServiceRequest(vpc_endpoint_service_id=svc.id))
    expect_err(lambda: provider.list_service_details(
        ListServiceDetailsRequest(vpc_endpoint_service_id=svc.id)), 404, "EndPoint.0005")


def test_wire_timestamps_and_error_envelope(raw, tenant, provider, new_service, new_endpoint,
                                            acme_identity):
    svc = new_service(approval_enabled=False)
    permit(provider, svc.id, acme_identity.domain_id)
    new_endpoint(svc.id)
    # The SDK turns timestamps into datetimes; read the wire text with a signed raw call.
    resp = raw(tenant, "GET", f"/v1/{{project_id}}/vpc-endpoint-services/{svc.id}/connections")
    assert resp.status == 200
    conn = resp.json()["connections"][0]
    assert re.match(TIME_RE, conn["created_at"]) and re.match(TIME_RE, conn["updated_at"])
    assert isinstance(conn["marker_id"], int)
    svc_raw = raw(tenant, "GET", f"/v1/{{project_id}}/vpc-endpoint-services/{svc.id}").json()
    assert re.match(TIME_RE, svc_raw["created_at"]) and re.match(TIME_RE, svc_raw["updated_at"])
    resp = raw(tenant, "PUT", f"/v1/{{project_id}}/vpc-endpoint-services/{svc.id}/connections/description",
               body={"connections": [{"id": rid(), "description": "x"}]})
    assert resp.status == 400
    assert resp.json() == {"error": {"code": "EndPoint.2013",
                                     "message": "The endpoint does not belong to the endpoint service."}}


# ------------------------------------------------------------------ connection description errors
def test_connection_description_errors_change_nothing(
        provider, consumer, new_service, new_endpoint, acme_identity, server, pool_identity, made):
    svc = new_service(approval_enabled=False)
    permit(provider, svc.id, acme_identity.domain_id)
    ep = new_endpoint(svc.id)
    describe_connections(provider, svc.id, [(ep.id, "before")])

    def unchanged():
        assert [c.description for c in connections(provider, svc.id).connections] == ["before"]

    for bad in ("a<b", "x>y", "<script>"):
        expect_err(lambda: describe_connections(provider, svc.id, [(ep.id, bad)]), 400, "EndPoint.0002")
        unchanged()
    expect_err(lambda: describe_connections(provider, svc.id, [(ep.id, "ok"), (rid(), "ok")]),
               400, "EndPoint.2013")
    unchanged()
    expect_err(lambda: describe_connections(provider, svc.id, [(ep.id, "ok"), ("not-a-uuid", "ok")]),
               400, "EndPoint.2017")
    unchanged()
    expect_err(lambda: describe_connections(provider, "not-a-uuid", [(ep.id, "ok")]), 400, "EndPoint.3062")
    expect_err(lambda: describe_connections(provider, rid(), [(ep.id, "ok")]), 404, "EndPoint.0005")
    expect_err(lambda: describe_connections(provider, svc.id, []), 400, "EndPoint.2002")
    # The consumer does not own the service: for it, it does not exist.
    expect_err(lambda: describe_connections(consumer, svc.id, [(ep.id, "mine")]), 404, "EndPoint.0005")
    unchanged()
    # Another provider (other domain) with a service of its own cannot reach this connection.
    other = new_service(client=consumer, approval_enabled=False)
    expect_err(lambda: describe_connections(consumer, other.id, [(ep.id, "stolen")]), 400, "EndPoint.2013")
    unchanged()


def test_accept_reject_rules(provider, new_service, new_endpoint, acme_identity):
    svc = new_service(approval_enabled=True)
    permit(provider, svc.id, acme_identity.domain_id)
    ep = new_endpoint(svc.id)
    expect_err(lambda: act(provider, svc.id, "accept", ep.id), 400, "EndPoint.3035")
    expect_err(lambda: act(provider, svc.id, "receive", rid()), 400, "EndPoint.2013")
    expect_err(lambda: act(provider, svc.id, "receive", "bad-id"), 400, "EndPoint.2017")
    expect_err(lambda: act(provider, svc.id, "receive"), 400, "EndPoint.2002")
    assert connections(provider, svc.id).connections[0].status == "pendingAcceptance"
    assert act(provider, svc.id, "reject", ep.id).connections[0].status == "rejected"
    assert act(provider, svc.id, "receive", ep.id).connections[0].status == "accepted"
    assert act(provider, svc.id, "receive", ep.id).connections[0].status == "accepted"
    # Filters, sorting, paging, and their errors.
    assert connections(provider, svc.id, marker_id=str(ep.marker_id)).total_count == 1
    assert connections(provider, svc.id, id=rid()).total_count == 0
    assert connections(provider, svc.id, sort_key="update_at", sort_dir="asc", limit=1).total_count == 1
    expect_err(lambda: connections(provider, svc.id, status="bogus"), 400, "EndPoint.0019")
    expect_err(lambda: connections(provider, svc.id, sort_key="name"), 400, "EndPoint.0017")
    expect_err(lambda: connections(provider, svc.id, sort_dir="up"), 400, "EndPoint.0018")
    expect_err(lambda: connections(provider, svc.id, limit=5000), 400, "EndPoint.0006")
    expect_err(lambda: connections(provider, svc.id, marker_id="x"), 400, "EndPoint.0021")


def test_no_approval_means_accepted(provider, new_service, new_endpoint, acme_identity):
    svc = new_service(approval_enabled=False)
    permit(provider, svc.id, acme_identity.domain_id)
    ep = new_endpoint(svc.id)
    assert ep.status == "creating"
    assert connections(provider, svc.id).connections[0].status == "accepted"
    listed = provider.list_endpoint_service(ListEndpointServiceRequest(id=svc.id)).endpoint_services
    assert listed[0].connection_count == 1


# ------------------------------------------------------------------ endpoint services
def test_service_create_list_show_update_delete(provider, consumer, new_service, made):
    a = new_service(service_name="alpha", server_type="LB", approval_enabled=False,
                    tcp_proxy="proxy_open", description="first",
                    ports=[PortList(client_port=80, server_port=8080, protocol="TCP"),
                           PortList(client_port=443, server_port=8443)],
                    tags=[TagList(key="env", value="dev")])
    b = new_service(service_name="beta")
    assert a.server_type == "LB" and a.tcp_proxy == "proxy_open" and a.service_type == "interface"
    assert {(p.client_port, p.server_port, p.protocol) for p in a.ports} == {(80, 8080, "TCP"), (443, 8443, "TCP")}
    assert b.approval_enabled is True, "approval is required by default"
    assert b.tcp_proxy == "close"

    listed = provider.list_endpoint_service(ListEndpointServiceRequest())
    assert listed.total_count == 2
    assert [s.id for s in listed.endpoint_services] == [b.id, a.id], "newest first"
    asc = provider.list_endpoint_service(ListEndpointServiceRequest(sort_dir="asc", limit=1))
    assert [s.id for s in asc.endpoint_services] == [a.id] and asc.total_count == 2
    page2 = provider.list_endpoint_service(ListEndpointServiceRequest(sort_dir="asc", limit=1, offset=1))
    assert [s.id for s in page2.endpoint_services] == [b.id]
    named = provider.list_endpoint_service(ListEndpointServiceRequest(endpoint_service_name="ALP"))
    assert [s.id for s in named.endpoint_services] == [a.id]
    assert provider.list_endpoint_service(ListEndpointServiceRequest(status="available")).total_count == 2
    expect_err(lambda: provider.list_endpoint_service(ListEndpointServiceRequest(status="x")), 400, "EndPoint.0019")
    expect_err(lambda: provider.list_endpoint_service(ListEndpointServiceRequest(limit=1001)), 400, "EndPoint.0006")
    expect_err(lambda: provider.list_endpoint_service(ListEndpointServiceRequest(offset=-1)), 400, "EndPoint.0010")
    assert consumer.list_endpoint_service(ListEndpointServiceRequest(id=a.id)).total_count == 0

    shown = provider.list_service_details(ListServiceDetailsRequest(vpc_endpoint_service_id=a.id))
    assert shown.description == "first" and shown.tags[0].key == "env"
    assert shown.created_at is not None and shown.updated_at is not None

    upd = provider.update_endpoint_service(UpdateEndpointServiceRequest(
        vpc_endpoint_service_id=a.id, body=UpdateEndpointServiceRequestBody(
            approval_enabled=True, description="second", tcp_proxy="close",
            ports=[PortList(client_port=9000, server_port=9001, protocol="TCP")])))
    assert upd.approval_enabled is True and upd.description == "second"
    assert [(p.client_port, p.server_port) for p in upd.ports] == [(9000, 9001)]
    expect_err(lambda: provider.update_endpoint_service(UpdateEndpointServiceRequest(
        vpc_endpoint_service_id=a.id, body=UpdateEndpointServiceRequestBody(description="<b>"))),
        400, "EndPoint.0002")
    expect_err(lambda: provider.update_endpoint_service(UpdateEndpointServiceRequest(
        vpc_endpoint_service_id=a.id, body=UpdateEndpointServiceRequestBody(port_id=rid(), ip="10.0.0.1"))),
        400, "EndPoint.3052")
    expect_err(lambda: consumer.update_endpoint_service(UpdateEndpointServiceRequest(
        vpc_endpoint_service_id=a.id, body=UpdateEndpointServiceRequestBody(description="x"))),
        404, "EndPoint.0005")
    assert provider.list_service_details(
        ListServiceDetailsRequest(vpc_endpoint_service_id=a.id)).description == "second"

    renamed = provider.update_endpoint_service_name(UpdateEndpointServiceNameRequest(
        vpc_endpoint_service_id=a.id, body=UpdateEndpointServiceNameRequestBody(endpoint_service_name="gamma")))
    assert renamed.endpoint_service_name == f"{support.REGION}.gamma.{a.id}"
    expect_err(lambda: provider.update_endpoint_service_name(UpdateEndpointServiceNameRequest(
        vpc_endpoint_service_id=a.id, body=UpdateEndpointServiceNameRequestBody(endpoint_service_name="bad name!"))),
        400, "EndPoint.3076")

    provider.delete_endpoint_service(DeleteEndpointServiceRequest(vpc_endpoint_service_id=b.id))
    expect_err(lambda: provider.delete_endpoint_service(
        DeleteEndpointServiceRequest(vpc_endpoint_service_id=b.id)), 404, "EndPoint.0005")
    expect_err(lambda: provider.list_service_details(
        ListServiceDetailsRequest(vpc_endpoint_service_id="123")), 400, "EndPoint.3062")
    assert provider.list_endpoint_service(ListEndpointServiceRequest()).total_count == 1


@pytest.mark.parametrize("fields,code", [
    ({"server_type": "VPC"}, "EndPoint.3021"),
    ({"service_name": "x" * 17}, "EndPoint.3076"),
    ({"vpc_id": "not-a-uuid"}, "EndPoint.0020"),
    ({"vpc_id": None}, "EndPoint.2011"),
    ({"port_id": "nope"}, "EndPoint.3063"),
    ({"ports": []}, "EndPoint.2028"),
    ({"ports": [PortList(client_port=0, server_port=80)]}, "EndPoint.3043"),
    ({"ports": [PortList(client_port=80, server_port=80), PortList(client_port=80, server_port=81)]},
     "EndPoint.3043"),
    ({"ports": [PortList(client_port=80, server_port=80, protocol="UDP")]}, "EndPoint.3075"),
    ({"description": "a>b"}, "EndPoint.0002"),
    ({"tcp_proxy": "maybe"}, "EndPoint.0002"),
    ({"service_type": "other"}, "EndPoint.0002"),
    ({"ip": "1.2.3.4.5", "port_id": None}, "EndPoint.3010"),
    ({"tags": [TagList(key="k", value="1"), TagList(key="k", value="2")]}, "EndPoint.3067"),
])
def test_service_validation(provider, new_service, fields, code):
    expect_err(lambda: new_service(**fields), 400, code)
    assert provider.list_endpoint_service(ListEndpointServiceRequest()).total_count == 0


def test_service_quota(provider, new_service):
    quota = provider.list_quota_details(ListQuotaDetailsRequest(type="endpoint_service")).quotas.resources
    assert [(q.type, q.used) for q in quota] == [("endpoint_service", 0)]
    for _ in range(quota[0].quota):
        new_service()
    expect_err(lambda: new_service(), 400, "Endpoint.1018")
    both = provider.list_quota_details(ListQuotaDetailsRequest()).quotas.resources
    assert {q.type: q.used for q in both} == {"endpoint_service": quota[0].quota, "endpoint": 0}
    expect_err(lambda: provider.list_quota_details(ListQuotaDetailsRequest(type="vpc")), 400, "EndPoint.3070")


def test_upgrade_and_server_resources(provider, new_service):
    lb = new_service(server_type="LB")
    provider.upgrade_endpoint_service(UpgradeEndpointServiceRequest(vpc_endpoint_service_id=lb.id))
    shown = provider.list_service_details(ListServiceDetailsRequest(vpc_endpoint_service_id=lb.id))
    assert "professional" in shown.supported_editions
    body = AddEndpointServiceServerResourceRequestBody(
        server_resources=[ServerResource(resource_id=rid(), availability_zone_id="az1")])
    provider.add_endpoint_service_server_resource(
        AddEndpointServiceServerResourceRequest(vpc_endpoint_service_id=lb.id, body=body))
    vm = new_service(server_type="VM")
    expect_err(lambda: provider.add_endpoint_service_server_resource(
        AddEndpointServiceServerResourceRequest(vpc_endpoint_service_id=vm.id, body=body)), 400, "EndPoint.3021")
    bad = AddEndpointServiceServerResourceRequestBody(
        server_resources=[ServerResource(resource_id="x", availability_zone_id="az1")])
    expect_err(lambda: provider.add_endpoint_service_server_resource(
        AddEndpointServiceServerResourceRequest(vpc_endpoint_service_id=lb.id, body=bad)), 400, "EndPoint.0002")
    expect_err(lambda: provider.upgrade_endpoint_service(
        UpgradeEndpointServiceRequest(vpc_endpoint_service_id=rid())), 404, "EndPoint.0005")


# ------------------------------------------------------------------ endpoints
def test_endpoint_addresses_and_validation(provider, consumer, new_service, new_endpoint, acme_identity):
    svc = new_service(approval_enabled=False)
    permit(provider, svc.id, acme_identity.domain_id)
    subnet = rid()
    a = new_endpoint(svc.id, subnet_id=subnet)
    b = new_endpoint(svc.id, subnet_id=subnet)
    assert a.ip and b.ip and a.ip != b.ip, "one pool per subnet, no duplicates"
    pinned = new_endpoint(svc.id, subnet_id=subnet, port_ip="192.168.77.7")
    assert pinned.ip == "192.168.77.7"
    expect_err(lambda: new_endpoint(svc.id, subnet_id=subnet, port_ip="192.168.77.7"), 400, "EndPoint.2042")
    expect_err(lambda: new_endpoint(svc.id, port_ip="999.1.1.1"), 400, "EndPoint.2041")
    expect_err(lambda: new_endpoint(svc.id, subnet_id=None), 400, "EndPoint.2010")
    expect_err(lambda: new_endpoint(svc.id, subnet_id="x"), 400, "EndPoint.0023")
    expect_err(lambda: new_endpoint(svc.id, vpc_id="x"), 400, "EndPoint.0020")
    expect_err(lambda: new_endpoint(svc.id, vpc_id=None), 400, "EndPoint.2011")
    expect_err(lambda: new_endpoint(rid()), 400, "EndPoint.2003")
    expect_err(lambda: new_endpoint("bad"), 400, "EndPoint.3062")
    expect_err(lambda: new_endpoint(None), 400, "EndPoint.2029")
    expect_err(lambda: new_endpoint(svc.id, description="<x>"), 400, "EndPoint.0002")
    expect_err(lambda: new_endpoint(svc.id, whitelist=["10.0.0.0/40"]), 400, "EndPoint.2044")
    assert consumer.list_endpoints(ListEndpointsRequest(endpoint_service_name=svc.id)).total_count == 3

    # Whitelist and DNS.
    w = consumer.update_endpoint_white(UpdateEndpointWhiteRequest(
        vpc_endpoint_id=a.id, body=UpdateEndpointWhiteRequestBody(
            whitelist=["10.0.0.1", "10.1.0.0/16"], enable_whitelist=True)))
    assert w.whitelist == ["10.0.0.1", "10.1.0.0/16"] and w.enable_whitelist is True
    expect_err(lambda: consumer.update_endpoint_white(UpdateEndpointWhiteRequest(
        vpc_endpoint_id=a.id, body=UpdateEndpointWhiteRequestBody(whitelist=["nope"]))), 400, "EndPoint.2044")
    assert show_endpoint(consumer, a.id).whitelist == ["10.0.0.1", "10.1.0.0/16"]
    cleared = consumer.update_endpoint_white(UpdateEndpointWhiteRequest(
        vpc_endpoint_id=a.id, body=UpdateEndpointWhiteRequestBody(whitelist=[], enable_whitelist=False)))
    assert cleared.whitelist == [] and cleared.enable_whitelist is False

    # Route tables and policies are for gateway endpoints.
    expect_err(lambda: consumer.update_endpoint_routetable(UpdateEndpointRoutetableRequest(
        vpc_endpoint_id=a.id, body=UpdateEndpointRoutetableRequestBody(routetables=[rid()]))), 400, "EndPoint.0002")
    expect_err(lambda: consumer.update_endpoint_policy(UpdateEndpointPolicyRequest(
        vpc_endpoint_id=a.id, body=UpdateEndpointPolicyRequestBody(
            policy_statement=[PolicyStatement(effect="Allow", action=["obs:*"], resource=["*"])]))),
        400, "EndPoint.2048")

    consumer.upgrade_endpoint(UpgradeEndpointRequest(vpc_endpoint_id=a.id,
                                                     body=UpgradeEndpointRequestBody(action="start")))
    assert show_endpoint(consumer, a.id).specification_name == "profession"
    expect_err(lambda: consumer.upgrade_endpoint(UpgradeEndpointRequest(
        vpc_endpoint_id=a.id, body=UpgradeEndpointRequestBody(action="rollback"))), 400, "EndPoint.3035")


def test_gateway_endpoint_routetables_and_policy(provider, consumer, new_service, new_endpoint, acme_identity):
    gw = new_service(service_type="gateway", approval_enabled=False)
    assert gw.enable_policy is True
    permit(provider, gw.id, acme_identity.domain_id)
    rt1, rt2 = rid(), rid()
    ep = new_endpoint(gw.id, subnet_id=None, routetables=[rt1])
    assert ep.ip is None and ep.routetables == [rt1]
    resp = consumer.update_endpoint_routetable(UpdateEndpointRoutetableRequest(
        vpc_endpoint_id=ep.id, body=UpdateEndpointRoutetableRequestBody(routetables=[rt1, rt2])))
    assert resp.routetables == [rt1, rt2]
    expect_err(lambda: consumer.update_endpoint_routetable(UpdateEndpointRoutetableRequest(
        vpc_endpoint_id=ep.id, body=UpdateEndpointRoutetableRequestBody(routetables=["rt"]))), 400, "EndPoint.1019")

    expect_err(lambda: consumer.delete_endpoint_policy(DeleteEndpointPolicyRequest(vpc_endpoint_id=ep.id)),
               400, "EndPoint.2049")
    stmt = PolicyStatement(effect="Allow", action=["obs:object:GetObject"], resource=["obs:*:*:object:*"])
    pol = consumer.update_endpoint_policy(UpdateEndpointPolicyRequest(
        vpc_endpoint_id=ep.id, body=UpdateEndpointPolicyRequestBody(policy_statement=[stmt])))
    assert pol.policy_statement[0].effect == "Allow"
    expect_err(lambda: consumer.update_endpoint_policy(UpdateEndpointPolicyRequest(
        vpc_endpoint_id=ep.id, body=UpdateEndpointPolicyRequestBody(
            policy_statement=[PolicyStatement(effect="Perhaps", action=["x"], resource=["y"])]))),
        400, "EndPoint.2048")
    assert show_endpoint(consumer, ep.id).policy_statement[0].action == ["obs:object:GetObject"]
    deleted = consumer.delete_endpoint_policy(DeleteEndpointPolicyRequest(vpc_endpoint_id=ep.id))
    assert not deleted.policy_statement
    expect_err(lambda: consumer.delete_endpoint_policy(DeleteEndpointPolicyRequest(vpc_endpoint_id=ep.id)),
               400, "EndPoint.2049")


def test_visibility_between_domains(server, provider, consumer, new_service, new_endpoint, acme_identity, tenant):
    svc = new_service(approval_enabled=True)
    permit(provider, svc.id, acme_identity.domain_id)
    ep = new_endpoint(svc.id)
    own = new_endpoint(svc.id, client=provider)  # the provider's domain may always connect
    # Each side lists only its own endpoints.
    assert [e.id for e in consumer.list_endpoints(ListEndpointsRequest(id=ep.id)).endpoints] == [ep.id]
    assert consumer.list_endpoints(ListEndpointsRequest(id=own.id)).total_count == 0
    assert [e.id for e in provider.list_endpoints(ListEndpointsRequest()).endpoints] == [own.id]
    expect_err(lambda: show_endpoint(provider, ep.id), 404, "EndPoint.2006")
    expect_err(lambda: show_endpoint(consumer, "bad"), 400, "EndPoint.2017")
    expect_err(lambda: provider.delete_endpoint(DeleteEndpointRequest(vpc_endpoint_id=ep.id)), 404, "EndPoint.2006")
    # The consumer cannot manage the provider's service or its connections.
    expect_err(lambda: consumer.list_service_details(
        ListServiceDetailsRequest(vpc_endpoint_service_id=svc.id)), 404, "EndPoint.0005")
    expect_err(lambda: connections(consumer, svc.id), 404, "EndPoint.0005")
    expect_err(lambda: act(consumer, svc.id, "receive", ep.id), 404, "EndPoint.0005")
    assert status_of(consumer, ep.id) == "pendingAcceptance"
    # A project of one's own domain only: the consumer's AK/SK with the provider's project.
    foreign = vpcep_client(server.endpoint, acme_identity, project_id=tenant.project_id)
    expect_err(lambda: foreign.list_endpoints(ListEndpointsRequest()), 403, "EndPoint.0004")


# ------------------------------------------------------------------ permissions
def test_permissions(provider, consumer, new_service, new_endpoint, acme_identity):
    svc = new_service(approval_enabled=False)
    other_domain = uuid.uuid4().hex
    resp = provider.add_or_remove_service_permissions(AddOrRemoveServicePermissionsRequest(
        vpc_endpoint_service_id=svc.id, body=AddOrRemoveServicePermissionsRequestBody(
            permissions=[f"iam:domain::{other_domain}"], action="add", permission_type="domainId")))
    assert resp.permissions == [f"iam:domain::{other_domain}"]
    expect_err(lambda: new_endpoint(svc.id), 400, "EndPoint.2012")

    added = provider.batch_add_endpoint_service_permissions(BatchAddEndpointServicePermissionsRequest(
        vpc_endpoint_service_id=svc.id, body=BatchAddEndpointServicePermissionsRequestBody(
            permission_type="domainId",
            permissions=[EpsAddPermissionRequest(permission=f"iam:domain::{acme_identity.domain_id}",
                                                 description="acme, 测试")])))
    assert len(added.permissions) == 1
    pid = added.permissions[0].id
    assert added.permissions[0].description == "acme, 测试" and added.permissions[0].permission_type == "domainId"
    ep = new_endpoint(svc.id)
    assert status_of(consumer, ep.id) == "accepted"

    listed = provider.list_service_permissions_details(ListServicePermissionsDetailsRequest(
        vpc_endpoint_service_id=svc.id))
    assert listed.total_count == 2
    found = provider.list_service_permissions_details(ListServicePermissionsDetailsRequest(
        vpc_endpoint_service_id=svc.id, permission=acme_identity.domain_id[:8], limit=1))
    assert [p.id for p in found.permissions] == [pid]

    upd = provider.update_endpoint_service_permission_desc(UpdateEndpointServicePermissionDescRequest(
        vpc_endpoint_service_id=svc.id, permission_id=pid,
        body=UpdateEndpointServicePermissionDescRequestBody(permission=EpsUpdatePermissionDesc(description="new"))))
    assert upd.permissions[0].description == "new"
    expect_err(lambda: provider.update_endpoint_service_permission_desc(UpdateEndpointServicePermissionDescRequest(
        vpc_endpoint_service_id=svc.id, permission_id=pid,
        body=UpdateEndpointServicePermissionDescRequestBody(permission=EpsUpdatePermissionDesc(description="<")))),
        400, "EndPoint.0002")
    expect_err(lambda: provider.update_endpoint_service_permission_desc(UpdateEndpointServicePermissionDescRequest(
        vpc_endpoint_service_id=svc.id, permission_id=rid(),
        body=UpdateEndpointServicePermissionDescRequestBody(permission=EpsUpdatePermissionDesc(description="x")))),
        404, "EndPoint.0005")

    # Errors change nothing.
    for perms, action, code in [(["iam:domain::a-b"], "add", "EndPoint.3002"), ([], "add", "EndPoint.3036"),
                                ([f"iam:domain::{other_domain}"], "toggle", "EndPoint.3035")]:
        expect_err(lambda: provider.add_or_remove_service_permissions(AddOrRemoveServicePermissionsRequest(
            vpc_endpoint_service_id=svc.id,
            body=AddOrRemoveServicePermissionsRequestBody(permissions=perms, action=action))), 400, code)
    expect_err(lambda: consumer.add_or_remove_service_permissions(AddOrRemoveServicePermissionsRequest(
        vpc_endpoint_service_id=svc.id, body=AddOrRemoveServicePermissionsRequestBody(
            permissions=["iam:domain::*"], action="add"))), 404, "EndPoint.0005")
    assert provider.list_service_permissions_details(ListServicePermissionsDetailsRequest(
        vpc_endpoint_service_id=svc.id)).total_count == 2

    removed = provider.batch_remove_endpoint_service_permissions(BatchRemoveEndpointServicePermissionsRequest(
        vpc_endpoint_service_id=svc.id, body=BatchRemoveEndpointServicePermissionsRequestBody(
            permissions=[EpsRemovePermissionRequest(id=pid)])))
    assert [p.permission for p in removed.permissions] == [f"iam:domain::{other_domain}"]
    expect_err(lambda: provider.batch_remove_endpoint_service_permissions(
        BatchRemoveEndpointServicePermissionsRequest(vpc_endpoint_service_id=svc.id,
            body=BatchRemoveEndpointServicePermissionsRequestBody(permissions=[EpsRemovePermissionRequest(id=pid)]))),
        400, "EndPoint.0002")
    # Existing connections stay; new ones are refused; the service is invisible again.
    assert status_of(consumer, ep.id) == "accepted"
    expect_err(lambda: new_endpoint(svc.id), 400, "EndPoint.2012")
    expect_err(lambda: consumer.list_service_describe_details(
        ListServiceDescribeDetailsRequest(id=svc.id)), 400, "EndPoint.2003")

    resp = provider.add_or_remove_service_permissions(AddOrRemoveServicePermissionsRequest(
        vpc_endpoint_service_id=svc.id, body=AddOrRemoveServicePermissionsRequestBody(
            permissions=[f"iam:domain::{other_domain}"], action="remove")))
    assert resp.permissions == []


def test_wildcard_permission_makes_service_public(provider, consumer, new_service, new_endpoint):
    svc = new_service(service_name="opensvc", approval_enabled=False)
    public = consumer.list_service_public_details(ListServicePublicDetailsRequest(id=svc.id))
    assert public.total_count == 0
    provider.add_or_remove_service_permissions(AddOrRemoveServicePermissionsRequest(
        vpc_endpoint_service_id=svc.id,
        body=AddOrRemoveServicePermissionsRequestBody(permissions=["iam:domain::*"], action="add")))
    public = consumer.list_service_public_details(ListServicePublicDetailsRequest(id=svc.id))
    assert [(s.id, s.service_name, s.owner) for s in public.endpoint_services] == \
        [(svc.id, svc.service_name, "pool")]
    assert consumer.list_service_public_details(
        ListServicePublicDetailsRequest(endpoint_service_name="OPENSVC")).total_count >= 1
    ep = new_endpoint(svc.id)
    assert status_of(consumer, ep.id) == "accepted"


# ------------------------------------------------------------------ tags
def tag_action(client, rtype, rid_, action, *pairs):
    return client.batch_add_or_remove_resource_instance(BatchAddOrRemoveResourceInstanceRequest(
        resource_type=rtype, resource_id=rid_, body=BatchAddOrRemoveResourceInstanceRequestBody(
            action=action, tags=[ResourceTag(key=k, value=v) for k, v in pairs])))


def instances(client, rtype, **body):
    return client.list_resource_instances(ListResourceInstancesRequest(
        resource_type=rtype, body=QueryResourceInstanceTagsBody(**body)))


def test_resource_tags(provider, consumer, new_service, new_endpoint, acme_identity):
    a = new_service(service_name="tagged", tags=[TagList(key="env", value="dev")])
    b = new_service()
    tag_action(provider, "endpoint_service", b.id, "create", ("env", "prod"), ("team", "blue"))
    tag_action(provider, "endpoint_service", a.id, "create", ("team", "红"))
    tags = provider.list_query_project_resource_tags(
        ListQueryProjectResourceTagsRequest(resource_type="endpoint_service")).tags
    assert {t.key: sorted(t.values) for t in tags} == {"env": ["dev", "prod"], "team": ["blue", "红"]}

    got = instances(provider, "endpoint_service", action="filter",
                    tags=[TagValuesList(key="env", values=["prod"])])
    assert got.total_count == 1 and [r.resource_id for r in got.resources] == [b.id]
    assert instances(provider, "endpoint_service", action="count",
                     tags_any=[TagValuesList(key="env", values=[])]).total_count == 2
    assert instances(provider, "endpoint_service", action="count",
                     not_tags=[TagValuesList(key="team", values=["blue"])]).total_count == 1
    named = instances(provider, "endpoint_service", action="filter",
                      matches=[Match(key="resource_name", value="TAGGED")])
    assert [(r.resource_id, r.resource_name) for r in named.resources] == [(a.id, a.service_name)]
    page = instances(provider, "endpoint_service", action="filter", limit="1", offset="1")
    assert len(page.resources) == 1 and page.total_count == 2

    tag_action(provider, "endpoint_service", b.id, "delete", ("team", None), ("env", "other"))
    assert instances(provider, "endpoint_service", action="count", without_any_tag=True).total_count == 0
    tag_action(provider, "endpoint_service", b.id, "delete", ("env", "prod"))
    assert instances(provider, "endpoint_service", action="count", without_any_tag=True).total_count == 1

    # Endpoints, from the consumer's side.
    permit(provider, a.id, acme_identity.domain_id)
    ep = new_endpoint(a.id, tags=[TagList(key="app", value="web")])
    assert [(t.key, t.value) for t in show_endpoint(consumer, ep.id).tags] == [("app", "web")]
    tag_action(consumer, "endpoint", ep.id, "create", ("tier", ""))
    got = instances(consumer, "endpoint", action="filter", tags=[TagValuesList(key="tier", values=[])],
                    matches=[Match(key="resource_id", value=ep.id)])
    assert [r.resource_id for r in got.resources] == [ep.id]

    # Errors.
    expect_err(lambda: tag_action(provider, "endpoint", ep.id, "create", ("a", "b")), 404, "EndPoint.2006")
    expect_err(lambda: tag_action(provider, "volumes", a.id, "create", ("a", "b")), 400, "EndPoint.3070")
    expect_err(lambda: tag_action(provider, "endpoint_service", a.id, "upsert", ("a", "b")), 400, "EndPoint.0007")
    expect_err(lambda: tag_action(provider, "endpoint_service", a.id, "create"), 400, "EndPoint.3066")
    expect_err(lambda: tag_action(provider, "endpoint_service", a.id, "create", ("k", "1"), ("k", "2")),
               400, "EndPoint.3067")
    expect_err(lambda: tag_action(provider, "endpoint_service", a.id, "create", ("k" * 37, "1")),
               400, "EndPoint.3072")
    expect_err(lambda: tag_action(provider, "endpoint_service", a.id, "create", ("k", "v" * 44)),
               400, "EndPoint.3073")
    expect_err(lambda: tag_action(provider, "endpoint_service", a.id, "create", ("k=", "1")),
               400, "EndPoint.3068")
    expect_err(lambda: tag_action(provider, "endpoint_service", a.id, "create",
                                  *[(f"k{i}", "v") for i in range(20)]), 400, "EndPoint.3069")
    expect_err(lambda: instances(provider, "endpoint_service", action="sum"), 400, "EndPoint.0007")
    expect_err(lambda: provider.list_query_project_resource_tags(
        ListQueryProjectResourceTagsRequest(resource_type="x")), 400, "EndPoint.3070")
    tags = provider.list_query_project_resource_tags(
        ListQueryProjectResourceTagsRequest(resource_type="endpoint_service")).tags
    assert {t.key for t in tags} == {"env", "team"}, "refused batches changed nothing"


# ------------------------------------------------------------------ versions (shared with KMS)
def test_versions_serve_both_sdks(provider, make_kms, tenant):
    versions = provider.list_version_details(ListVersionDetailsRequest()).versions
    ids = {v.id: v for v in versions}
    assert {"v1", "v1.0"} <= set(ids)
    assert ids["v1"].status == "CURRENT" and ids["v1"].links[0].rel == "self"
    assert ids["v1"].links[0].type == "application/json"
    one = provider.list_specified_version_details(ListSpecifiedVersionDetailsRequest(version="v1")).version
    assert one.id == "v1" and one.updated is not None

    from huaweicloudsdkkms.v2 import ShowVersionRequest, ShowVersionsRequest
    kms = make_kms(tenant)
    assert "v1.0" in {v.id for v in kms.show_versions(ShowVersionsRequest()).versions}
    assert kms.show_version(ShowVersionRequest(version_id="v1.0")).version["id"] == "v1.0"


def test_version_discovery_needs_no_credentials(server, tenant):
    """VPCEP's API reference asks no X-Auth-Token of GET / and GET /{version}: dewstack
    answers them without credentials, and a client with a wrong secret key too."""
    import dataclasses
    import json
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(server.endpoint + "/") as resp:
        assert resp.status == 200
        ids = {v["id"] for v in json.load(resp)["versions"]}
    assert {"v1", "v1.0"} <= ids
    with urllib.request.urlopen(server.endpoint + "/v1") as resp:
        one = json.load(resp)["version"]
    assert (one["id"], one["status"], one["links"][0]["type"]) == ("v1", "CURRENT", "application/json")
    stranger = vpcep_client(server.endpoint, dataclasses.replace(tenant, sk="0" * 40))
    assert "v1" in {v.id for v in stranger.list_version_details(ListVersionDetailsRequest()).versions}
    assert stranger.list_specified_version_details(ListSpecifiedVersionDetailsRequest(version="v1")).version.id == "v1"
    # The rest of VPCEP still needs them.
    expect_err(lambda: stranger.list_endpoints(ListEndpointsRequest()), 401, "APIGW.0301")
    # An unknown version: a 400 envelope, never a 5xx (the route is shared with KMS,
    # whose answer it gives: dewstack's choice, the cloud documents none).
    try:
        urllib.request.urlopen(server.endpoint + "/v9")
        raise AssertionError("an unknown version was answered")
    except urllib.error.HTTPError as e:
        assert e.code == 400 and json.load(e)["error"]["error_code"] == "KMS.0201"


# ------------------------------------------------------------------ real traffic over loopback
def _echo_server():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return

            def handle(c):
                with c:
                    while True:
                        data = c.recv(4096)
                        if not data:
                            return
                        c.sendall(b"echo:" + data)

            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return srv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _roundtrip(ip: str, port: int) -> bytes:
    with socket.create_connection((ip, port), timeout=5) as c:
        c.sendall(b"hello")
        return c.recv(4096)


def _refused(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=2):
            return False
    except OSError:
        return True


def test_loopback_service_carries_traffic(provider, consumer, new_service, new_endpoint, acme_identity):
    echo = _echo_server()
    try:
        client_port = _free_port()
        svc = new_service(server_type="VM", ip="127.0.0.1", approval_enabled=True,
                          ports=[PortList(client_port=client_port, server_port=echo.getsockname()[1],
                                          protocol="TCP")])
        permit(provider, svc.id, acme_identity.domain_id)
        ep = new_endpoint(svc.id)
        ip = ep.ip
        assert ip.startswith("127.0.") and ip != "127.0.0.1"
        assert _refused(ip, client_port), "nothing listens before acceptance"
        act(provider, svc.id, "receive", ep.id)
        assert _roundtrip(ip, client_port) == b"echo:hello"
        act(provider, svc.id, "reject", ep.id)
        assert _refused(ip, client_port), "rejecting closes the port"
        act(provider, svc.id, "receive", ep.id)
        assert _roundtrip(ip, client_port) == b"echo:hello"
        consumer.delete_endpoint(DeleteEndpointRequest(vpc_endpoint_id=ep.id))
        assert _refused(ip, client_port), "deleting closes the port"
    finally:
        echo.close()


def test_forwarding_and_state_survive_restart(server, restart_server, tenant, acme_identity, provider,
                                              consumer, new_service, new_endpoint):
    echo = _echo_server()
    try:
        client_port = _free_port()
        svc = new_service(ip="127.0.0.1", approval_enabled=False,
                          ports=[PortList(client_port=client_port, server_port=echo.getsockname()[1])])
        permit(provider, svc.id, acme_identity.domain_id)
        ep = new_endpoint(svc.id)
        describe_connections(provider, svc.id, [(ep.id, "kept")])
        assert _roundtrip(ep.ip, client_port) == b"echo:hello"

        assert restart_server() == 0
        provider = vpcep_client(server.endpoint, tenant)
        consumer = vpcep_client(server.endpoint, acme_identity)
        assert _roundtrip(ep.ip, client_port) == b"echo:hello", "accepted endpoints listen again"
        conn = connections(provider, svc.id).connections[0]
        assert (conn.id, conn.status, conn.description, conn.marker_id) == (ep.id, "accepted", "kept", ep.marker_id)
        consumer.delete_endpoint(DeleteEndpointRequest(vpc_endpoint_id=ep.id))
        provider.delete_endpoint_service(DeleteEndpointServiceRequest(vpc_endpoint_service_id=svc.id))
        assert _refused(ep.ip, client_port)
    finally:
        echo.close()


def test_endpoint_quota_and_describe_needs_a_key(provider, new_service, new_endpoint):
    svc = new_service(approval_enabled=False)  # the provider's own domain may always connect
    quota = provider.list_quota_details(ListQuotaDetailsRequest(type="endpoint")).quotas.resources[0]
    assert (quota.type, quota.used) == ("endpoint", 0)
    for _ in range(quota.quota):
        new_endpoint(svc.id, client=provider)
    expect_err(lambda: new_endpoint(svc.id, client=provider), 400, "Endpoint.1018")
    assert provider.list_endpoints(ListEndpointsRequest(limit=1000)).total_count == quota.quota
    expect_err(lambda: provider.list_service_describe_details(ListServiceDescribeDetailsRequest()),
               400, "EndPoint.2002")
    expect_err(lambda: provider.list_service_describe_details(ListServiceDescribeDetailsRequest(id="x")),
               400, "EndPoint.3062")
