//! Which database an office runs on: the embedded SQLite file (the default, `--db office.db`) or
//! PostgreSQL (`--database postgres://…`), shared by several office processes.
//!
//! With SQLite the office key file and the attachment folder default to beside the database
//! (`<db>.office-key`, `<db>.files`). A PostgreSQL database has no "beside": every process must be
//! told the same key file (`--key-file`) and the same object store (`--objects`), so both are
//! required there, and [`Storage::key_file`] and [`Storage::objects`] say so plainly.
//!
//! A PostgreSQL address may carry a password. It is kept in a [`DatabaseUrl`], whose `Display`
//! and `Debug` print it as `***`, so no log line or error message ever shows it.

use crate::objects::Location;
use crate::store::postgres::PgTarget;
use crate::store::{OfficeStore, PgStore, SqliteStore};
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A PostgreSQL address (`postgres://user:password@host:port/database?options`), printed with
/// its password hidden.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Take `text` if it is a `postgres://` (or `postgresql://`) address the driver can read.
    /// The key=value form is refused: its password could not be hidden reliably.
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        let url = DatabaseUrl(text.trim().to_owned());
        if !(url.0.starts_with("postgres://") || url.0.starts_with("postgresql://")) {
            return Err(format!(
                "{url} is not a PostgreSQL address: write postgres://user:password@host:port/database"
            ));
        }
        // Also loads any certificate files the TLS options name: a wrong path fails here.
        PgTarget::parse(&url.0).map_err(|e| format!("{url}: {e}"))?;
        Ok(url)
    }

    /// The address with the password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The address with any password replaced by `***` (in the user part and in a `password=`
    /// option).
    pub fn redacted(&self) -> String {
        let text = &self.0;
        let Some(scheme_end) = text.find("://").map(|i| i + 3) else {
            return "***".into();
        };
        let rest = &text[scheme_end..];
        let authority_len = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_len);
        let authority = match authority.rsplit_once('@') {
            Some((user, host)) => match user.split_once(':') {
                Some((name, _password)) => format!("{name}:***@{host}"),
                None => format!("{user}@{host}"),
            },
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let options: Vec<String> = query
                    .split('&')
                    .map(|kv| match kv.split_once('=') {
                        Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                        _ => kv.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", options.join("&"))
            }
            None => tail.to_owned(),
        };
        format!("{}{authority}{tail}", &text[..scheme_end])
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(s)
    }
}

/// The office's database.
#[derive(Debug, Clone)]
pub enum Storage {
    /// An embedded SQLite file (created on first start).
    Sqlite(PathBuf),
    /// A PostgreSQL database (it must exist; the schema is created on first start).
    Postgres(DatabaseUrl),
}

impl std::fmt::Display for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Storage::Sqlite(path) => write!(f, "{}", path.display()),
            Storage::Postgres(url) => write!(f, "{url}"),
        }
    }
}

/// How long the first connection to PostgreSQL may take before the office gives up with a clear
/// error (the pool itself would wait 30 s per connection).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Storage {
    /// From the command line: `--db FILE` or `--database postgres://…`, exactly one.
    pub fn from_args(db: Option<PathBuf>, database: Option<DatabaseUrl>) -> anyhow::Result<Self> {
        match (db, database) {
            (Some(path), None) => Ok(Storage::Sqlite(path)),
            (None, Some(url)) => Ok(Storage::Postgres(url)),
            (Some(_), Some(_)) => anyhow::bail!(
                "give either --db (an SQLite file) or --database (postgres://…), not both"
            ),
            (None, None) => anyhow::bail!(
                "no database: give --db office.db (SQLite) or --database postgres://… (or HEATCREW_DATABASE)"
            ),
        }
    }

    /// The office key file: `given`, or beside an SQLite database; with PostgreSQL it must be
    /// given (every process reads the same file).
    pub fn key_file(&self, given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
        match (given, self) {
            (Some(path), _) => Ok(path),
            (None, Storage::Sqlite(db)) => Ok(crate::office_key::default_path(db)),
            (None, Storage::Postgres(_)) => anyhow::bail!(
                "with --database postgres://… give --key-file (or HEATCREW_KEY_FILE): the office's signing key lives outside the database, and every office process on it must read the same file"
            ),
        }
    }

    /// Where attachments live: `given`, or the folder beside an SQLite database; with PostgreSQL
    /// it must be given (every process must see the same files).
    pub fn objects(&self, given: Option<Location>) -> anyhow::Result<Location> {
        match (given, self) {
            (Some(location), _) => Ok(location),
            (None, Storage::Sqlite(db)) => Ok(crate::Config::new(db).objects),
            (None, Storage::Postgres(_)) => anyhow::bail!(
                "with --database postgres://… give --objects (or HEATCREW_OBJECTS): s3://bucket/prefix, or a folder every office process shares"
            ),
        }
    }

    /// The office's configuration on this storage with its key file and object store.
    pub fn config(&self, key_file: PathBuf, objects: Location) -> crate::Config {
        let db = match self {
            Storage::Sqlite(path) => path.clone(),
            Storage::Postgres(_) => PathBuf::new(),
        };
        crate::Config {
            key_file,
            objects,
            ..crate::Config::new(db)
        }
    }

    /// Open (creating or migrating) the store.
    pub fn open(&self) -> anyhow::Result<Arc<dyn OfficeStore>> {
        self.open_with(crate::store::postgres::DEFAULT_POOL_SIZE)
    }

    /// [`Storage::open`] with at most `connections` to PostgreSQL (SQLite has its own).
    pub fn open_with(&self, connections: u32) -> anyhow::Result<Arc<dyn OfficeStore>> {
        match self {
            Storage::Sqlite(path) => Ok(Arc::new(
                SqliteStore::open(path).with_context(|| format!("opening {}", path.display()))?,
            )),
            Storage::Postgres(url) => {
                check_reachable(url)?;
                Ok(Arc::new(
                    PgStore::open_with(url.expose(), connections)
                        .with_context(|| format!("opening {url}"))?,
                ))
            }
        }
    }
}

/// One connection of its own first (outside the pool), so an unreachable server, a refused login
/// or a refused certificate is one clear error within [`CONNECT_TIMEOUT`], naming the address
/// without its password.
pub fn check_reachable(url: &DatabaseUrl) -> anyhow::Result<()> {
    let mut target = PgTarget::parse(url.expose()).map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    target.config.connect_timeout(CONNECT_TIMEOUT);
    let client = target
        .connect()
        // With its causes (`{:#}`): a refused certificate says why, not only "TLS handshake".
        .map_err(|e| {
            anyhow::Error::new(e).context(format!("cannot connect to PostgreSQL at {url}"))
        })?;
    let _ = client.close();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_printed() {
        for (given, shown) in [
            (
                "postgres://office:s3cret@db.example:5432/heatcrew",
                "postgres://office:***@db.example:5432/heatcrew",
            ),
            (
                "postgresql://office:p%40ss@10.0.0.5/heatcrew?sslmode=disable&password=x2",
                "postgresql://office:***@10.0.0.5/heatcrew?sslmode=disable&password=***",
            ),
            (
                "postgres://office@127.0.0.1:54329/heatcrew",
                "postgres://office@127.0.0.1:54329/heatcrew",
            ),
        ] {
            let url = DatabaseUrl::parse(given).expect("a valid address");
            assert_eq!(url.to_string(), shown, "Display hides the password");
            assert!(
                !format!("{url:?}").contains("s3cret") && !format!("{url:?}").contains("x2"),
                "and so does Debug"
            );
            assert_eq!(
                url.expose(),
                given,
                "the driver still gets the whole address"
            );
        }
        let err = DatabaseUrl::parse("host=db password=s3cret").expect_err("key=value form");
        assert!(
            !err.contains("s3cret"),
            "a refused address is not echoed with its password: {err}"
        );
    }

    #[test]
    fn postgres_needs_its_key_file_and_objects_named() {
        let pg = Storage::Postgres(DatabaseUrl::parse("postgres://u:pw@h/db").expect("url"));
        let key = pg.key_file(None).expect_err("no default key file");
        assert!(key.to_string().contains("--key-file"), "{key}");
        let objects = pg.objects(None).expect_err("no default objects");
        assert!(objects.to_string().contains("--objects"), "{objects}");
        let sqlite = Storage::Sqlite("/srv/office.db".into());
        assert_eq!(
            sqlite.key_file(None).expect("default"),
            PathBuf::from("/srv/office.db.office-key"),
            "SQLite keeps its defaults beside the file"
        );
    }
}
