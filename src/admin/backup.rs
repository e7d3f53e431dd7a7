//! `dewstack backup` / `dewstack restore`. A backup is JSON lines: a
//! header, one line per stored row (table, key, the stored bytes in
//! base64) and a trailer with the row count and the SHA-256 of the row
//! lines, so a truncated or edited file is refused before anything is
//! written. Rows are stored as the services sealed them (key material and
//! secret values under the root key), so a backup holds no plaintext; the
//! root key and `identity.json` are not in it and are backed up apart.

use crate::common::b64;
use crate::store::snapshot::{self, Row, Source};
use crate::store::Db;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};
use std::path::Path;

pub const FORMAT: &str = "dewstack-backup";
pub const VERSION: u32 = 1;
/// A row line longer than this is not one dewstack wrote.
const MAX_LINE: usize = 64 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    engine: String,
}

#[derive(Serialize, Deserialize)]
struct Line {
    t: String,
    k: String,
    v: String,
}

#[derive(Serialize, Deserialize)]
struct Trailer {
    end: bool,
    rows: u64,
    sha256: String,
}

/// Writes every row of `source`, from one snapshot, to `out` (through a
/// temporary file renamed into place). Returns the row count.
pub fn backup(source: &Source, out: &Path) -> anyhow::Result<u64> {
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".dewstack-backup-")
        .tempfile_in(dir)?;
    let mut w = std::io::BufWriter::new(tmp.as_file());
    let engine = match source {
        Source::Sqlite(_) => "sqlite",
        Source::Postgres(_) => "postgres",
    };
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        engine: engine.into(),
    };
    writeln!(w, "{}", serde_json::to_string(&header)?)?;
    let mut digest = Sha256::new();
    let rows = snapshot::dump(source, &mut |(t, k, v)| {
        let line = serde_json::to_string(&Line {
            t,
            k,
            v: b64::encode(v),
        })?;
        digest.update(line.as_bytes());
        digest.update(b"\n");
        writeln!(w, "{line}")?;
        Ok(())
    })?;
    let trailer = Trailer {
        end: true,
        rows,
        sha256: hex::encode(digest.finalize()),
    };
    writeln!(w, "{}", serde_json::to_string(&trailer)?)?;
    w.flush()?;
    drop(w);
    tmp.as_file().sync_all()?;
    tmp.persist(out)?;
    Ok(rows)
}

/// Reads a backup, calling `each` per row; fails on a bad header, a bad
/// line, or a trailer that does not match what was read.
pub fn read(input: &Path, each: &mut dyn FnMut(Row) -> anyhow::Result<()>) -> anyhow::Result<u64> {
    let file = std::fs::File::open(input)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", input.display()))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    let header: Header = serde_json::from_str(&first)
        .map_err(|_| anyhow::anyhow!("{} is not a dewstack backup", input.display()))?;
    if header.format != FORMAT || header.version != VERSION {
        anyhow::bail!(
            "{} is not a dewstack backup of version {VERSION}",
            input.display()
        );
    }
    let mut digest = Sha256::new();
    // Every line before the trailer is a row.
    for (n, line) in lines.enumerate() {
        let rows = n as u64;
        let line = line?;
        if line.len() > MAX_LINE {
            anyhow::bail!("line {} of the backup is too long", n + 2);
        }
        if let Ok(trailer) = serde_json::from_str::<Trailer>(&line) {
            if !trailer.end
                || trailer.rows != rows
                || trailer.sha256 != hex::encode(digest.finalize())
            {
                anyhow::bail!("the backup is damaged: its trailer does not match its rows");
            }
            return Ok(rows);
        }
        let row: Line = serde_json::from_str(&line)
            .map_err(|_| anyhow::anyhow!("line {} of the backup is not a row", n + 2))?;
        digest.update(line.as_bytes());
        digest.update(b"\n");
        let v = b64::decode(&row.v)
            .map_err(|_| anyhow::anyhow!("line {} of the backup is not a row", n + 2))?;
        each((row.t, row.k, v))?;
    }
    anyhow::bail!("the backup is incomplete: it has no trailer")
}

/// Loads a backup into `db` (whose rows are in `target`). Refuses a target
/// that holds rows unless `force`, which deletes them first. The file is
/// checked whole before anything is written.
pub fn restore(db: &Db, target: &Source, input: &Path, force: bool) -> anyhow::Result<u64> {
    let expected = read(input, &mut |_| Ok(()))?;
    let mut existing = Vec::new();
    snapshot::dump(target, &mut |(t, k, _)| {
        existing.push((t, k));
        Ok(())
    })?;
    if !existing.is_empty() && !force {
        anyhow::bail!(
            "the target database already holds {} rows: restore into an empty data dir or database, or pass --force to replace them",
            existing.len()
        );
    }
    for chunk in existing.chunks(500) {
        db.tx_blocking(|tx| {
            for (t, k) in chunk {
                tx.delete(t, k)?;
            }
            Ok::<_, crate::store::StoreError>(())
        })?;
    }
    let mut loader = snapshot::Loader::new(db);
    let rows = read(input, &mut |row| loader.push(row))?;
    loader.finish()?;
    if rows != expected {
        anyhow::bail!("the backup changed while it was read");
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(source: &Source) -> Vec<Row> {
        let mut out = Vec::new();
        snapshot::dump(source, &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn a_backup_of_an_open_database_restores_row_for_row_and_refuses_damage() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // Held open (and locked) the whole time, as by a serving dewstack.
        let db = Db::open(a.path(), None).unwrap();
        db.tx_blocking(|tx| {
            for i in 0..1200 {
                tx.put("t1", &format!("p/{i:05}"), format!("sealed-{i}").as_bytes())?;
            }
            tx.put("t2", "x", &[0, 255, 7])
        })
        .unwrap();
        let file = a.path().join("backup.jsonl");
        let source = Source::of(a.path(), None);
        assert_eq!(backup(&source, &file).unwrap(), 1201);

        let target_db = Db::open(b.path(), None).unwrap();
        let target = Source::of(b.path(), None);
        assert_eq!(restore(&target_db, &target, &file, false).unwrap(), 1201);
        assert_eq!(rows_of(&target), rows_of(&source));
        let again = restore(&target_db, &target, &file, false).unwrap_err();
        assert!(again.to_string().contains("--force"), "{again}");
        target_db
            .tx_blocking(|tx| tx.put("t3", "extra", b"x"))
            .unwrap();
        assert_eq!(restore(&target_db, &target, &file, true).unwrap(), 1201);
        assert_eq!(rows_of(&target), rows_of(&source));

        let text = std::fs::read_to_string(&file).unwrap();
        for (bad, why) in [
            (text.replacen("\"t2\"", "\"t9\"", 1), "damaged"),
            (
                text.lines().take(100).collect::<Vec<_>>().join("\n"),
                "incomplete",
            ),
            (
                "{\"format\":\"other\"}\n".to_owned(),
                "not a dewstack backup",
            ),
        ] {
            let path = a.path().join("bad.jsonl");
            std::fs::write(&path, bad).unwrap();
            let c = tempfile::tempdir().unwrap();
            let db = Db::open(c.path(), None).unwrap();
            let err = restore(&db, &Source::of(c.path(), None), &path, false).unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
            assert!(rows_of(&Source::of(c.path(), None)).is_empty());
        }
    }

    /// The same file format across engines: PostgreSQL → backup → SQLite,
    /// and that SQLite's backup → a fresh PostgreSQL, row for row.
    #[test]
    fn backups_cross_between_postgres_and_sqlite_row_for_row() {
        let Some(url) = crate::testing::fresh_postgres_database("backup_postgres") else {
            return;
        };
        let pg = Db::open(Path::new("."), Some(&url)).unwrap();
        pg.tx_blocking(|tx| {
            for i in 0..700 {
                tx.put(
                    "keys",
                    &format!("p/{i:05}"),
                    format!("sealed-{i}").as_bytes(),
                )?;
            }
            tx.put("secrets", "s", &[0, 255, 7])
        })
        .unwrap();
        let pg_source = Source::of(Path::new("."), Some(&url));
        let dir = tempfile::tempdir().unwrap();
        let from_pg = dir.path().join("from-pg.jsonl");
        assert_eq!(backup(&pg_source, &from_pg).unwrap(), 701);
        assert!(std::fs::read_to_string(&from_pg)
            .unwrap()
            .starts_with("{\"format\":\"dewstack-backup\",\"version\":1,\"engine\":\"postgres\"}"));

        let lite = tempfile::tempdir().unwrap();
        let lite_db = Db::open(lite.path(), None).unwrap();
        let lite_source = Source::of(lite.path(), None);
        assert_eq!(
            restore(&lite_db, &lite_source, &from_pg, false).unwrap(),
            701
        );
        assert_eq!(rows_of(&lite_source), rows_of(&pg_source));

        let from_lite = dir.path().join("from-lite.jsonl");
        assert_eq!(backup(&lite_source, &from_lite).unwrap(), 701);
        let Some(url2) = crate::testing::fresh_postgres_database("backup_postgres") else {
            return;
        };
        let pg2 = Db::open(Path::new("."), Some(&url2)).unwrap();
        let pg2_source = Source::of(Path::new("."), Some(&url2));
        let refused = restore(&pg, &pg_source, &from_lite, false).unwrap_err();
        assert!(refused.to_string().contains("--force"), "{refused}");
        assert_eq!(restore(&pg2, &pg2_source, &from_lite, false).unwrap(), 701);
        assert_eq!(rows_of(&pg2_source), rows_of(&pg_source));
    }
}
