#!/usr/bin/env bash
# Runs COMMAND... with a throw-away PostgreSQL server on a free loopback port.
#
#   scripts/with-postgres.sh cargo test --release
#
# Installs PostgreSQL from the distribution's packages if no initdb/pg_ctl is
# found, initialises a cluster in a temporary directory (as the unprivileged
# user `dewstack-pg` when run as root), starts it, creates a database and
# exports for COMMAND:
#   DEWSTACK_TEST_DATABASE_URL  postgres://dewstack:PASSWORD@127.0.0.1:PORT/dewstack
#   DEWSTACK_TEST_CONFORMANCE_DATABASE_URL  the same server, database dewstack_conformance
#   DEWSTACK_TEST_PG_CTL        a script: `$DEWSTACK_TEST_PG_CTL stop|start`
#                               (fast shutdown / start again on the same port)
#   DEWSTACK_TEST_REQUIRE_POSTGRES=1  tests that need PostgreSQL fail instead of
#                               skipping when one of the variables above is missing
# The server is stopped and the directory removed when COMMAND ends, however
# it ends. Exit status: COMMAND's.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

log() { echo "with-postgres: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    return 1
}

if ! BIN="$(find_bindir)"; then
    log "no initdb/pg_ctl found: installing PostgreSQL from Debian packages"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    BIN="$(find_bindir)" || { log "PostgreSQL installed but initdb/pg_ctl not found"; exit 1; }
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/dewstack-pg.XXXXXX")"
PGDATA="$TMP/data"
RUN=()
if [ "$(id -u)" -eq 0 ]; then
    # initdb refuses to run as root.
    if ! id dewstack-pg >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin dewstack-pg 2>/dev/null \
            || useradd -r -M -s /bin/false dewstack-pg
    fi
    chown dewstack-pg "$TMP"
    RUN=(runuser -u dewstack-pg --)
fi

cleanup() {
    local rc=$?
    if [ -f "$PGDATA/postmaster.pid" ]; then
        "${RUN[@]}" "$BIN/pg_ctl" -D "$PGDATA" stop -m immediate -w >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASSWORD="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$PASSWORD" >"$TMP/pwfile"
chmod 0644 "$TMP/pwfile"
"${RUN[@]}" "$BIN/initdb" -D "$PGDATA" -U dewstack --pwfile="$TMP/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1 \
    || "${RUN[@]}" "$BIN/initdb" -D "$PGDATA" -U dewstack --pwfile="$TMP/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$TMP/initdb.log" 2>&1 \
    || { cat "$TMP/initdb.log" >&2; exit 1; }
rm -f "$TMP/pwfile"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Test settings: the cluster is thrown away afterwards, so durability against
# power loss is not needed (a fast shutdown still writes everything).
write_pgctl() {
    local port="$1"
    cat >"$TMP/pgctl.sh" <<SCRIPT
#!/usr/bin/env bash
# Stops (fast) or starts the test PostgreSQL of scripts/with-postgres.sh.
set -euo pipefail
case "\${1:-}" in
  stop)  ${RUN[*]} "$BIN/pg_ctl" -D "$PGDATA" stop -m fast -w -t 30 >/dev/null ;;
  start) ${RUN[*]} "$BIN/pg_ctl" -D "$PGDATA" start -w -t 30 -l "$TMP/postgres.log" \\
           -o "-p $port -c listen_addresses=127.0.0.1 -k $TMP -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null ;;
  *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
SCRIPT
    chmod 0755 "$TMP/pgctl.sh"
}

PORT=""
for _ in $(seq 1 20); do
    candidate=$(( 20000 + RANDOM % 40000 ))
    port_in_use "$candidate" && continue
    write_pgctl "$candidate"
    if "$TMP/pgctl.sh" start; then PORT="$candidate"; break; fi
    log "could not start on port $candidate, trying another"
done
if [ -z "$PORT" ]; then
    log "PostgreSQL did not start:"; cat "$TMP/postgres.log" >&2 || true
    exit 1
fi

PGPASSWORD="$PASSWORD" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U dewstack dewstack

export DEWSTACK_TEST_DATABASE_URL="postgres://dewstack:$PASSWORD@127.0.0.1:$PORT/dewstack"
# A second, untouched database for the Python conformance pass.
PGPASSWORD="$PASSWORD" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U dewstack dewstack_conformance
export DEWSTACK_TEST_CONFORMANCE_DATABASE_URL="postgres://dewstack:$PASSWORD@127.0.0.1:$PORT/dewstack_conformance"
export DEWSTACK_TEST_PG_CTL="$TMP/pgctl.sh"
# This run promised PostgreSQL: a PostgreSQL test that finds no database fails.
export DEWSTACK_TEST_REQUIRE_POSTGRES=1
log "PostgreSQL $("$BIN/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$PORT (data in $PGDATA)"

set +e
"$@"
rc=$?
set -e
exit "$rc"
