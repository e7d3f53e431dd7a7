#!/usr/bin/env bash
# Full test run for dewstack: Rust build + unit/integration tests, then the Python
# conformance suite (official Huawei Cloud SDKs) against the binary users run (the
# `dist` profile of Cargo.toml).
#
# Works from any cwd. Needs Rust (cargo) and Python 3.11 with venv; installs the rest.
# Environment knobs:
#   DEWSTACK_BIN            use this binary instead of building target/dist-build/dist/dewstack
#   PYTEST_ARGS             extra arguments for pytest (e.g. "-x -k tags")
#   SKIP_RUST_TESTS=1       skip `cargo test` (build still happens)
#   SKIP_POSTGRES=1         skip the PostgreSQL pass
#   SKIP_GO=1               skip the Go SDK suite (clients/go)
#   SKIP_CUSTODIAN=1        skip the Cloud Custodian policies (conformance/test_custodian.py)
#   SKIP_TERRAFORM=1        skip the Terraform provider's resources (clients/terraform)
#   SKIP_JAVA=1             skip the Java SDK suite (clients/java)
#   SKIP_DAPR=1             skip Dapr's CSMS secret store test (clients/dapr)
#   SKIP_BROWSER=1          skip the web console's browser tests (console/tests; their
#                           screenshots are kept in target/console-shots)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\n==> %s\n' "$*"; }

# The Go suite, Terraform and Dapr each need Go; any of them may run without the others.
ensure_go() {
  command -v go >/dev/null 2>&1 && return
  log "installing Go"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq golang-go
}

# HOME is redirected for the Python SDK below; cargo, rustup and Go must keep finding their homes.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export GOPATH="${GOPATH:-$HOME/go}"
export GOMODCACHE="${GOMODCACHE:-$GOPATH/pkg/mod}"
export GOCACHE="${GOCACHE:-$HOME/.cache/go-build}"
export MAVEN_REPO_LOCAL="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}"

# --- 0. prerequisites on a fresh Debian machine ---------------------------------------
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  log "installing python3-venv"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  PYVER="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  $SUDO apt-get install -y -qq "python${PYVER}-venv" || $SUDO apt-get install -y -qq python3-venv
fi
if ! command -v cc >/dev/null 2>&1; then
  # rusqlite (bundled) needs a C compiler
  log "installing a C toolchain"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq build-essential pkg-config
fi

# Key stores are backed by PKCS#11 tokens: the Rust and conformance tests run them on
# SoftHSM2 tokens they initialise, and fail (not skip) without it once this is set.
if ! command -v softhsm2-util >/dev/null 2>&1 || [ ! -e /usr/lib/softhsm/libsofthsm2.so ]; then
  log "installing SoftHSM2"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq softhsm2
fi
export DEWSTACK_TEST_REQUIRE_SOFTHSM=1

# --- 1. Rust ------------------------------------------------------------------------------
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# The SDK suites below run the binary users run: the `dist` profile (LTO, one codegen
# unit). Its build is one long single-threaded step, so it runs beside clippy and the
# Rust tests, in a target directory of its own (cargo locks a directory per build).
DIST_PID=""
if [ -z "${DEWSTACK_BIN:-}" ]; then
  log "cargo build --profile dist (in the background, log in $TARGET/dist-build.log)"
  mkdir -p "$TARGET"
  CARGO_TARGET_DIR="$TARGET/dist-build" cargo build --profile dist --bin dewstack \
    >"$TARGET/dist-build.log" 2>&1 &
  DIST_PID=$!
  # A failing step below must not leave the build running.
  trap '[ -z "$DIST_PID" ] || kill "$DIST_PID" 2>/dev/null || true' EXIT
  export DEWSTACK_BIN="$TARGET/dist-build/dist/dewstack"
fi

log "cargo build --release"
cargo build --release

# Lints are part of the contract: clippy.toml bans the OS clock and entropy
# outside clock.rs/rng.rs, and lib.rs denies unwrap/expect/panic.
log "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

if [ "${SKIP_RUST_TESTS:-0}" != "1" ]; then
  log "cargo test --release"
  cargo test --release
fi

# --- 2. Python conformance suite ------------------------------------------------------
VENV="$ROOT/.venv-conformance"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi
log "installing conformance requirements"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r conformance/requirements.txt

# Cloud Custodian gets a venv of its own: c7n-huaweicloud pins ~30 Huawei SDK packages.
if [ "${SKIP_CUSTODIAN:-0}" != "1" ]; then
  C7N_VENV="$ROOT/.venv-custodian"
  [ -x "$C7N_VENV/bin/python" ] || { log "creating $C7N_VENV"; python3 -m venv "$C7N_VENV"; }
  log "installing Cloud Custodian (clients/custodian)"
  "$C7N_VENV/bin/python" -m pip install -q --disable-pip-version-check -r clients/custodian/requirements.txt
  # conformance/test_custodian.py runs (and must pass) when this is set.
  export DEWSTACK_CUSTODIAN_PYTHON="$C7N_VENV/bin/python"
fi

if [ -n "$DIST_PID" ]; then
  log "waiting for the dist build"
  wait "$DIST_PID" || { cat "$TARGET/dist-build.log"; exit 1; }
  tail -n 1 "$TARGET/dist-build.log"
  DIST_PID=""
fi
# The SDK writes ~/.huaweicloud/application_id; keep it inside the build tree.
export HOME="${CONFORMANCE_HOME:-$ROOT/target/conformance-home}"
mkdir -p "$HOME"

log "pytest conformance (SQLite / data-dir backend)"
# shellcheck disable=SC2086
(unset DEWSTACK_DATABASE_URL; "$VENV/bin/python" -m pytest -q -p no:cacheprovider conformance ${PYTEST_ARGS:-})

# --- 2a. Web console in a real browser (console/tests) ---------------------------------
# Playwright from PyPI drives Debian's Chromium (never a downloaded browser); without
# Chromium the tests fail rather than skip.
if [ "${SKIP_BROWSER:-0}" != "1" ]; then
  if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    log "installing Chromium"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r console/tests/requirements.txt
  # The screenshots of each page (sign-in, kms, csms, vpcep, trail, narrow) stay in the
  # build tree after the run, to be looked at; docs/console.png is kms.png. The old ones
  # go first, so a page whose test failed has no picture rather than a stale one.
  export CONSOLE_SHOTS="$ROOT/target/console-shots"
  rm -rf "$CONSOLE_SHOTS" && mkdir -p "$CONSOLE_SHOTS"
  log "pytest console/tests (web console in Chromium)"
  "$VENV/bin/python" -m pytest -q -p no:cacheprovider console/tests
  log "console screenshots: $CONSOLE_SHOTS"
fi

# --- 2b. Go SDK suite (clients/go) ------------------------------------------------------
# One dewstack per run (HTTP and HTTPS), driven through the official Go SDK. The env-only
# clients always use HTTPS; DEWSTACK_CLIENT_SCHEME picks the transport of all the others
# (and of the Java suite's): HTTP here, HTTPS in the PostgreSQL pass, so each transport
# is covered without running a suite twice.
go_suite() { (cd "$ROOT/clients/go" && go test -count=1 ./...); }
if [ "${SKIP_GO:-0}" != "1" ]; then
  ensure_go
  log "go mod download (clients/go)"
  (cd "$ROOT/clients/go" && go mod download)
  log "go test clients/go (SQLite, HTTP)"
  (unset DEWSTACK_DATABASE_URL; DEWSTACK_CLIENT_SCHEME=http go_suite)
fi

# --- 2c. The Terraform provider's resource code (clients/terraform) ------------------------
# The checksum database does not list terraform-provider-huaweicloud; go.sum pins its hash.
if [ "${SKIP_TERRAFORM:-0}" != "1" ]; then
  ensure_go
  log "go test clients/terraform (terraform-provider-huaweicloud v1.72.1, SQLite)"
  (cd "$ROOT/clients/terraform" && unset DEWSTACK_DATABASE_URL &&
    GONOSUMDB=github.com/huaweicloud/terraform-provider-huaweicloud go test -count=1 ./...)
fi

# --- 2d. Dapr's Huawei CSMS secret store (clients/dapr) ---------------------------------
# Both transports in one run: its CSMS calls reach dewstack's HTTP listener, then its HTTPS one.
if [ "${SKIP_DAPR:-0}" != "1" ]; then
  ensure_go
  log "go test clients/dapr (Dapr's CSMS secret store, SQLite)"
  (unset DEWSTACK_DATABASE_URL; cd "$ROOT/clients/dapr" && go mod download && go test -count=1 ./...)
fi

# --- 2e. Java SDK suite (clients/java) ----------------------------------------------------
# One dewstack per run (HTTP and HTTPS), driven through the official Java SDK; transport as
# for the Go suite (2b). The SQLite run resolves whatever the local Maven repository lacks;
# the PostgreSQL pass runs offline.
if [ "${SKIP_JAVA:-0}" != "1" ]; then
  if ! command -v mvn >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
    log "installing a JDK and Maven"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq default-jdk-headless maven
  fi
  log "mvn test clients/java (SQLite, HTTP)"
  (unset DEWSTACK_DATABASE_URL; cd "$ROOT/clients/java" &&
    DEWSTACK_CLIENT_SCHEME=http mvn -q -B -Dmaven.repo.local="$MAVEN_REPO_LOCAL" test)
fi

# --- 3. PostgreSQL pass ------------------------------------------------------------------
# scripts/with-postgres.sh installs PostgreSQL from Debian's packages if absent, starts a
# private instance on a free loopback port as an unprivileged user, runs the command, and
# stops it. The Rust tests that need PostgreSQL (engine conformance, multi-node, fault)
# run only there (and fail there, rather than skip, if the database is missing:
# with-postgres.sh exports DEWSTACK_TEST_REQUIRE_POSTGRES=1); the conformance suite
# runs again with every dewstack on PostgreSQL.
if [ "${SKIP_POSTGRES:-0}" != "1" ]; then
  log "PostgreSQL pass: Rust tests and the conformance suite on PostgreSQL"
  export VENV PYTEST_ARGS="${PYTEST_ARGS:-}" SKIP_GO="${SKIP_GO:-0}" SKIP_JAVA="${SKIP_JAVA:-0}"
  # shellcheck disable=SC2016
  scripts/with-postgres.sh bash -c '
    set -euo pipefail
    cargo test --release
    DEWSTACK_DATABASE_URL="$DEWSTACK_TEST_CONFORMANCE_DATABASE_URL" \
      "$VENV/bin/python" -m pytest -q -p no:cacheprovider conformance $PYTEST_ARGS
    if [ "${SKIP_GO:-0}" != "1" ]; then
      (cd clients/go && DEWSTACK_DATABASE_URL="$DEWSTACK_TEST_CONFORMANCE_DATABASE_URL" \
        DEWSTACK_CLIENT_SCHEME=https go test -count=1 ./...)
    fi
    if [ "${SKIP_JAVA:-0}" != "1" ]; then
      (cd clients/java && DEWSTACK_DATABASE_URL="$DEWSTACK_TEST_CONFORMANCE_DATABASE_URL" \
        DEWSTACK_CLIENT_SCHEME=https mvn -q -B -o -Dmaven.repo.local="$MAVEN_REPO_LOCAL" test)
    fi
  '
fi

log "all tests passed"
