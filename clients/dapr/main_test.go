// Package dapr_test drives Dapr's Huawei Cloud CSMS secret store
// (github.com/dapr/components-contrib/secretstores/huaweicloud/csms) against a
// dewstack started from $DEWSTACK_BIN, configured as a Dapr user configures
// it: region, access key and secret key in the component metadata, endpoints
// from the SDK's environment variables, no project id (the SDK asks IAM over
// HTTPS, trusting dewstack's CA through SSL_CERT_FILE).
package dapr_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const regionID = "cn-north-4"

// banner holds the server's `export NAME=value` lines.
var banner map[string]string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	bin := os.Getenv("DEWSTACK_BIN")
	if bin == "" {
		fmt.Fprintln(os.Stderr, "DEWSTACK_BIN must name the dewstack binary")
		return 2
	}
	dir, err := os.MkdirTemp("", "dewstack-dapr-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	stdout := filepath.Join(dir, "stdout.log")
	out, err := os.Create(stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "data"), "--region", regionID)
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
	// IAM over HTTPS with dewstack's CA; no project id anywhere.
	os.Setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", banner["HUAWEICLOUD_SDK_IAM_ENDPOINT"])
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
