//! The PostgreSQL engine: several dewstack nodes share one database and behave
//! as one service.
//!
//! - Every transaction is SERIALIZABLE. When PostgreSQL reports a
//!   serialization failure or a deadlock (SQLSTATE 40001 / 40P01) the whole
//!   body is rolled back and run again, after a short randomized pause, so
//!   concurrent conflicting requests from any nodes end as some serial order
//!   would (no lost update, no duplicate alias).
//! - Keys are `TEXT COLLATE "C"`, so `scan` orders by bytes exactly as SQLite does.
//! - Connections come from a bounded pool. When the database cannot be reached,
//!   a transaction fails within `CONNECT_TIMEOUT` with `StoreError::Unavailable`
//!   (503 for clients) and the pool reconnects by itself once it is back: every
//!   connection is checked before use, broken ones are thrown away.
//! - No node caches state: every request reads the database inside its own
//!   transaction, so what one node commits is what every other node sees next.
//! - `try_lock` is `pg_try_advisory_xact_lock`, held until the transaction ends:
//!   background jobs guarded by it run on one node at a time.
//!
//! TLS is not built in: use `sslmode=disable` or `prefer` (the default), e.g.
//! over a loopback, a private network or a local proxy.

use super::engine::{Engine, StoreError, Tx};
use super::range::{within_prefix, ScanRange};
use crate::rng::Rng;
use failure::{classify, store_error, Failure};
use postgres::types::Type;
use postgres::{IsolationLevel, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use sha2::{Digest, Sha256};
use std::str::FromStr;
use std::time::{Duration, Instant};

mod failure;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// Connections per node; requests beyond that wait for a free one.
const POOL_SIZE: u32 = 16;
/// How long a request waits for a connection (busy pool, or database down)
/// before failing with `Unavailable`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A statement running longer than this is cancelled (and the request fails
/// with `Unavailable`): no request hangs on a stuck database.
const STATEMENT_TIMEOUT_MS: u64 = 15_000;
/// How long conflicting transactions keep being retried before giving up.
const RETRY_BUDGET: Duration = Duration::from_secs(20);

const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_kv",
    r#"CREATE TABLE kv (
         tbl TEXT COLLATE "C" NOT NULL,
         k   TEXT COLLATE "C" NOT NULL,
         v   BYTEA NOT NULL,
         PRIMARY KEY (tbl, k)
       );"#,
)];

pub struct PgEngine {
    /// Always `Some` until dropped (see `Drop`).
    pool: Option<Pool>,
    /// Jitter of the retry pauses. The store has no `AppState`, so the engine
    /// owns a system source, made at open: nothing asserts on these pauses.
    rng: Rng,
}

/// A stable 64-bit advisory lock id for a name.
fn lock_id(name: &str) -> i64 {
    let digest = Sha256::digest(format!("dewstack:{name}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Logs pool connection failures through tracing, once per failed attempt.
#[derive(Debug)]
struct LogConnectErrors;

impl r2d2::HandleError<postgres::Error> for LogConnectErrors {
    fn handle_error(&self, error: postgres::Error) {
        tracing::warn!(error = %error, "cannot connect to PostgreSQL");
    }
}

impl PgEngine {
    /// Connects, applies migrations (one node at a time) and keeps a pool.
    /// Blocking: call it from a blocking thread, not from an async task.
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let mut config = postgres::Config::from_str(url)
            .map_err(|e| anyhow::anyhow!("bad PostgreSQL URL: {e}"))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("dewstack");
        }
        let options = format!(
            "{} -c statement_timeout={STATEMENT_TIMEOUT_MS} -c idle_in_transaction_session_timeout=60000",
            config.get_options().unwrap_or("")
        );
        config.options(options.trim());
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(CONNECT_TIMEOUT)
            .test_on_check_out(true)
            .error_handler(Box::new(LogConnectErrors))
            .build(manager)
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
        let mut conn = pool
            .get()
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
        migrate(&mut conn).map_err(|e| anyhow::anyhow!("PostgreSQL migration failed: {e}"))?;
        drop(conn);
        Ok(Self {
            pool: Some(pool),
            rng: Rng::system(),
        })
    }

    fn pool(&self) -> Result<&Pool, StoreError> {
        self.pool
            .as_ref()
            .ok_or_else(|| StoreError::Backend("PostgreSQL pool closed".into()))
    }

    /// One try of the body. `Err(Conflict)` means: rolled back, run again.
    fn attempt(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
        read_only: bool,
    ) -> Result<Result<(), StoreError>, String> {
        let waited = std::time::Instant::now();
        let conn = self.pool().map(|pool| pool.get());
        crate::ops::metrics::metrics().pool_wait(waited.elapsed().as_secs_f64());
        let mut conn = match conn {
            Ok(got) => match got {
                Ok(conn) => conn,
                Err(e) => {
                    return Ok(Err(StoreError::Unavailable(format!(
                        "no PostgreSQL connection: {e}"
                    ))))
                }
            },
            Err(e) => return Ok(Err(e)),
        };
        let tx = match conn
            .build_transaction()
            .isolation_level(IsolationLevel::Serializable)
            .read_only(read_only)
            .start()
        {
            Ok(tx) => tx,
            Err(e) => return Ok(Err(store_error(&e))),
        };
        let mut pg = PgTx { tx, conflict: None };
        let outcome = body(&mut pg);
        let PgTx { tx, conflict } = pg;
        // A conflict seen by any statement wins over what the body made of it:
        // the body may have turned it into a domain error or a rollback.
        if let Some(detail) = conflict {
            let _ = tx.rollback();
            return Err(detail);
        }
        match outcome {
            Ok(true) => match tx.commit() {
                Ok(()) => Ok(Ok(())),
                Err(e) => match classify(&e) {
                    Failure::Conflict(detail) => Err(detail),
                    Failure::Store(s) => Ok(Err(s)),
                },
            },
            Ok(false) => Ok(tx.rollback().map_err(|e| store_error(&e))),
            Err(e) => {
                let _ = tx.rollback();
                Ok(Err(e))
            }
        }
    }
}

impl Drop for PgEngine {
    fn drop(&mut self) {
        // Closing a `postgres::Client` blocks on its own small runtime, which
        // tokio forbids on an async worker thread: close them on a plain thread.
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::Builder::new()
                .name("pg-pool-close".into())
                .spawn(move || drop(pool));
        }
    }
}

/// Applies what is missing, holding an advisory lock so that nodes starting
/// together do not race each other.
fn migrate(client: &mut postgres::Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&lock_id("schema-migrations")],
    )?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());",
    )?;
    for (id, sql) in MIGRATIONS {
        let done = tx
            .query_opt("SELECT id FROM schema_migrations WHERE id = $1", &[id])?
            .is_some();
        if !done {
            tx.batch_execute(sql)?;
            tx.execute("INSERT INTO schema_migrations (id) VALUES ($1)", &[id])?;
            tracing::info!(migration = id, "applied PostgreSQL migration");
        }
    }
    tx.commit()
}

struct PgTx<'a> {
    tx: postgres::Transaction<'a>,
    /// Set by the first statement that failed with a serialization failure or
    /// deadlock; the engine then retries the whole body.
    conflict: Option<String>,
}

impl PgTx<'_> {
    fn fail(&mut self, e: postgres::Error) -> StoreError {
        match classify(&e) {
            Failure::Conflict(detail) => {
                let err = StoreError::Backend(format!("serialization conflict: {detail}"));
                self.conflict.get_or_insert(detail);
                err
            }
            Failure::Store(s) => s,
        }
    }
}

impl Tx for PgTx<'_> {
    fn get(&mut self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.tx.query_typed_opt(
            "SELECT v FROM kv WHERE tbl = $1 AND k = $2",
            &[(&table, Type::TEXT), (&key, Type::TEXT)],
        ) {
            Ok(row) => row
                .map(|r| r.try_get::<_, Vec<u8>>(0))
                .transpose()
                .map_err(|e| self.fail(e)),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn put(&mut self, table: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.tx
            .execute_typed(
                "INSERT INTO kv (tbl, k, v) VALUES ($1, $2, $3) ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v",
                &[(&table, Type::TEXT), (&key, Type::TEXT), (&value, Type::BYTEA)],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    fn delete(&mut self, table: &str, key: &str) -> Result<bool, StoreError> {
        self.tx
            .execute_typed(
                "DELETE FROM kv WHERE tbl = $1 AND k = $2",
                &[(&table, Type::TEXT), (&key, Type::TEXT)],
            )
            .map(|n| n > 0)
            .map_err(|e| self.fail(e))
    }

    fn scan(
        &mut self,
        table: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let range = ScanRange::new(prefix, after);
        let sql = range.sql(["$1", "$2", "$3"]);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match self.tx.query_typed(
            &sql,
            &[
                (&table, Type::TEXT),
                (&range.start, Type::TEXT),
                (&limit, Type::INT8),
            ],
        ) {
            Ok(rows) => rows,
            Err(e) => return Err(self.fail(e)),
        };
        let rows = rows.iter().map(|row| {
            let k: String = row.try_get(0).map_err(|e| self.fail(e))?;
            if !k.starts_with(prefix) {
                // The first key past the prefix ends the scan; its value is not read.
                return Ok((k, Vec::new()));
            }
            let v: Vec<u8> = row.try_get(1).map_err(|e| self.fail(e))?;
            Ok((k, v))
        });
        within_prefix(prefix, rows)
    }

    fn try_lock(&mut self, name: &str) -> Result<bool, StoreError> {
        let id = lock_id(name);
        match self
            .tx
            .query_typed_one("SELECT pg_try_advisory_xact_lock($1)", &[(&id, Type::INT8)])
        {
            Ok(row) => row.try_get::<_, bool>(0).map_err(|e| self.fail(e)),
            Err(e) => Err(self.fail(e)),
        }
    }
}

impl Engine for PgEngine {
    fn run(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        self.run_mode(body, false)
    }

    fn run_read(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        self.run_mode(body, true)
    }

    fn name(&self) -> &'static str {
        "postgresql"
    }
}

impl PgEngine {
    /// One transaction, run again on serialization conflicts within the budget.
    fn run_mode(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
        read_only: bool,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let mut attempts: u32 = 0;
        loop {
            attempts += 1;
            match self.attempt(body, read_only) {
                Ok(result) => return result,
                Err(detail) => {
                    if started.elapsed() > RETRY_BUDGET {
                        return Err(StoreError::Unavailable(format!(
                            "gave up after {attempts} conflicting attempts: {detail}"
                        )));
                    }
                    tracing::debug!(
                        attempts,
                        "serialization conflict; running the transaction again"
                    );
                    std::thread::sleep(backoff(&self.rng, attempts));
                }
            }
        }
    }
}

/// Randomized, growing pause between attempts so that the conflicting
/// transactions do not collide again in lock step.
fn backoff(rng: &Rng, attempt: u32) -> Duration {
    let cap_ms = 2u64.saturating_pow(attempt.min(7)).min(100);
    Duration::from_micros(rng.in_range(0..cap_ms * 1000 + 1))
}

/// The PostgreSQL test helpers live in `crate::testing` (one skip rule for
/// unit and integration tests); this path stays for the tests that use it.
#[cfg(test)]
pub(crate) mod testing {
    pub use crate::testing::fresh_postgres_database as fresh_database;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::testing::fresh_database;
    use super::PgEngine;
    use crate::testing::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5432/postgres", "x"),
            "postgres://u:p@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h:1/db?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }

    #[test]
    fn conformance_suite_passes_on_postgres() {
        let Some(url) = fresh_database("conformance_suite_passes_on_postgres") else {
            return;
        };
        let engine = PgEngine::open(&url).unwrap();
        super::super::conformance::run_all(&engine);
    }

    #[test]
    fn migrations_are_idempotent_and_safe_to_race() {
        let Some(url) = fresh_database("migrations_are_idempotent_and_safe_to_race") else {
            return;
        };
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| PgEngine::open(&url).map(|_| ())))
                .collect();
            for h in handles {
                h.join().unwrap().unwrap();
            }
        });
        let engine = PgEngine::open(&url).unwrap();
        super::super::conformance::put_one(&engine, "t", "k", b"v");
        drop(engine);
        let engine = PgEngine::open(&url).unwrap();
        assert_eq!(
            super::super::conformance::get_one(&engine, "t", "k"),
            Some(b"v".to_vec())
        );
    }

    /// `try_lock` on one node excludes the other until the holder's
    /// transaction ends.
    #[test]
    fn cluster_lock_excludes_other_nodes() {
        use crate::store::Engine;
        let Some(url) = fresh_database("cluster_lock_excludes_other_nodes") else {
            return;
        };
        let (a, b) = (PgEngine::open(&url).unwrap(), PgEngine::open(&url).unwrap());
        let try_on = |engine: &PgEngine| {
            let mut got = false;
            engine
                .run(&mut |tx| {
                    got = tx.try_lock("job")?;
                    Ok(false)
                })
                .unwrap();
            got
        };
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|s| {
            let a = &a;
            s.spawn(move || {
                a.run(&mut |tx| {
                    let got = tx.try_lock("job")?;
                    held_tx.send(got).unwrap();
                    release_rx.recv().unwrap();
                    Ok(true)
                })
                .unwrap();
            });
            assert!(held_rx.recv().unwrap(), "node A takes the free lock");
            assert!(!try_on(&b), "node B is refused while A holds it");
            release_tx.send(()).unwrap();
        });
        assert!(try_on(&b), "node B gets it once A's transaction ended");
        assert!(try_on(&a));
    }

    #[test]
    fn unreachable_database_is_unavailable_fast() {
        // A loopback port nobody listens on: the pool cannot be built.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = std::time::Instant::now();
        let err = PgEngine::open(&format!("postgres://u:p@127.0.0.1:{port}/db")).err();
        assert!(err.is_some());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
