// Package dapr_test drives Dapr's Huawei Cloud CSMS secret store
// (github.com/dapr/components-contrib/secretstores/huaweicloud/csms) against a
// dewstack started from $DEWSTACK_BIN, configured as a Dapr user configures
// it: region, access key and secret key in the component metadata, endpoints
// from the SDK's environment variables, no project id (the SDK asks IAM over
// HTTPS, trusting dewstack's CA through SSL_CERT_FILE); its CSMS calls go
// through a TLS recording proxy to dewstack's HTTP listener once and to its
// HTTPS listener once (see TestDaprCsmsSecretStoreGetAndBulkGet).
package dapr_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/dewstack/dewstack/clients/harness"
)

const regionID = harness.Region

// banner holds the server's `export NAME=value` lines.
var banner map[string]string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	srv, err := harness.Start(harness.Options{TLS: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer srv.Stop()
	banner = srv.Banner
	// IAM over HTTPS with dewstack's CA; no project id anywhere.
	os.Setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", banner["HUAWEICLOUD_SDK_IAM_ENDPOINT"])
	os.Unsetenv("HUAWEICLOUD_SDK_PROJECT_ID")
	os.Setenv("SSL_CERT_FILE", banner["DEWSTACK_CA_FILE"])
	return m.Run()
}
