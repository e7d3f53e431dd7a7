package dapr_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dapr/components-contrib/metadata"
	"github.com/dapr/components-contrib/secretstores"
	daprcsms "github.com/dapr/components-contrib/secretstores/huaweicloud/csms"
	"github.com/dapr/kit/logger"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	csms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1/model"
)

// More than the component's page (it lists with limit 100).
const secretCount = 130

// listRecorder sits in a reverse proxy in front of dewstack's CSMS and keeps
// the secret names of every ListSecrets page the component receives, so the
// test sees duplicates that BulkGetSecret's map would hide.
type listRecorder struct {
	mu    sync.Mutex
	pages [][]string
}

func (r *listRecorder) record(resp *http.Response) error {
	if resp.Request.Method != http.MethodGet || !strings.HasSuffix(resp.Request.URL.Path, "/secrets") {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var page struct {
		Secrets []struct {
			Name string `json:"name"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return fmt.Errorf("ListSecrets body: %w", err)
	}
	names := make([]string, 0, len(page.Secrets))
	for _, s := range page.Secrets {
		names = append(names, s.Name)
	}
	r.mu.Lock()
	r.pages = append(r.pages, names)
	r.mu.Unlock()
	return nil
}

// The component's CSMS calls reach dewstack's HTTP listener in one subtest
// and its HTTPS listener in the other (IAM is HTTPS in both: the SDK
// insists); each run sees its own secrets among the other's.
func TestDaprCsmsSecretStoreGetAndBulkGet(t *testing.T) {
	if !strings.HasPrefix(banner["HUAWEICLOUD_SDK_IAM_ENDPOINT"], "https://") {
		t.Fatalf("IAM is not served over HTTPS: %q", banner["HUAWEICLOUD_SDK_IAM_ENDPOINT"])
	}
	// The SDK reads HUAWEICLOUD_SDK_REGION_* and Go reads SSL_CERT_FILE once
	// per process, so the component gets one TLS proxy for both subtests, set
	// before the first call; what changes is the listener behind it.
	front := &switchingProxy{}
	proxy := httptest.NewTLSServer(front)
	defer proxy.Close()
	t.Setenv("HUAWEICLOUD_SDK_REGION_CSMS_CN_NORTH_4", proxy.URL)
	t.Setenv("SSL_CERT_FILE", trustBundle(t, proxy))
	for _, overTLS := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[overTLS]
		t.Run(name, func(t *testing.T) {
			rec := &listRecorder{}
			front.use(recordingProxy(t, overTLS, rec))
			getAndBulkGet(t, name, rec)
		})
	}
}

// switchingProxy hands every request to the handler last given to use.
type switchingProxy struct {
	mu      sync.Mutex
	current http.Handler
}

func (p *switchingProxy) use(h http.Handler) {
	p.mu.Lock()
	p.current = h
	p.mu.Unlock()
}

func (p *switchingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	h := p.current
	p.mu.Unlock()
	h.ServeHTTP(w, r)
}

// recordingProxy forwards to dewstack's HTTP listener, or to its HTTPS one
// (trusted through dewstack's CA), through rec.
func recordingProxy(t *testing.T, overTLS bool, rec *listRecorder) http.Handler {
	t.Helper()
	upstream, scheme := banner["DEWSTACK_ENDPOINT"], "http"
	if overTLS {
		upstream, scheme = banner["DEWSTACK_TLS_ENDPOINT"], "https"
	}
	target, err := url.Parse(upstream)
	if err != nil || target.Scheme != scheme {
		t.Fatalf("upstream %q (want %s): %v", upstream, scheme, err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = rec.record
	if overTLS {
		rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: dewstackCA(t)}}
	}
	return rp
}

func getAndBulkGet(t *testing.T, scheme string, rec *listRecorder) {
	ak, sk := banner["HUAWEICLOUD_SDK_AK"], banner["HUAWEICLOUD_SDK_SK"]

	// The secrets, made through the SDK with the banner's project over HTTP.
	// The component's SDK release (v0.1.56) has no SafeBuild; Build panics on a bad config.
	admin := csms.NewCsmsClient(csms.CsmsClientBuilder().
		WithRegion(region.NewRegion(regionID, banner["DEWSTACK_ENDPOINT"])).
		WithCredential(basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(banner["HUAWEICLOUD_SDK_PROJECT_ID"]).Build()).
		Build())
	prefix := fmt.Sprintf("dapr-%d-%s-", os.Getpid(), scheme)
	want := map[string]string{}
	for i := 0; i < secretCount; i++ {
		name, value := fmt.Sprintf("%s%03d", prefix, i), fmt.Sprintf("value-%d", i)
		if _, err := admin.CreateSecret(&model.CreateSecretRequest{Body: &model.CreateSecretRequestBody{Name: name, SecretString: &value}}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		want[name] = value
	}
	first := prefix + "000"
	second := "second"
	if _, err := admin.CreateSecretVersion(&model.CreateSecretVersionRequest{SecretName: first, Body: &model.CreateSecretVersionRequestBody{SecretString: &second}}); err != nil {
		t.Fatal(err)
	}

	// CSMS through the recording proxy; IAM over TLS to dewstack directly.
	store := daprcsms.NewHuaweiCsmsSecretStore(logger.NewLogger("dapr-csms-test"))
	err := store.Init(context.Background(), secretstores.Metadata{Base: metadata.Base{Properties: map[string]string{
		"region": regionID, "accessKey": ak, "secretAccessKey": sk,
	}}})
	if err != nil {
		t.Fatal(err)
	}

	got, err := store.GetSecret(context.Background(), secretstores.GetSecretRequest{Name: first, Metadata: map[string]string{"version_id": "latest"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data[first] != "second" {
		t.Fatalf("GetSecret: %v", got.Data)
	}
	// Without version_id the component asks for `.../versions/` (an empty
	// version id): an error, as for any path no operation serves.
	if _, err := store.GetSecret(context.Background(), secretstores.GetSecretRequest{Name: first}); err == nil {
		t.Fatal("GetSecret without a version id succeeded")
	}
	got, err = store.GetSecret(context.Background(), secretstores.GetSecretRequest{Name: first, Metadata: map[string]string{"version_id": "v1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data[first] != want[first] {
		t.Fatalf("GetSecret v1: %v", got.Data)
	}
	_, err = store.GetSecret(context.Background(), secretstores.GetSecretRequest{Name: prefix + "missing", Metadata: map[string]string{"version_id": "latest"}})
	if err == nil {
		t.Fatal("GetSecret of a missing secret succeeded")
	}
	want[first] = "second"

	bulk, err := store.BulkGetSecret(context.Background(), secretstores.BulkGetSecretRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range want {
		if bulk.Data[name][name] != value {
			t.Fatalf("BulkGetSecret %s: %v", name, bulk.Data[name])
		}
	}
	for i, p := range rec.pages {
		t.Logf("page %d: %d names", i, len(p))
	}
	// Every secret exactly once over all the pages the component read.
	seen := map[string]int{}
	for _, page := range rec.pages {
		for _, name := range page {
			seen[name]++
		}
	}
	if len(rec.pages) < 2 {
		t.Fatalf("BulkGetSecret read %d page(s) for %d secrets", len(rec.pages), secretCount)
	}
	for name, n := range seen {
		if n != 1 {
			t.Fatalf("%s listed %d times over %d pages", name, n, len(rec.pages))
		}
	}
	if len(bulk.Data) != len(seen) {
		t.Fatalf("BulkGetSecret returned %d secrets, the pages listed %d", len(bulk.Data), len(seen))
	}
}

// dewstackCA is the pool the proxy trusts dewstack's HTTPS listener with.
func dewstackCA(t *testing.T) *x509.CertPool {
	t.Helper()
	ca, err := os.ReadFile(banner["DEWSTACK_CA_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("no certificate in %s", banner["DEWSTACK_CA_FILE"])
	}
	return pool
}

// trustBundle is dewstack's CA plus the proxy's certificate, for SSL_CERT_FILE.
func trustBundle(t *testing.T, proxy *httptest.Server) string {
	t.Helper()
	ca, err := os.ReadFile(banner["DEWSTACK_CA_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	bundle := append(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw})...)
	path := filepath.Join(t.TempDir(), "trust.pem")
	if err := os.WriteFile(path, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
