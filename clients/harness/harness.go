// Package harness starts the dewstack a Go test suite drives (clients/go,
// clients/dapr, clients/terraform): the binary from $DEWSTACK_BIN on free
// loopback ports and a temporary data dir, its banner read back as the
// `export NAME=value` lines an application would be given.
package harness

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Region is the region every suite's dewstack serves.
const Region = "cn-north-4"

// Options shape one server.
type Options struct {
	// TLS adds an HTTPS listener (its generated CA in the banner's
	// DEWSTACK_CA_FILE) next to plain HTTP.
	TLS bool
	// Config, when not empty, is written to a TOML file given with --config.
	Config string
}

// Server is a running dewstack.
type Server struct {
	// Banner holds the server's `export NAME=value` lines, plus "domain id"
	// from its summary.
	Banner map[string]string
	dir    string
	cmd    *exec.Cmd
}

// Start runs dewstack and waits for its complete banner.
func Start(opts Options) (*Server, error) {
	bin := os.Getenv("DEWSTACK_BIN")
	if bin == "" {
		return nil, fmt.Errorf("DEWSTACK_BIN must name the dewstack binary")
	}
	dir, err := os.MkdirTemp("", "dewstack-go-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	args := []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--region", Region}
	if opts.TLS {
		args = append(args, "--tls-listen", "127.0.0.1:0")
	}
	if opts.Config != "" {
		cfg := filepath.Join(dir, "dewstack.toml")
		if err := os.WriteFile(cfg, []byte(opts.Config), 0o600); err != nil {
			s.Stop()
			return nil, err
		}
		args = append(args, "--config", cfg)
	}
	stdout := filepath.Join(dir, "stdout.log")
	out, err := os.Create(stdout)
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout = out
	s.cmd.Stderr, _ = os.Create(filepath.Join(dir, "stderr.log"))
	s.cmd.Env = CleanEnv()
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		s.Stop()
		return nil, err
	}
	if s.Banner, err = waitBanner(stdout, opts.TLS, 60*time.Second); err != nil {
		stderr, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
		s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, stderr)
	}
	return s, nil
}

// Stop interrupts the server (killing it after 20 s) and removes its files.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- s.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	}
	_ = os.RemoveAll(s.dir)
}

// CleanEnv is this process's environment without settings meant for other
// dewstacks or SDK clients (DEWSTACK_DATABASE_URL is kept: the PostgreSQL
// pass runs the suites against a database).
func CleanEnv() []string {
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

func waitBanner(path string, tls bool, within time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		got := parseBanner(path)
		if got["HUAWEICLOUD_SDK_PROJECT_ID"] != "" && (!tls || got["DEWSTACK_CA_FILE"] != "") {
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
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "domain id"); ok {
			got["domain id"] = strings.TrimSpace(v)
		}
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			got[k] = strings.Trim(v, `"'`)
		}
	}
	return got
}
