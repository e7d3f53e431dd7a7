// Package dewstack_test drives a dewstack server through the official Huawei
// Cloud Go SDK (KMS, CSMS, VPCEP), as an unchanged Go application would.
//
// TestMain starts one server for the package from $DEWSTACK_BIN: HTTP on one
// port and HTTPS (its generated CA) on another, plus a second tenant for the
// VPCEP consumer side, and reads endpoints and credentials from its banner.
// DEWSTACK_CLIENT_SCHEME (http, the default, or https) picks which listener
// the suite's SDK clients use; the env-only clients always use HTTPS.
package dewstack_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dewstack/dewstack/clients/harness"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	csms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	vpcep "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpcep/v1"
)

const regionID = harness.Region

// Tenant is one domain's project and access key.
type Tenant struct {
	AK, SK, ProjectID, DomainID string
}

var (
	// banner holds the server's `export NAME=value` lines.
	banner map[string]string
	root   Tenant
	other  Tenant
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	other = Tenant{AK: randomUpper(20), SK: hex.EncodeToString(randomBytes(20)), ProjectID: hex.EncodeToString(randomBytes(16)), DomainID: hex.EncodeToString(randomBytes(16))}
	toml := fmt.Sprintf(`[[domains]]
id = %q
name = "go-consumer"

[[domains.projects]]
id = %q
name = %q

[[domains.users]]
name = "go-user"
password = "Go-Pw-%s"

[[domains.access_keys]]
access_key = %q
secret_key = %q
user = "go-user"
`, other.DomainID, other.ProjectID, regionID, hex.EncodeToString(randomBytes(6)), other.AK, other.SK)
	srv, err := harness.Start(harness.Options{TLS: true, Config: toml})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer srv.Stop()
	banner = srv.Banner
	root = Tenant{AK: banner["HUAWEICLOUD_SDK_AK"], SK: banner["HUAWEICLOUD_SDK_SK"], ProjectID: banner["HUAWEICLOUD_SDK_PROJECT_ID"]}
	// What an unchanged application is given (see env_test.go): the
	// banner's SDK variables, the CA for HTTPS, and no project id.
	for _, k := range []string{"KMS", "CSMS", "VPCEP"} {
		name := "HUAWEICLOUD_SDK_REGION_" + k + "_CN_NORTH_4"
		os.Setenv(name, banner[name])
	}
	os.Setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", banner["HUAWEICLOUD_SDK_IAM_ENDPOINT"])
	os.Setenv("HUAWEICLOUD_SDK_AK", root.AK)
	os.Setenv("HUAWEICLOUD_SDK_SK", root.SK)
	os.Unsetenv("HUAWEICLOUD_SDK_PROJECT_ID")
	os.Setenv("SSL_CERT_FILE", banner["DEWSTACK_CA_FILE"])
	if clientEndpoint, err = endpoint(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if !strings.HasPrefix(clientEndpoint, "http") {
		fmt.Fprintf(os.Stderr, "no endpoint for DEWSTACK_CLIENT_SCHEME in the banner: %v\n", banner)
		return 2
	}
	fmt.Fprintln(os.Stderr, "clients/go: SDK clients use", clientEndpoint)
	return m.Run()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func randomUpper(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := randomBytes(n)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func unique(prefix string) string {
	return prefix + "-" + hex.EncodeToString(randomBytes(4))
}

// endpoint is where the suite's explicitly configured clients go:
// DEWSTACK_CLIENT_SCHEME=https (scripts/test.sh's PostgreSQL pass) picks the
// HTTPS listener, trusting the generated CA through SSL_CERT_FILE; unset or
// "http" the plain-HTTP one. The env-only clients go over HTTPS either way.
func endpoint() (string, error) {
	switch scheme := os.Getenv("DEWSTACK_CLIENT_SCHEME"); scheme {
	case "", "http":
		return banner["DEWSTACK_ENDPOINT"], nil
	case "https":
		return banner["DEWSTACK_TLS_ENDPOINT"], nil
	default:
		return "", fmt.Errorf("DEWSTACK_CLIENT_SCHEME=%q: want http or https", scheme)
	}
}

// clientEndpoint is endpoint(), chosen once in TestMain.
var clientEndpoint string

func creds(t Tenant) *basic.Credentials {
	return basic.NewCredentialsBuilder().WithAk(t.AK).WithSk(t.SK).WithProjectId(t.ProjectID).Build()
}

func reg() *region.Region { return region.NewRegion(regionID, clientEndpoint) }

func kmsClient(tb testing.TB, t Tenant) *kms.KmsClient {
	hc, err := kms.KmsClientBuilder().WithRegion(reg()).WithCredential(creds(t)).
		WithHttpConfig(config.DefaultHttpConfig().WithRetries(0)).SafeBuild()
	if err != nil {
		tb.Fatal(err)
	}
	return kms.NewKmsClient(hc)
}

func csmsClient(tb testing.TB, t Tenant) *csms.CsmsClient {
	hc, err := csms.CsmsClientBuilder().WithRegion(reg()).WithCredential(creds(t)).SafeBuild()
	if err != nil {
		tb.Fatal(err)
	}
	return csms.NewCsmsClient(hc)
}

func vpcepClient(tb testing.TB, t Tenant) *vpcep.VpcepClient {
	hc, err := vpcep.VpcepClientBuilder().WithRegion(reg()).WithCredential(creds(t)).SafeBuild()
	if err != nil {
		tb.Fatal(err)
	}
	return vpcep.NewVpcepClient(hc)
}

// expectError asserts that err is the service's error with this status and code.
func expectError(tb testing.TB, err error, status int, code string) {
	tb.Helper()
	se, ok := err.(*sdkerr.ServiceResponseError)
	if !ok {
		tb.Fatalf("want HTTP %d %s, got %T %v", status, code, err, err)
	}
	if se.StatusCode != status || se.ErrorCode != code {
		tb.Fatalf("want HTTP %d %s, got %d %s (%s)", status, code, se.StatusCode, se.ErrorCode, se.ErrorMessage)
	}
	if se.ErrorMessage == "" || se.RequestId == "" {
		tb.Fatalf("error without message or request id: %+v", se)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
