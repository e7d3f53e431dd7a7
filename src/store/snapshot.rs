//! Every row of a database in one consistent snapshot, without the engine's
//! own machinery: `dewstack backup` reads a SQLite file that a running
//! dewstack holds (WAL readers never block and are never blocked), and
//! `dewstack migrate` reads a source it does not serve. Both engines keep
//! one table, `kv (tbl, k, v)`; rows come in (tbl, k) order.

use super::engine::StoreError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a snapshot is read from.
#[derive(Clone)]
pub enum Source {
    /// The embedded database file (`<data_dir>/dewstack.db`).
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            // The URL may carry a password.
            Source::Postgres(_) => f.write_str("Postgres(..)"),
        }
    }
}

impl Source {
    pub fn of(data_dir: &Path, database_url: Option<&str>) -> Self {
        match database_url {
            Some(url) => Source::Postgres(url.to_owned()),
            None => Source::Sqlite(data_dir.join("dewstack.db")),
        }
    }
}

/// One row: table, key, stored bytes (records as the services sealed them).
pub type Row = (String, String, Vec<u8>);

/// Calls `each` with every row, all from one snapshot; returns the count.
pub fn dump(
    source: &Source,
    each: &mut dyn FnMut(Row) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut n = 0u64;
    match source {
        Source::Sqlite(path) => {
            if !path.exists() {
                anyhow::bail!("no embedded database at {}", path.display());
            }
            let conn = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            // One read transaction: every row from the same snapshot.
            conn.execute_batch("BEGIN DEFERRED")?;
            let mut st = conn.prepare("SELECT tbl, k, v FROM kv ORDER BY tbl, k")?;
            let mut rows = st.query([])?;
            while let Some(row) = rows.next()? {
                each((row.get(0)?, row.get(1)?, row.get(2)?))?;
                n += 1;
            }
        }
        Source::Postgres(url) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls)?;
            let mut tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            // A cursor in batches: the database is never held in memory.
            let portal = tx.bind("SELECT tbl, k, v FROM kv ORDER BY tbl, k", &[])?;
            loop {
                let batch = tx.query_portal(&portal, 1000)?;
                if batch.is_empty() {
                    break;
                }
                for row in batch {
                    each((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))?;
                    n += 1;
                }
            }
        }
    }
    Ok(n)
}

/// Rows per table, from one snapshot (to compare a copy with its source).
pub fn counts(source: &Source) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    dump(source, &mut |(tbl, _, _)| {
        *counts.entry(tbl).or_insert(0) += 1;
        Ok(())
    })?;
    Ok(counts)
}

/// Writes rows through a `Db` in transactions of at most [`Loader::BATCH`].
pub struct Loader<'a> {
    db: &'a super::Db,
    batch: Vec<Row>,
    pub rows: u64,
}

impl<'a> Loader<'a> {
    pub const BATCH: usize = 500;

    pub fn new(db: &'a super::Db) -> Self {
        Self {
            db,
            batch: Vec::with_capacity(Self::BATCH),
            rows: 0,
        }
    }

    pub fn push(&mut self, row: Row) -> anyhow::Result<()> {
        self.batch.push(row);
        if self.batch.len() >= Self::BATCH {
            self.write()?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> anyhow::Result<u64> {
        self.write()?;
        Ok(self.rows)
    }

    fn write(&mut self) -> anyhow::Result<()> {
        let batch = std::mem::take(&mut self.batch);
        self.db.tx_blocking(|tx| {
            for (tbl, k, v) in &batch {
                tx.put(tbl, k, v)?;
            }
            Ok::<_, StoreError>(())
        })?;
        self.rows += batch.len() as u64;
        Ok(())
    }
}
