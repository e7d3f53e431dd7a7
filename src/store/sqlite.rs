//! The embedded engine: one SQLite file in WAL mode with `synchronous=FULL`,
//! so an acknowledged commit survives kill -9 and power loss.

use super::{Engine, StoreError, Tx};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::sync::Mutex;

const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_kv",
    "CREATE TABLE kv (tbl TEXT NOT NULL, k TEXT NOT NULL, v BLOB NOT NULL, PRIMARY KEY (tbl, k)) WITHOUT ROWID;",
)];

pub struct SqliteEngine {
    // SQLite allows one writer at a time anyway; one connection behind a mutex
    // keeps the transaction model trivially serializable.
    conn: Mutex<Connection>,
}

impl SqliteEngine {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        migrate(&conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }
}

fn migrate(conn: &Connection) -> anyhow::Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL);")?;
    for (id, sql) in MIGRATIONS {
        let done: Option<String> = conn
            .query_row(
                "SELECT id FROM schema_migrations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        if done.is_none() {
            conn.execute_batch(&format!(
                "BEGIN; {sql} INSERT INTO schema_migrations (id, applied_at) VALUES ('{id}', datetime('now')); COMMIT;"
            ))?;
        }
    }
    Ok(())
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

impl Tx for SqliteTx<'_> {
    fn get(&mut self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.tx
            .prepare_cached("SELECT v FROM kv WHERE tbl = ?1 AND k = ?2")
            .and_then(|mut st| st.query_row(params![table, key], |r| r.get(0)).optional())
            .map_err(backend)
    }

    fn put(&mut self, table: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("INSERT INTO kv (tbl, k, v) VALUES (?1, ?2, ?3) ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v")
            .and_then(|mut st| st.execute(params![table, key, value]))
            .map(|_| ())
            .map_err(backend)
    }

    fn delete(&mut self, table: &str, key: &str) -> Result<bool, StoreError> {
        self.tx
            .prepare_cached("DELETE FROM kv WHERE tbl = ?1 AND k = ?2")
            .and_then(|mut st| st.execute(params![table, key]))
            .map(|n| n > 0)
            .map_err(backend)
    }

    fn scan(
        &mut self,
        table: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // Range on the primary key instead of LIKE, so that '%' and '_' in
        // prefixes mean nothing special and the index is used.
        let start = after.filter(|a| *a >= prefix).unwrap_or(prefix);
        let strict = after.is_some_and(|a| a >= prefix);
        let sql = if strict {
            "SELECT k, v FROM kv WHERE tbl = ?1 AND k > ?2 ORDER BY k LIMIT ?3"
        } else {
            "SELECT k, v FROM kv WHERE tbl = ?1 AND k >= ?2 ORDER BY k LIMIT ?3"
        };
        let mut st = self.tx.prepare_cached(sql).map_err(backend)?;
        let rows = st
            .query_map(params![table, start, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (k, v) = row.map_err(backend)?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k, v));
        }
        Ok(out)
    }
}

impl Engine for SqliteEngine {
    fn run(
        &self,
        body: &mut dyn FnMut(&mut dyn Tx) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Backend("sqlite connection poisoned".into()))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let commit = body(&mut SqliteTx { tx: &tx })?;
        if commit {
            tx.commit().map_err(backend)
        } else {
            tx.rollback().map_err(backend)
        }
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn conformance_suite_passes_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let engine = super::SqliteEngine::open(&dir.path().join("t.db")).unwrap();
        super::super::conformance::run_all(&engine);
    }

    #[test]
    fn data_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let engine = super::SqliteEngine::open(&path).unwrap();
            super::super::conformance::put_one(&engine, "t", "k", b"v");
        }
        let engine = super::SqliteEngine::open(&path).unwrap();
        assert_eq!(
            super::super::conformance::get_one(&engine, "t", "k"),
            Some(b"v".to_vec())
        );
    }
}
