//! The metadata store: one small trait over a SQL database, implemented by SQLite
//! ([`crate::SqliteStore`]) and PostgreSQL ([`crate::PostgresStore`]).
//!
//! The registry's logic is written once, against this trait, in the SQL both databases share;
//! statements use `?` placeholders (rewritten to `$1, $2, …` for PostgreSQL). Write transactions
//! are serialised (SQLite's `BEGIN IMMEDIATE`, a PostgreSQL advisory lock per schema), so every
//! read-modify-write (the next version number, an alias move) is atomic.

use crate::error::{RegistryError, Result};

/// A value bound to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// SQL `NULL`.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<u64> for SqlValue {
    fn from(v: u64) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&String> for SqlValue {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}

impl From<Vec<u8>> for SqlValue {
    fn from(v: Vec<u8>) -> Self {
        Self::Blob(v)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<SqlValue>);

impl Row {
    fn wrong(&self, i: usize, want: &str) -> RegistryError {
        RegistryError::Invalid(format!(
            "registry data: column {i} holds {:?}, expected {want}",
            self.0.get(i)
        ))
    }

    /// An integer column.
    pub fn int(&self, i: usize) -> Result<i64> {
        match self.0.get(i) {
            Some(SqlValue::Int(v)) => Ok(*v),
            _ => Err(self.wrong(i, "an integer")),
        }
    }

    /// A non-negative integer column.
    pub fn uint(&self, i: usize) -> Result<u64> {
        u64::try_from(self.int(i)?).map_err(|_| self.wrong(i, "a non-negative integer"))
    }

    /// A nullable integer column.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.0.get(i) {
            Some(SqlValue::Null) => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// A text column.
    pub fn text(&self, i: usize) -> Result<String> {
        match self.0.get(i) {
            Some(SqlValue::Text(v)) => Ok(v.clone()),
            _ => Err(self.wrong(i, "text")),
        }
    }

    /// A nullable text column.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.0.get(i) {
            Some(SqlValue::Null) => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// A bytes column.
    pub fn blob(&self, i: usize) -> Result<Vec<u8>> {
        match self.0.get(i) {
            Some(SqlValue::Blob(v)) => Ok(v.clone()),
            _ => Err(self.wrong(i, "bytes")),
        }
    }
}

/// Which database a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl StoreKind {
    /// The database's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// A connection to the registry's metadata database.
///
/// Both implementations behave alike: `begin(true)` starts a transaction that holds the
/// registry's write lock until `commit` or `rollback`; `begin(false)` starts a read-only
/// transaction on one consistent snapshot. Outside a transaction each statement commits alone.
pub trait Store: Send + std::fmt::Debug {
    /// Which database this is.
    fn kind(&self) -> StoreKind;
    /// The database file or server, without credentials, for messages.
    fn location(&self) -> String;
    /// Starts a transaction; a write transaction waits for and holds the write lock.
    fn begin(&mut self, write: bool) -> Result<()>;
    /// Commits the current transaction (durably).
    fn commit(&mut self) -> Result<()>;
    /// Abandons the current transaction.
    fn rollback(&mut self) -> Result<()>;
    /// Runs one statement with `?` placeholders; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64>;
    /// Runs one query with `?` placeholders and returns all its rows.
    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>>;
    /// Runs several statements without parameters (schema migrations).
    fn execute_batch(&mut self, sql: &str) -> Result<()>;
}

/// One schema migration: shared SQL, then each database's own.
pub(crate) struct Migration {
    /// Its number, from 1.
    pub version: i64,
    /// What it does.
    pub name: &'static str,
    /// SQL both databases run; `{id}`, `{blob}` and `{real}` stand for each one's spelling.
    pub shared: &'static str,
    /// SQL only SQLite runs.
    pub sqlite: &'static str,
    /// SQL only PostgreSQL runs.
    pub postgres: &'static str,
}

/// The schema migrations, in order; each is applied once, in a write transaction, and recorded
/// in `schema_migrations`.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "models, versions, aliases, tags, audit log, runs, artifact chunks",
        shared: "
CREATE TABLE models (
    id {id},
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_ms BIGINT NOT NULL,
    next_version BIGINT NOT NULL
);
CREATE TABLE versions (
    id {id},
    model_id BIGINT NOT NULL REFERENCES models(id),
    number BIGINT NOT NULL,
    artifact TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    task TEXT,
    run_id TEXT,
    experiment TEXT,
    parent_version TEXT,
    mlship_version TEXT NOT NULL,
    data_fingerprint TEXT,
    description TEXT,
    params TEXT NOT NULL,
    metrics TEXT NOT NULL,
    schema_json TEXT,
    lineage TEXT NOT NULL,
    UNIQUE (model_id, number)
);
CREATE INDEX versions_artifact ON versions (artifact);
CREATE INDEX versions_run ON versions (run_id);
CREATE TABLE aliases (
    model_id BIGINT NOT NULL REFERENCES models(id),
    alias TEXT NOT NULL,
    version_id BIGINT NOT NULL REFERENCES versions(id),
    PRIMARY KEY (model_id, alias)
);
CREATE TABLE model_tags (
    model_id BIGINT NOT NULL REFERENCES models(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);
CREATE TABLE version_tags (
    version_id BIGINT NOT NULL REFERENCES versions(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (version_id, key)
);
CREATE TABLE audit (
    id {id},
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    model TEXT NOT NULL,
    action TEXT NOT NULL,
    alias TEXT,
    version BIGINT,
    before_value TEXT,
    after_value TEXT,
    reason TEXT
);
CREATE INDEX audit_model ON audit (model, id);
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE artifact_chunks (
    hash TEXT NOT NULL,
    seq BIGINT NOT NULL,
    bytes {blob} NOT NULL,
    PRIMARY KEY (hash, seq)
);
CREATE TABLE artifacts (
    hash TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    chunks BIGINT NOT NULL
);
",
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 2,
        name: "the audit log is append-only",
        shared: "",
        sqlite: "
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
",
        postgres: "
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION audit_append_only();
",
    },
];

/// The newest schema version this build knows.
pub(crate) fn schema_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies the migrations `store` lacks, in one write transaction each.
pub(crate) fn migrate(store: &mut dyn Store) -> Result<()> {
    let create = "CREATE TABLE IF NOT EXISTS schema_migrations (\
                  version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)";
    // Fast path: an up-to-date registry needs no write lock.
    if let Ok(rows) = store.query("SELECT MAX(version) FROM schema_migrations", &[])
        && rows
            .first()
            .and_then(|r| r.opt_int(0).ok().flatten())
            .is_some_and(|v| v == schema_version())
    {
        return Ok(());
    }
    store.begin(true)?;
    let result = (|| {
        store.execute(create, &[])?;
        let current = store
            .query("SELECT MAX(version) FROM schema_migrations", &[])?
            .first()
            .map(|r| r.opt_int(0))
            .transpose()?
            .flatten()
            .unwrap_or(0);
        if current > schema_version() {
            return Err(RegistryError::SchemaTooNew {
                location: store.location(),
                found: current,
                supported: schema_version(),
            });
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            let sql = match store.kind() {
                StoreKind::Sqlite => {
                    m.shared
                        .replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT")
                        .replace("{blob}", "BLOB")
                        .replace("{real}", "REAL")
                        + m.sqlite
                }
                StoreKind::Postgres => {
                    m.shared
                        .replace(
                            "{id}",
                            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                        )
                        .replace("{blob}", "BYTEA")
                        .replace("{real}", "DOUBLE PRECISION")
                        + m.postgres
                }
            };
            store.execute_batch(&sql)?;
            store.execute(
                "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)",
                &[
                    SqlValue::Int(m.version),
                    SqlValue::from(m.name),
                    SqlValue::Int(mlship_core::time::now_ms()),
                ],
            )?;
        }
        Ok(())
    })();
    finish(store, result)
}

/// Commits on success, rolls back on failure (keeping the first error).
pub(crate) fn finish<T>(store: &mut dyn Store, result: Result<T>) -> Result<T> {
    match result {
        Ok(v) => {
            store.commit()?;
            Ok(v)
        }
        Err(e) => {
            let _ = store.rollback();
            Err(e)
        }
    }
}
