//! The team store: a PostgreSQL server, through the synchronous `postgres` client.
//!
//! Write transactions take a transaction-scoped advisory lock keyed by the schema, so writers
//! are serialised as in SQLite; reads run in `REPEATABLE READ` read-only transactions.

use std::collections::HashMap;
use std::fmt;

use postgres::types::{ToSql, Type};
use postgres::{Client, Config, NoTls, Statement};

use crate::error::{RegistryError, Result};
use crate::names::validate_model_name;
use crate::store::{Row, SqlValue, Store, StoreKind};

/// A registry database on a PostgreSQL server, in one schema.
pub struct PostgresStore {
    client: Client,
    location: String,
    statements: HashMap<String, Statement>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Splits the registry's own `schema=NAME` parameter off a connection URL.
pub(crate) fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("schema=") {
            Some(s) => {
                schema = Some(s.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, schema)
}

/// `postgres://user@host:port/db`, without the password.
fn describe(config: &Config, schema: Option<&str>) -> String {
    let host = config
        .get_hosts()
        .first()
        .map_or_else(String::new, |h| match h {
            postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(p) => p.display().to_string(),
        });
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let mut s = format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    );
    if let Some(schema) = schema {
        s.push_str("?schema=");
        s.push_str(schema);
    }
    s
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`, optionally `?schema=NAME` to
    /// keep the registry in its own schema, created if missing).
    pub fn connect(url: &str) -> Result<Self> {
        let (url, schema) = split_schema(url);
        let config: Config = url.parse().map_err(|e: postgres::Error| RegistryError::Database {
            store: "PostgreSQL",
            location: "(connection string)".into(),
            message: format!(
                "invalid connection string: {e}\nhint: write postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ),
        })?;
        let location = describe(&config, schema.as_deref());
        let client = config.connect(NoTls).map_err(|e| RegistryError::Database {
            store: "PostgreSQL",
            location: location.clone(),
            message: format!(
                "cannot connect: {e}\nhint: check that the server runs and the URL is right"
            ),
        })?;
        let mut store = Self {
            client,
            location,
            statements: HashMap::new(),
        };
        if let Some(schema) = schema {
            validate_model_name(&schema).map_err(|_| {
                store.invalid(format!(
                    "invalid schema name {schema:?}: expected letters, digits, '-' or '_'"
                ))
            })?;
            let quoted = format!("\"{schema}\"");
            store.execute_batch(&format!(
                "CREATE SCHEMA IF NOT EXISTS {quoted}; SET search_path TO {quoted}"
            ))?;
        }
        Ok(store)
    }

    fn invalid(&self, message: String) -> RegistryError {
        RegistryError::Database {
            store: "PostgreSQL",
            location: self.location.clone(),
            message,
        }
    }

    fn err(&self, e: &postgres::Error) -> RegistryError {
        let message = e.as_db_error().map_or_else(
            || e.to_string(),
            |d| match d.detail() {
                Some(detail) => format!("{}: {detail}", d.message()),
                None => d.message().to_owned(),
            },
        );
        self.invalid(message)
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let text = numbered(sql);
        let stmt = self.client.prepare(&text).map_err(|e| self.err(&e))?;
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

/// Rewrites `?` placeholders to `$1, $2, …` (the registry's SQL has no `?` inside literals).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A parameter typed as the statement expects it.
fn bind(v: &SqlValue, ty: &Type) -> std::result::Result<Box<dyn ToSql + Sync>, String> {
    Ok(match v {
        SqlValue::Null => match *ty {
            Type::INT8 => Box::new(None::<i64>),
            Type::INT4 => Box::new(None::<i32>),
            Type::INT2 => Box::new(None::<i16>),
            Type::FLOAT8 => Box::new(None::<f64>),
            Type::BYTEA => Box::new(None::<Vec<u8>>),
            _ => Box::new(None::<String>),
        },
        SqlValue::Int(i) => match *ty {
            Type::INT4 => Box::new(i32::try_from(*i).map_err(|e| e.to_string())?),
            Type::INT2 => Box::new(i16::try_from(*i).map_err(|e| e.to_string())?),
            Type::FLOAT8 => Box::new(*i as f64),
            Type::TEXT | Type::VARCHAR => Box::new(i.to_string()),
            _ => Box::new(*i),
        },
        SqlValue::Real(x) => Box::new(*x),
        SqlValue::Text(s) => Box::new(s.clone()),
        SqlValue::Blob(b) => Box::new(b.clone()),
    })
}

fn read(row: &postgres::Row, i: usize) -> std::result::Result<SqlValue, postgres::Error> {
    let ty = row.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.into(),
        Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(i64::from).into(),
        Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(i64::from).into(),
        Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(i64::from).into(),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(i)?
            .map_or(SqlValue::Null, SqlValue::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)?
            .map_or(SqlValue::Null, |x| SqlValue::Real(f64::from(x))),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.into(),
        _ => row.try_get::<_, Option<String>>(i)?.into(),
    })
}

impl PostgresStore {
    fn params(&self, stmt: &Statement, params: &[SqlValue]) -> Result<Vec<Box<dyn ToSql + Sync>>> {
        if stmt.params().len() != params.len() {
            return Err(self.invalid(format!(
                "statement expects {} parameters, {} given",
                stmt.params().len(),
                params.len()
            )));
        }
        params
            .iter()
            .zip(stmt.params())
            .map(|(v, ty)| bind(v, ty).map_err(|e| self.invalid(format!("parameter {v:?}: {e}"))))
            .collect()
    }
}

impl Store for PostgresStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Postgres
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn begin(&mut self, write: bool) -> Result<()> {
        let sql = if write {
            "BEGIN; SELECT pg_advisory_xact_lock(hashtext(current_schema()))"
        } else {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        };
        self.client.batch_execute(sql).map_err(|e| self.err(&e))
    }

    fn commit(&mut self) -> Result<()> {
        self.client
            .batch_execute("COMMIT")
            .map_err(|e| self.err(&e))
    }

    fn rollback(&mut self) -> Result<()> {
        self.client
            .batch_execute("ROLLBACK")
            .map_err(|e| self.err(&e))
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        let bound = self.params(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(AsRef::as_ref).collect();
        self.client.execute(&stmt, &refs).map_err(|e| self.err(&e))
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let bound = self.params(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(AsRef::as_ref).collect();
        let rows = self.client.query(&stmt, &refs).map_err(|e| self.err(&e))?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| read(r, i))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map(Row)
                    .map_err(|e| self.err(&e))
            })
            .collect()
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        // Prepared statements may refer to tables the batch changes.
        self.statements.clear();
        self.client.batch_execute(sql).map_err(|e| self.err(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_schema_parameter() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
        assert_eq!(
            split_schema("postgres://u@h/db?schema=team&sslmode=disable"),
            (
                "postgres://u@h/db?sslmode=disable".to_owned(),
                Some("team".to_owned())
            )
        );
        assert_eq!(
            split_schema("postgres://u@h/db?schema=x"),
            ("postgres://u@h/db".to_owned(), Some("x".to_owned()))
        );
        assert_eq!(
            split_schema("postgres://u@h/db"),
            ("postgres://u@h/db".to_owned(), None)
        );
    }
}
