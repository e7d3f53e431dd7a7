// Package dewstack_test drives a dewstack server through the official Huawei
// Cloud Go SDK (KMS, CSMS, VPCEP), as an unchanged Go application would.
//
// TestMain starts one server for the package from $DEWSTACK_BIN: HTTP on one
// port and HTTPS (its generated CA) on another, plus a second tenant for the
// VPCEP consumer side, and reads endpoints and credentials from its banner.
package dewstack_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	csms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	vpcep "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpcep/v1"
)

const regionID = "cn-north-4"

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
	bin := os.Getenv("DEWSTACK_BIN")
	if bin == "" {
		fmt.Fprintln(os.Stderr, "DEWSTACK_BIN must name the dewstack binary")
		return 2
	}
	dir, err := os.MkdirTemp("", "dewstack-go-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	other = Tenant{AK: randomUpper(20), SK: hex.EncodeToString(randomBytes(20)), ProjectID: hex.EncodeToString(randomBytes(16)), DomainID: hex.EncodeToString(randomBytes(16))}
	cfg := filepath.Join(dir, "dewstack.toml")
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
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	stdout := filepath.Join(dir, "stdout.log")
	out, err := os.Create(stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "data"), "--config", cfg, "--region", regionID)
	cmd.Stdout = out
	cmd.Stderr, _ = os.Create(filepath.Join(dir, "stderr.log"))
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	if banner, err = waitBanner(stdout, 60*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		stderr, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
		fmt.Fprintln(os.Stderr, string(stderr))
		return 2
	}
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
	return m.Run()
}

// cleanEnv is this process's environment without settings meant for other
// dewstacks or SDK clients.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DEWSTACK_") && !strings.HasPrefix(kv, "DEWSTACK_DATABASE_URL=") {
			continue
		}
		if strings.HasPrefix(kv, "HUAWEICLOUD_SDK_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func waitBanner(path string, within time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		got := parseBanner(path)
		if got["DEWSTACK_CA_FILE"] != "" && got["HUAWEICLOUD_SDK_PROJECT_ID"] != "" {
			return got, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	text, _ := os.ReadFile(path)
	return nil, fmt.Errorf("no complete banner within %s:\n%s", within, text)
}

func parseBanner(path string) map[string]string {
	got := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return got
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			got[k] = strings.Trim(v, `"'`)
		}
	}
	return got
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

// httpEndpoint is the plain-HTTP endpoint; most tests use it, the env-only
// clients go over HTTPS.
func httpEndpoint() string { return banner["DEWSTACK_ENDPOINT"] }

func creds(t Tenant) *basic.Credentials {
	return basic.NewCredentialsBuilder().WithAk(t.AK).WithSk(t.SK).WithProjectId(t.ProjectID).Build()
}

func reg() *region.Region { return region.NewRegion(regionID, httpEndpoint()) }

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
