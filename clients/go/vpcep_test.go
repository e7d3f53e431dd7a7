package dewstack_test

import (
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpcep/v1/model"
)

func newID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := []byte(hexString(b))
	return string(h[0:8]) + "-" + string(h[8:12]) + "-" + string(h[12:16]) + "-" + string(h[16:20]) + "-" + string(h[20:32])
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

// Service → permission → endpoint (pending) → accept → describe the
// connection (the VPCEP seed page, UpdateEndpointConnectionsDesc) → show.
func TestVpcepServiceEndpointAcceptDescribe(t *testing.T) {
	t.Parallel()
	provider, consumer := vpcepClient(t, root), vpcepClient(t, other)
	svc, err := provider.CreateEndpointService(&model.CreateEndpointServiceRequest{Body: &model.CreateEndpointServiceRequestBody{
		PortId:          newID(),
		VpcId:           newID(),
		ApprovalEnabled: ptr(true),
		ServerType:      model.GetCreateEndpointServiceRequestBodyServerTypeEnum().VM,
		Ports: []model.PortList{{ClientPort: ptr(int32(8080)), ServerPort: ptr(int32(80)),
			Protocol: ptr(model.GetPortListProtocolEnum().TCP)}},
	}})
	must(t, err)
	defer provider.DeleteEndpointService(&model.DeleteEndpointServiceRequest{VpcEndpointServiceId: *svc.Id})
	if *svc.Status != "available" && *svc.Status != "creating" {
		t.Fatalf("service status: %s", *svc.Status)
	}
	// Before permission, another domain cannot connect.
	_, err = consumer.CreateEndpoint(&model.CreateEndpointRequest{Body: &model.CreateEndpointRequestBody{EndpointServiceId: *svc.Id, VpcId: newID(), SubnetId: ptr(newID())}})
	if err == nil {
		t.Fatal("an endpoint was made without permission")
	}
	_, err = provider.AddOrRemoveServicePermissions(&model.AddOrRemoveServicePermissionsRequest{VpcEndpointServiceId: *svc.Id,
		Body: &model.AddOrRemoveServicePermissionsRequestBody{Permissions: []string{"iam:domain::" + other.DomainID},
			Action: model.GetAddOrRemoveServicePermissionsRequestBodyActionEnum().ADD}})
	must(t, err)
	ep, err := consumer.CreateEndpoint(&model.CreateEndpointRequest{Body: &model.CreateEndpointRequestBody{EndpointServiceId: *svc.Id, VpcId: newID(), SubnetId: ptr(newID())}})
	must(t, err)
	defer consumer.DeleteEndpoint(&model.DeleteEndpointRequest{VpcEndpointId: *ep.Id})
	if *ep.Status != "pendingAcceptance" && *ep.Status != "creating" {
		t.Fatalf("endpoint status: %s", *ep.Status)
	}
	conns, err := provider.ListServiceConnections(&model.ListServiceConnectionsRequest{VpcEndpointServiceId: *svc.Id})
	must(t, err)
	if *conns.TotalCount != 1 || *(*conns.Connections)[0].Id != *ep.Id || *(*conns.Connections)[0].Status != "pendingAcceptance" {
		t.Fatalf("connections: %+v", conns)
	}
	_, err = provider.AcceptOrRejectEndpoint(&model.AcceptOrRejectEndpointRequest{VpcEndpointServiceId: *svc.Id,
		Body: &model.AcceptOrRejectEndpointRequestBody{Action: model.GetAcceptOrRejectEndpointRequestBodyActionEnum().RECEIVE, Endpoints: []string{*ep.Id}}})
	must(t, err)
	// The seed's description, Chinese text and brackets included.
	desc := "终端节点节点1, 属于账户[0605767a3300d5762fb7c0186d9e1779]iaas_commonnet_odin_26"
	upd, err := provider.UpdateEndpointConnectionsDesc(&model.UpdateEndpointConnectionsDescRequest{VpcEndpointServiceId: *svc.Id,
		Body: &model.UpdateEndpointConnectionsDescRequestBody{Connections: []model.ConnectionsDesc{{Id: *ep.Id, Description: desc}}}})
	must(t, err)
	c := (*upd.Connections)[0]
	if *c.Id != *ep.Id || *c.Status != "accepted" || *c.Description != desc || *c.DomainId != other.DomainID || c.CreatedAt == nil || c.MarkerId == nil {
		t.Fatalf("described connection: %+v", c)
	}
	shown, err := consumer.ListEndpointInfoDetails(&model.ListEndpointInfoDetailsRequest{VpcEndpointId: *ep.Id})
	must(t, err)
	if *shown.Status != "accepted" || *shown.EndpointServiceId != *svc.Id {
		t.Fatalf("endpoint: %+v", shown)
	}
	// Errors: a service nobody has, and an endpoint id that is not one.
	_, err = provider.UpdateEndpointConnectionsDesc(&model.UpdateEndpointConnectionsDescRequest{VpcEndpointServiceId: newID(),
		Body: &model.UpdateEndpointConnectionsDescRequestBody{Connections: []model.ConnectionsDesc{{Id: *ep.Id, Description: "x"}}}})
	expectError(t, err, 404, "EndPoint.0005")
	_, err = provider.AcceptOrRejectEndpoint(&model.AcceptOrRejectEndpointRequest{VpcEndpointServiceId: *svc.Id,
		Body: &model.AcceptOrRejectEndpointRequestBody{Action: model.GetAcceptOrRejectEndpointRequestBodyActionEnum().RECEIVE, Endpoints: []string{"bad-id"}}})
	expectError(t, err, 400, "EndPoint.2017")
}
