package io.dewstack.sdk;

import static io.dewstack.sdk.Dewstack.newId;
import static io.dewstack.sdk.Sdk.call;
import static io.dewstack.sdk.Sdk.expectError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.huaweicloud.sdk.core.exception.ServiceResponseException;
import com.huaweicloud.sdk.vpcep.v1.VpcepClient;
import com.huaweicloud.sdk.vpcep.v1.model.*;
import java.util.List;
import org.junit.jupiter.api.Test;

class VpcepTest {
    /**
     * Service → permission → endpoint (pending) → accept → describe the connection (the
     * VPCEP seed page, UpdateEndpointConnectionsDesc) → show.
     */
    @Test
    void serviceEndpointAcceptDescribe() {
        VpcepClient provider = Sdk.vpcep(Sdk.root());
        VpcepClient consumer = Sdk.vpcep(Dewstack.OTHER);
        CreateEndpointServiceResponse svc = call(() -> provider.createEndpointService(
                new CreateEndpointServiceRequest().withBody(new CreateEndpointServiceRequestBody()
                        .withPortId(newId()).withVpcId(newId()).withApprovalEnabled(true)
                        .withServerType(CreateEndpointServiceRequestBody.ServerTypeEnum.VM)
                        .withPorts(List.of(new PortList().withClientPort(8080).withServerPort(80)
                                .withProtocol(PortList.ProtocolEnum.TCP))))));
        String svcId = svc.getId();
        try {
            assertTrue(List.of("available", "creating").contains(svc.getStatus()), svc.getStatus());
            // Before permission, another domain cannot connect.
            assertThrows(ServiceResponseException.class, () -> consumer.createEndpoint(new CreateEndpointRequest()
                    .withBody(new CreateEndpointRequestBody().withEndpointServiceId(svcId).withVpcId(newId())
                            .withSubnetId(newId()))));
            call(() -> provider.addOrRemoveServicePermissions(new AddOrRemoveServicePermissionsRequest()
                    .withVpcEndpointServiceId(svcId).withBody(new AddOrRemoveServicePermissionsRequestBody()
                            .withPermissions(List.of("iam:domain::" + Dewstack.OTHER.domainId()))
                            .withAction(AddOrRemoveServicePermissionsRequestBody.ActionEnum.ADD))));
            CreateEndpointResponse ep = call(() -> consumer.createEndpoint(new CreateEndpointRequest()
                    .withBody(new CreateEndpointRequestBody().withEndpointServiceId(svcId).withVpcId(newId())
                            .withSubnetId(newId()))));
            try {
                connect(provider, consumer, svcId, ep);
            } finally {
                consumer.deleteEndpoint(new DeleteEndpointRequest().withVpcEndpointId(ep.getId()));
            }
        } finally {
            provider.deleteEndpointService(new DeleteEndpointServiceRequest().withVpcEndpointServiceId(svcId));
        }
    }

    private static void connect(VpcepClient provider, VpcepClient consumer, String svcId, CreateEndpointResponse ep) {
        assertTrue(List.of("pendingAcceptance", "creating").contains(ep.getStatus()), ep.getStatus());
        ListServiceConnectionsResponse conns = call(() -> provider.listServiceConnections(
                new ListServiceConnectionsRequest().withVpcEndpointServiceId(svcId)));
        assertEquals(1, conns.getTotalCount());
        assertEquals(ep.getId(), conns.getConnections().get(0).getId());
        assertEquals("pendingAcceptance", conns.getConnections().get(0).getStatus());

        call(() -> provider.acceptOrRejectEndpoint(new AcceptOrRejectEndpointRequest().withVpcEndpointServiceId(svcId)
                .withBody(new AcceptOrRejectEndpointRequestBody()
                        .withAction(AcceptOrRejectEndpointRequestBody.ActionEnum.RECEIVE)
                        .withEndpoints(List.of(ep.getId())))));
        // The seed's description, Chinese text and brackets included.
        String desc = "终端节点节点1, 属于账户[0605767a3300d5762fb7c0186d9e1779]iaas_commonnet_odin_26";
        UpdateEndpointConnectionsDescResponse upd = call(() -> provider.updateEndpointConnectionsDesc(
                new UpdateEndpointConnectionsDescRequest().withVpcEndpointServiceId(svcId)
                        .withBody(new UpdateEndpointConnectionsDescRequestBody().withConnections(
                                List.of(new ConnectionsDesc().withId(ep.getId()).withDescription(desc))))));
        ConnectionEndpoints c = upd.getConnections().get(0);
        assertEquals(ep.getId(), c.getId());
        assertEquals("accepted", c.getStatus());
        assertEquals(desc, c.getDescription());
        assertEquals(Dewstack.OTHER.domainId(), c.getDomainId());
        assertNotNull(c.getCreatedAt());
        assertNotNull(c.getMarkerId());

        ListEndpointInfoDetailsResponse shown = call(() -> consumer.listEndpointInfoDetails(
                new ListEndpointInfoDetailsRequest().withVpcEndpointId(ep.getId())));
        assertEquals("accepted", shown.getStatus());
        assertEquals(svcId, shown.getEndpointServiceId());
        call(() -> provider.listServiceDetails(new ListServiceDetailsRequest().withVpcEndpointServiceId(svcId)));
        call(() -> consumer.listEndpoints(new ListEndpointsRequest()));

        // Errors: a service nobody has, and an endpoint id that is not one.
        expectError(404, "EndPoint.0005", () -> provider.updateEndpointConnectionsDesc(
                new UpdateEndpointConnectionsDescRequest().withVpcEndpointServiceId(newId())
                        .withBody(new UpdateEndpointConnectionsDescRequestBody().withConnections(
                                List.of(new ConnectionsDesc().withId(ep.getId()).withDescription("x"))))));
        expectError(400, "EndPoint.2017", () -> provider.acceptOrRejectEndpoint(
                new AcceptOrRejectEndpointRequest().withVpcEndpointServiceId(svcId)
                        .withBody(new AcceptOrRejectEndpointRequestBody()
                                .withAction(AcceptOrRejectEndpointRequestBody.ActionEnum.RECEIVE)
                                .withEndpoints(List.of("bad-id")))));
    }
}
