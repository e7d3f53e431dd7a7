"""VPCEP loopback forwarding cannot exhaust the server (issue 11), through the official
VpcepClient: the listener and connection bounds of ``[limits]``, refusing backends that are
dewstack's own addresses (loops), and the endpoint whitelist applied to each peer address.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.parse

import pytest
from huaweicloudsdkvpcep.v1 import *  # noqa: F401,F403 (request and model classes)

import support
from test_vpcep import (_echo_server, _free_port, _refused, _roundtrip, expect_err, made,  # noqa: F401
                        new_endpoint, new_service, provider, consumer, rid, show_endpoint,
                        vpcep_client)


def _closed_at_once(ip: str, port: int, source: str = None) -> bool:
    """The forwarder accepted the connection and closed it without forwarding anything."""
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(5)
    try:
        if source:
            c.bind((source, 0))
        c.connect((ip, port))
        try:
            c.sendall(b"hello")
            return c.recv(4096) == b""
        except ConnectionResetError:
            return True
    finally:
        c.close()


def _open_fds(srv) -> int:
    return len(os.listdir(f"/proc/{srv.proc.pid}/fd"))


def _api_port(srv) -> int:
    return urllib.parse.urlsplit(srv.endpoint).port


def _loopback_service(new_service, echo, client_port, **fields):
    fields.setdefault("approval_enabled", False)
    return new_service(server_type="VM", ip="127.0.0.1", ports=[PortList(
        client_port=client_port, server_port=echo.getsockname()[1], protocol="TCP")], **fields)


# ------------------------------------------------------------------ loops
def test_backends_that_are_dewstack_itself_are_refused(server, provider, new_service, new_endpoint):
    """Every way to point a service at dewstack's own listeners or API is refused with the
    VPCEP envelope; the API keeps answering, forwarding keeps working, no descriptor leaks."""
    echo = _echo_server()
    try:
        port = _free_port()
        a = _loopback_service(new_service, echo, port)
        ea = new_endpoint(a.id, client=provider)  # the provider's own domain may connect
        assert _roundtrip(ea.ip, port) == b"echo:hello"
        before = _open_fds(server)

        # B's backend is A's endpoint listener (A -> B -> A needs this edge): refused.
        to_listener = [PortList(client_port=_free_port(), server_port=port, protocol="TCP")]
        e = expect_err(lambda: new_service(ip=ea.ip, ports=to_listener), 400, "EndPoint.3010")
        assert ea.ip in e.error_msg
        # Any address of the endpoint range is refused, listening or not (no later endpoint
        # can close a loop).
        expect_err(lambda: new_service(ip="127.0.200.7", ports=to_listener), 400, "EndPoint.3010")
        # The API's own address.
        to_api = [PortList(client_port=_free_port(), server_port=_api_port(server), protocol="TCP")]
        expect_err(lambda: new_service(ip="127.0.0.1", ports=to_api), 400, "EndPoint.3043")
        # The same through UpdateEndpointService, on A itself: nothing changes.
        update = lambda **f: provider.update_endpoint_service(UpdateEndpointServiceRequest(  # noqa: E731
            vpc_endpoint_service_id=a.id, body=UpdateEndpointServiceRequestBody(**f)))
        expect_err(lambda: update(ip=ea.ip), 400, "EndPoint.3010")
        expect_err(lambda: update(ports=to_api), 400, "EndPoint.3043")
        shown = provider.list_service_details(ListServiceDetailsRequest(vpc_endpoint_service_id=a.id))
        assert shown.ip == "127.0.0.1" and shown.ports[0].server_port == echo.getsockname()[1]

        assert show_endpoint(provider, ea.id).status == "accepted"
        assert _roundtrip(ea.ip, port) == b"echo:hello"
        assert provider.list_endpoint_service(ListEndpointServiceRequest()).total_count >= 1
        assert _open_fds(server) <= before + 2, "no descriptor is left behind"
    finally:
        echo.close()


# ------------------------------------------------------------------ whitelist
def test_endpoint_whitelist_applies_to_the_peer_address(provider, new_service, new_endpoint):
    echo = _echo_server()
    try:
        port = _free_port()
        svc = _loopback_service(new_service, echo, port)
        ep = new_endpoint(svc.id, client=provider, enable_whitelist=True, whitelist=["127.0.0.1"])
        assert _roundtrip(ep.ip, port) == b"echo:hello", "a connection from 127.0.0.1 is let in"
        assert _closed_at_once(ep.ip, port, source="127.0.0.9"), "another peer is not"

        def white(**fields):
            return provider.update_endpoint_white(UpdateEndpointWhiteRequest(
                vpc_endpoint_id=ep.id, body=UpdateEndpointWhiteRequestBody(**fields)))

        kept = socket.create_connection((ep.ip, port), timeout=5)
        try:
            kept.sendall(b"one")
            assert kept.recv(4096) == b"echo:one"
            assert white(whitelist=["10.0.0.0/8"], enable_whitelist=True).whitelist == ["10.0.0.0/8"]
            assert _closed_at_once(ep.ip, port), "the new whitelist holds for new connections"
            kept.sendall(b"two")
            assert kept.recv(4096) == b"echo:two", "the listener was not reopened"
        finally:
            kept.close()
        white(whitelist=["127.0.0.0/24"], enable_whitelist=True)
        assert _roundtrip(ep.ip, port) == b"echo:hello"
        assert _closed_at_once(ep.ip, port, source="127.0.1.250")
        white(whitelist=[], enable_whitelist=True)
        assert _closed_at_once(ep.ip, port), "access control with no entry lets nobody in"
        white(enable_whitelist=False)
        assert _roundtrip(ep.ip, port) == b"echo:hello", "switched off, everyone may connect"
        assert show_endpoint(provider, ep.id).status == "accepted"
    finally:
        echo.close()


# ------------------------------------------------------------------ bounds
@pytest.fixture
def small_server(tmp_path, pool_identity):
    """A server of its own with tiny forwarding bounds."""
    ident = support.new_identity(domain_name="fwd-bounds", user="fwd-admin")
    cfg = tmp_path / "dewstack.toml"
    cfg.write_text("[limits]\nforward_max_listeners = 2\nforward_max_connections = 4\n"
                   "forward_max_connections_per_endpoint = 1\n\n" + support.config_toml([ident]))
    srv = support.DewstackServer(tmp_path / "data", tmp_path / "logs", config=cfg,
                                 identity_env={}, name="fwdbounds", shared_database=False)
    srv.start()
    yield srv, vpcep_client(srv.endpoint, ident)
    srv.stop()


def test_forwarding_bounds_from_the_config(small_server):
    srv, client = small_server
    echo = _echo_server()
    made_eps, made_svcs = [], []
    try:
        def service(*client_ports):
            s = client.create_endpoint_service(CreateEndpointServiceRequest(
                body=CreateEndpointServiceRequestBody(
                    server_type="VM", vpc_id=rid(), ip="127.0.0.1", approval_enabled=False,
                    ports=[PortList(client_port=p, server_port=echo.getsockname()[1], protocol="TCP")
                           for p in client_ports])))
            made_svcs.append(s.id)
            return s

        def endpoint(svc):
            e = client.create_endpoint(CreateEndpointRequest(body=CreateEndpointRequestBody(
                endpoint_service_id=svc.id, vpc_id=rid(), subnet_id=rid())))
            made_eps.append(e.id)
            return e

        p1, p2, p3 = _free_port(), _free_port(), _free_port()
        first = endpoint(service(p1))
        assert _roundtrip(first.ip, p1) == b"echo:hello"
        # Two more listeners would pass forward_max_listeners = 2: none opens, the endpoint
        # is failed with the reason, as any endpoint whose listeners cannot be opened.
        big = endpoint(service(p2, p3))
        assert big.status == "failed"
        shown = show_endpoint(client, big.id)
        assert shown.status == "failed" and shown.error[0].error_code == "EndPoint.2022"
        assert "forward_max_listeners" in shown.error[0].error_message
        assert _refused(big.ip, p2) and _refused(big.ip, p3), "all its listeners or none"

        # forward_max_connections_per_endpoint = 1: a second connection is closed at once.
        held = socket.create_connection((first.ip, p1), timeout=5)
        try:
            held.sendall(b"x")
            assert held.recv(4096) == b"echo:x"
            assert _closed_at_once(first.ip, p1)
        finally:
            held.close()
        # The slot is given back when the connection ends.
        for _ in range(50):
            try:
                if _roundtrip(first.ip, p1) == b"echo:hello":
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the freed slot never came back")
        logged = srv.stderr_path.read_text(errors="replace") + srv.stdout_path.read_text(errors="replace")
        assert "VPC endpoint forwarding limits" in logged
    finally:
        for eid in made_eps:
            client.delete_endpoint(DeleteEndpointRequest(vpc_endpoint_id=eid))
        for sid in made_svcs:
            client.delete_endpoint_service(DeleteEndpointServiceRequest(vpc_endpoint_service_id=sid))
        echo.close()
