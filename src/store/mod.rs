//! Storage: a small transactional key–value layer that every service builds on.
//!
//! Services never write SQL. They run a closure inside one serializable
//! transaction and use `get` / `put` / `delete` / `scan` on named tables; indexes
//! (aliases, names, due dates) are plain keys kept in the same transaction. An
//! engine only has to provide those four calls, so SQLite (embedded default)
//! and PostgreSQL share every rule above this file.

pub mod b64;
mod batch;
pub mod counts;
mod engine;
mod group_commit;
mod postgres;
mod range;
pub mod snapshot;
mod sqlite;
mod sqlite_write;

pub use engine::{Engine, StoreError, Tx};

use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Typed helpers: records are stored as JSON.
pub trait TxExt: Tx {
    fn get_json<T: DeserializeOwned>(
        &mut self,
        table: &str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get(table, key)?
            .map(|bytes| decode(table, &bytes))
            .transpose()
    }

    fn put_json<T: Serialize>(
        &mut self,
        table: &str,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.put(table, key, &bytes)
    }

    fn scan_json<T: DeserializeOwned>(
        &mut self,
        table: &str,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.scan(table, prefix, after.as_deref(), 500)?;
            let done = page.len() < 500;
            for (key, bytes) in page {
                let value = decode(table, &bytes)?;
                after = Some(key.clone());
                out.push((key, value));
            }
            if done {
                return Ok(out);
            }
        }
    }
}

impl<T: Tx + ?Sized> TxExt for T {}

/// `a/b/…`, the row key of a record, built in one allocation: the hot
/// paths build one or two per request, and `format!` cost more than that.
pub fn row_key<const N: usize>(parts: [&str; N]) -> String {
    let mut key = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            key.push('/');
        }
        key.push_str(part);
    }
    key
}

/// A stored JSON record; bytes that do not decode are a corrupt record.
fn decode<T: DeserializeOwned>(table: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table: table.into(),
        detail: e.to_string(),
    })
}

/// Decoded records of one table, remembered with the exact bytes they were
/// decoded from and the generation they were read at. A lookup is answered
/// from memory only while the transaction's `generation` says nothing was
/// committed since; otherwise it reads the stored bytes in its own
/// transaction and decodes them again only if they differ. A record changed
/// by any node is therefore never served stale.
pub struct DecodeCache<T> {
    table: &'static str,
    /// Entries beyond this empty the cache; it only bounds memory.
    max_entries: usize,
    /// Records longer than this are decoded every time, not kept (each
    /// entry holds its bytes and its decoded value).
    max_record_bytes: usize,
    entries: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Decoded<T>>>>,
}

struct Decoded<T> {
    bytes: Vec<u8>,
    generation: Option<u64>,
    /// Shared, so that a hit holds the lock for a reference count, not for
    /// a copy of the record (every worker thread reads the same keys).
    value: Arc<T>,
}

impl<T: DeserializeOwned + Clone> DecodeCache<T> {
    /// At most 4,096 records of any size (dewstack's choice).
    pub const fn new(table: &'static str) -> Self {
        Self::bounded(table, 4096, usize::MAX)
    }

    pub const fn bounded(table: &'static str, max_entries: usize, max_record_bytes: usize) -> Self {
        Self {
            table,
            max_entries,
            max_record_bytes,
            entries: std::sync::LazyLock::new(Default::default),
        }
    }

    pub fn get_json(&self, tx: &mut dyn Tx, key: &str) -> Result<Option<T>, StoreError> {
        let generation = tx.generation();
        let current = generation.and_then(|now| {
            let entries = self.entries.lock().ok()?;
            let e = entries.get(key).filter(|e| e.generation == Some(now))?;
            Some(e.value.clone())
        });
        if let Some(value) = current {
            return Ok(Some(T::clone(&value)));
        }
        let Some(bytes) = tx.get(self.table, key)? else {
            return Ok(None);
        };
        let unchanged = self.entries.lock().ok().and_then(|mut entries| {
            let e = entries.get_mut(key).filter(|e| e.bytes == bytes)?;
            e.generation = generation;
            Some(e.value.clone())
        });
        if let Some(value) = unchanged {
            return Ok(Some(T::clone(&value)));
        }
        let value: T = decode(self.table, &bytes)?;
        if bytes.len() > self.max_record_bytes {
            // An entry from when the record was small is of no more use.
            if let Ok(mut entries) = self.entries.lock() {
                entries.remove(key);
            }
            return Ok(Some(value));
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.max_entries {
                entries.clear();
            }
            entries.insert(
                key.to_owned(),
                Decoded {
                    bytes,
                    generation,
                    value: Arc::new(value.clone()),
                },
            );
        }
        Ok(Some(value))
    }
}

#[derive(Clone)]
pub struct Db {
    engine: Arc<dyn Engine>,
}

impl Db {
    /// Opens the embedded database in `data_dir`, or PostgreSQL when a URL is
    /// given (`postgres://user:pass@host:port/db`). Blocking: call it from a
    /// blocking thread (`spawn_blocking`), not from an async task.
    ///
    /// Several nodes may open one PostgreSQL database: no node keeps any
    /// state of its own between transactions (no cache), so every request
    /// sees what any node committed before it.
    pub fn open(data_dir: &std::path::Path, database_url: Option<&str>) -> anyhow::Result<Self> {
        if let Some(url) = database_url {
            let scheme = url.split(':').next().unwrap_or("");
            if scheme != "postgres" && scheme != "postgresql" {
                anyhow::bail!(
                    "unsupported database URL scheme {scheme:?}: expected postgres://user:pass@host:port/db"
                );
            }
            let engine = postgres::PgEngine::open(url)?;
            return Ok(Self {
                engine: Arc::new(engine),
            });
        }
        let mut engine = sqlite::SqliteEngine::open(&data_dir.join("dewstack.db"))?;
        engine.start_writer()?;
        Ok(Self {
            engine: Arc::new(engine),
        })
    }

    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    /// Runs `f` in one transaction: on the engine's writer, which commits
    /// it together with others (`batch.rs`), or else on a blocking thread.
    /// `f` returning `Err` rolls back everything it did, so a failed request
    /// never leaves half a change.
    pub async fn tx<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Box::new(TxJob {
            f,
            outcome: None,
            reply,
        });
        // No writer, or its queue is full: run it here, on a blocking thread.
        if let Err(mut job) = self.engine.submit(job) {
            self.on_blocking_thread(move |engine| {
                let ran = engine.run(&mut |tx| batch::run_guarded(job.as_mut(), tx));
                job.finish(ran);
                Ok::<(), E>(())
            })
            .await?;
        }
        answer
            .await
            .unwrap_or_else(|_| Err(E::from(StoreError::Backend("storage task failed".into()))))
    }

    /// Runs `job` against the engine on a blocking thread.
    async fn on_blocking_thread<T, E>(
        &self,
        job: impl FnOnce(&dyn Engine) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let engine = self.engine.clone();
        match tokio::task::spawn_blocking(move || job(engine.as_ref())).await {
            Ok(result) => result,
            Err(e) => Err(E::from(StoreError::Backend(format!(
                "storage task failed: {e}"
            )))),
        }
    }

    /// Runs a read-only `f` (a `put` or `delete` in it fails) on a consistent
    /// snapshot that includes every commit acknowledged before the call. The
    /// embedded engine serves it right here: a point read in WAL mode takes
    /// microseconds and never waits for a writer, which is cheaper than the
    /// hop to a blocking thread that dominates the hot crypto paths. Other
    /// engines go through `tx`.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        if self.engine.reads_inline() {
            let engine = self.engine.as_ref();
            let out = run_with(|body| engine.run_read(body), f);
            // The snapshot may include a commit whose fsync is still under
            // way: answer only once it is durable. Rare and short, but
            // blocking, so off the async worker.
            if let Some(seq) = engine.unsynced_commit() {
                self.on_blocking_thread(move |engine| engine.wait_durable(seq).map_err(E::from))
                    .await?;
            }
            return out;
        }
        self.on_blocking_thread(move |engine| run_with(|body| engine.run_read(body), f))
            .await
    }

    /// Runs `f` in one transaction while holding the cluster-wide lock `job`,
    /// so that a background job runs on one node at a time; `Ok(None)` (and
    /// `f` not run) when another node holds it right now. On PostgreSQL this
    /// is `pg_try_advisory_xact_lock`, released when the transaction ends; the
    /// transaction is SERIALIZABLE as always, so even without the lock two
    /// runs could not both act on the same rows.
    pub async fn try_exclusive<T, E, F>(&self, job: &str, mut f: F) -> Result<Option<T>, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let job = job.to_owned();
        self.tx(move |tx| {
            if !tx.try_lock(&job)? {
                return Ok(None);
            }
            f(tx).map(Some)
        })
        .await
    }

    /// The same as `tx`, for code that is already on a blocking thread.
    pub fn tx_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnMut(&mut dyn Tx) -> Result<T, E>,
    {
        run_blocking(self.engine.as_ref(), f)
    }
}

/// A `Db::tx` body as the writer runs it: the body's own result is kept
/// until the transaction it ran in is known to have committed (and been
/// synced), then sent to the waiting caller.
struct TxJob<F, T, E> {
    f: F,
    outcome: Option<Result<T, E>>,
    reply: tokio::sync::oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> engine::Job for TxJob<F, T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
{
    fn run(&mut self, tx: &mut dyn Tx) -> Result<bool, StoreError> {
        let result = (self.f)(tx);
        let keep = result.is_ok();
        self.outcome = Some(result);
        Ok(keep)
    }

    fn finish(self: Box<Self>, outcome: Result<(), StoreError>) {
        let TxJob {
            f,
            outcome: kept,
            reply,
        } = *self;
        // What the body captured goes before its caller is woken: it may
        // hold a `Db`, whose last drop must not race the caller's next open.
        drop(f);
        let answer = match (outcome, kept) {
            // A body that failed was rolled back: its own error stands.
            (_, Some(Err(e))) => Err(e),
            (Ok(()), Some(Ok(value))) => Ok(value),
            (Err(e), _) => Err(E::from(e)),
            (Ok(()), None) => Err(E::from(StoreError::Backend(
                "transaction body never ran".into(),
            ))),
        };
        let _ = reply.send(answer);
    }
}

fn run_blocking<T, E, F>(engine: &dyn Engine, f: F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnMut(&mut dyn Tx) -> Result<T, E>,
{
    run_with(|body| engine.run(body), f)
}

type Body<'a> = &'a mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>;

/// Adapts a service closure (any error type, any result) to an engine's
/// commit-or-roll-back body.
fn run_with<T, E, F>(run: impl FnOnce(Body<'_>) -> Result<(), StoreError>, mut f: F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnMut(&mut dyn Tx) -> Result<T, E>,
{
    let mut outcome: Option<Result<T, E>> = None;
    run(&mut |tx| {
        let result = f(tx);
        let commit = result.is_ok();
        outcome = Some(result);
        Ok(commit)
    })?;
    outcome.unwrap_or_else(|| {
        Err(E::from(StoreError::Backend(
            "transaction body never ran".into(),
        )))
    })
}

#[cfg(test)]
impl Db {
    /// The engine's commit counters, where it counts them.
    pub(crate) fn commit_counts(&self) -> Option<engine::CommitCounts> {
        self.engine.commit_counts()
    }
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod batch_tests;
#[cfg(test)]
pub(crate) mod conformance;
#[cfg(test)]
pub(crate) use postgres::testing;

#[cfg(test)]
mod decode_cache_tests {
    use super::sqlite::SqliteEngine;
    use super::{DecodeCache, Engine, StoreError};

    static CACHE: DecodeCache<String> = DecodeCache::new("records");

    fn put(engine: &dyn Engine, value: &str) {
        let json = serde_json::to_vec(value).unwrap();
        engine
            .run(&mut |tx| tx.put("records", "p/k", &json).map(|_| true))
            .unwrap();
    }

    fn read(engine: &dyn Engine) -> Option<String> {
        let mut out = None;
        engine
            .run_read(&mut |tx| {
                out = CACHE.get_json(tx, "p/k")?;
                Ok(true)
            })
            .unwrap();
        out
    }

    #[test]
    fn row_keys_join_their_parts_with_slashes() {
        assert_eq!(super::row_key(["p", "k"]), "p/k");
        assert_eq!(super::row_key(["p", "name", ""]), "p/name/");
        assert_eq!(super::row_key(["only"]), "only");
    }

    #[test]
    fn every_commit_is_seen_and_engines_never_share_entries() {
        let dir = tempfile::tempdir().unwrap();
        let a = SqliteEngine::open(&dir.path().join("a.db")).unwrap();
        let b = SqliteEngine::open(&dir.path().join("b.db")).unwrap();
        put(&a, "enabled");
        assert_eq!(read(&a).as_deref(), Some("enabled"));
        assert_eq!(read(&a).as_deref(), Some("enabled"));
        put(&a, "disabled");
        assert_eq!(read(&a).as_deref(), Some("disabled"));
        // Same table and key in another database: its own value, not a's.
        assert_eq!(read(&b), None);
        put(&b, "other");
        assert_eq!(read(&b).as_deref(), Some("other"));
        assert_eq!(read(&a).as_deref(), Some("disabled"));
        // A write transaction bypasses the generation and reads the bytes.
        let mut inside = None;
        a.run(&mut |tx| {
            tx.put("records", "p/k", br#""pending""#)?;
            inside = CACHE.get_json(tx, "p/k")?;
            Ok::<bool, StoreError>(false)
        })
        .unwrap();
        assert_eq!(inside.as_deref(), Some("pending"));
        assert_eq!(read(&a).as_deref(), Some("disabled"));
    }

    /// A record longer than the bound is never kept and a full cache starts
    /// over; either way every read still gives the stored value.
    #[test]
    fn bounded_caches_keep_small_records_only() {
        static SMALL: DecodeCache<String> = DecodeCache::bounded("records", 2, 16);
        let dir = tempfile::tempdir().unwrap();
        let engine = SqliteEngine::open(&dir.path().join("t.db")).unwrap();
        let json = |v: &str| serde_json::to_vec(v).unwrap();
        engine
            .run(&mut |tx| {
                tx.put("records", "p/small", &json("s"))?;
                tx.put("records", "p/long", &json(&"x".repeat(40)))?;
                tx.put("records", "p/third", &json("t"))?;
                Ok(true)
            })
            .unwrap();
        let get = |key: &str| {
            let mut out = None;
            engine
                .run_read(&mut |tx| {
                    out = SMALL.get_json(tx, key)?;
                    Ok(true)
                })
                .unwrap();
            out
        };
        let kept = || SMALL.entries.lock().unwrap().len();
        assert_eq!(get("p/long").unwrap().len(), 40);
        assert_eq!(kept(), 0);
        assert_eq!(get("p/small").as_deref(), Some("s"));
        assert_eq!(get("p/third").as_deref(), Some("t"));
        assert_eq!(kept(), 2);
        assert_eq!(get("p/small").as_deref(), Some("s"));
        assert_eq!(get("p/none"), None);
        assert_eq!(get("p/long").unwrap().len(), 40);
        assert!(kept() <= 2);
        // A kept record that grows past the bound leaves the cache.
        assert_eq!(get("p/small").as_deref(), Some("s"));
        let before = kept();
        engine
            .run(&mut |tx| {
                tx.put("records", "p/small", &json(&"y".repeat(40)))
                    .map(|()| true)
            })
            .unwrap();
        assert_eq!(get("p/small").unwrap(), "y".repeat(40));
        assert_eq!(kept(), before - 1);
    }

    #[test]
    fn a_second_engine_on_one_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let first = SqliteEngine::open(&path).unwrap();
        let second = SqliteEngine::open(&path).err().unwrap().to_string();
        assert!(second.contains("in use by another dewstack"), "{second}");
        drop(first);
        SqliteEngine::open(&path).unwrap();
    }
}
