package terraform_test

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/huaweicloud/terraform-provider-huaweicloud/huaweicloud/services/vpcep"
)

func uuid(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// huaweicloud_vpcep_service (approval required) → huaweicloud_vpcep_endpoint
// (pendingAcceptance) → huaweicloud_vpcep_approval (accepted), then destroy
// in reverse order; the provider's waiters see creating → available,
// pendingAcceptance → accepted and deleting → deleted.
func TestVpcepServiceEndpointApproval(t *testing.T) {
	vpc := uuid(t)
	services := vpcep.ResourceVPCEndpointService()
	svc := apply(t, services, nil, map[string]interface{}{
		"name":        "tf-svc",
		"server_type": "VM",
		"vpc_id":      vpc,
		"port_id":     uuid(t),
		"approval":    true,
		"description": "terraform service",
		"port_mapping": []interface{}{map[string]interface{}{
			"protocol": "TCP", "service_port": 8080, "terminal_port": 80,
		}},
	})
	attr(t, svc, "status", "available")
	attr(t, svc, "approval", "true")
	attr(t, svc, "port_mapping.0.service_port", "8080")

	endpoints := vpcep.ResourceVPCEndpoint()
	ep := apply(t, endpoints, nil, map[string]interface{}{
		"service_id": svc.ID,
		"vpc_id":     vpc,
		"network_id": uuid(t),
		"enable_dns": false,
	})
	attr(t, ep, "status", "pendingAcceptance")

	approvals := vpcep.ResourceVPCEndpointApproval()
	ap := apply(t, approvals, nil, map[string]interface{}{
		"service_id": svc.ID,
		"endpoints":  []interface{}{ep.ID},
	})
	attr(t, ap, "connections.0.endpoint_id", ep.ID)
	attr(t, ap, "connections.0.status", "accepted")
	ep = refresh(t, endpoints, ep)
	if ep == nil {
		t.Fatal("endpoint gone")
	}
	attr(t, ep, "status", "accepted")

	destroy(t, approvals, ap)
	destroy(t, endpoints, ep)
	if got := refresh(t, endpoints, ep); got != nil {
		t.Fatalf("endpoint still there after destroy: %v", got.Attributes)
	}
	destroy(t, services, svc)
	if got := refresh(t, services, svc); got != nil {
		t.Fatalf("service still there after destroy: %v", got.Attributes)
	}
}
