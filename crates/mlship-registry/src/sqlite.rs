//! The embedded store: one SQLite file (WAL, `synchronous=FULL`, foreign keys, a busy timeout,
//! `BEGIN IMMEDIATE` for every read-modify-write).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, params_from_iter};

use crate::error::{RegistryError, Result};
use crate::store::{Row, SqlValue, Store, StoreKind};

/// How long a writer waits for another process's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_mins(1);

/// A registry database in an SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Self::Null => ValueRef::Null,
            Self::Int(v) => ValueRef::Integer(*v),
            Self::Real(v) => ValueRef::Real(*v),
            Self::Text(v) => ValueRef::Text(v.as_bytes()),
            Self::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, creating its folder too.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| RegistryError::io("create", dir, e))?;
        }
        let conn = Connection::open(path).map_err(|e| db_error(path, &e))?;
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        store
            .conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| store.err(&e))?;
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| store.err(&e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(store.invalid(format!(
                "cannot switch to write-ahead logging (journal mode is {mode})"
            )));
        }
        store
            .conn
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| store.err(&e))?;
        store.conn.set_prepared_statement_cache_capacity(64);
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: &rusqlite::Error) -> RegistryError {
        db_error(&self.path, e)
    }

    fn invalid(&self, message: String) -> RegistryError {
        RegistryError::Database {
            store: "SQLite",
            location: self.path.display().to_string(),
            message,
        }
    }
}

fn db_error(path: &Path, e: &rusqlite::Error) -> RegistryError {
    let mut message = e.to_string();
    if matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    ) {
        message.push_str("\nhint: another process held the registry for over a minute; try again");
    }
    RegistryError::Database {
        store: "SQLite",
        location: path.display().to_string(),
        message,
    }
}

impl Store for SqliteStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Sqlite
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn begin(&mut self, write: bool) -> Result<()> {
        let sql = if write {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN DEFERRED"
        };
        self.conn.execute_batch(sql).map_err(|e| self.err(&e))
    }

    fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(&e))
    }

    fn rollback(&mut self) -> Result<()> {
        self.conn
            .execute_batch("ROLLBACK")
            .map_err(|e| self.err(&e))
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(&e))?;
        let n = stmt
            .execute(params_from_iter(params.iter()))
            .map_err(|e| db_error(&self.path, &e))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(&e))?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(params_from_iter(params.iter()))
            .map_err(|e| db_error(&self.path, &e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| db_error(&self.path, &e))? {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                let v = row.get_ref(i).map_err(|e| db_error(&self.path, &e))?;
                values.push(match v {
                    ValueRef::Null => SqlValue::Null,
                    ValueRef::Integer(v) => SqlValue::Int(v),
                    ValueRef::Real(v) => SqlValue::Real(v),
                    ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|e| self.err(&e))
    }
}
