# What bench/run, bench/scale and bench/icount share; each sources it after
# `cd` to the repository root. Not a script of its own.

# Installs each named Debian package whose command is missing.
need_tools() {
    local tool SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    for tool in "$@"; do
        command -v "$tool" >/dev/null ||
            { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "$tool"; }
    done
}

# A temporary directory in WORK, removed on exit with every process in PIDS.
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Waits for `<marker>=value` in a file a child writes; prints the value.
# Polls every 50 ms (start-up is timed by it), 600 times unless told.
wait_for() { # file marker [tries]
    local line
    for _ in $(seq "${3:-600}"); do
        line="$(grep -m1 -o "${2}=[^ ]*" "$1" 2>/dev/null || true)"
        if [ -n "$line" ]; then echo "${line#*=}" | tr -d "'\""; return 0; fi
        sleep 0.05
    done
    echo "no $2 from child; its output:" >&2; cat "$1" >&2; return 1
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Creates and writes measured here may reach every project quota.
cat >"$WORK/dewstack.toml" <<TOML
[limits]
keys_per_project = 10000000
secrets_per_project = 10000000
TOML

# The one account every bench server is started with and bench_prep signs as.
export DEWSTACK_ACCESS_KEY=BENCHAKBENCHAKBENCH1
export DEWSTACK_SECRET_KEY=benchSecretKeybenchSecretKeybenchSecret1
export DEWSTACK_PROJECT_ID=b0000000000000000000000000000001
export DEWSTACK_DOMAIN_ID=d0000000000000000000000000000001
export DEWSTACK_REGION=cn-north-4
