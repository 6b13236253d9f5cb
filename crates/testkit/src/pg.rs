//! A PostgreSQL database of a test's own, on the throwaway cluster `./dev test` starts (`./dev pg`
//! starts one by hand): `HEATCREW_TEST_PG` is the cluster's address, and each [`TestDb`] creates a
//! fresh database on it and drops it when the test ends.
//!
//! Without `HEATCREW_TEST_PG`, [`TestDb::create`] answers `None` (the caller skips and says so),
//! unless `HEATCREW_PG_REQUIRED=1`, as in `./dev test`, where a missing cluster fails the test.

use postgres::{Client, NoTls};

/// A database created for one test; dropped (with its connections) when this is dropped.
#[derive(Debug)]
pub struct TestDb {
    admin: String,
    name: String,
    /// `postgres://…/<name>`: what the store under test opens.
    pub url: String,
}

impl TestDb {
    /// A fresh, empty database, or `None` when no cluster is configured and none is required.
    pub fn create() -> Option<TestDb> {
        TestDb::create_as("")
    }

    /// Like [`TestDb::create`], with text compared and sorted by ICU's rules for `locale` (e.g.
    /// `en-US`: case-insensitive first, accents second) rather than the cluster's byte order: a
    /// query that orders text without `COLLATE "C"` then orders differently from SQLite.
    pub fn create_sorting_as(locale: &str) -> Option<TestDb> {
        TestDb::create_as(&format!(
            " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{locale}' LOCALE 'C.UTF-8'"
        ))
    }

    fn create_as(options: &str) -> Option<TestDb> {
        let Ok(admin) = std::env::var("HEATCREW_TEST_PG") else {
            if std::env::var("HEATCREW_PG_REQUIRED").as_deref() == Ok("1") {
                panic!(
                    "HEATCREW_PG_REQUIRED=1 but HEATCREW_TEST_PG is not set: start a cluster with `./dev pg`"
                );
            }
            eprintln!("skipped: no PostgreSQL (set HEATCREW_TEST_PG, e.g. by `./dev pg`)");
            return None;
        };
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        off_runtime(|| {
            let mut client = Client::connect(&admin, NoTls)
                .unwrap_or_else(|e| panic!("connecting to the test cluster {admin}: {e}"));
            client
                .batch_execute(&format!("CREATE DATABASE {name}{options}"))
                .expect("create the test database");
        });
        let url = with_database(&admin, &name);
        Some(TestDb { admin, name, url })
    }
}

impl TestDb {
    /// Cut every connection to this database whose `application_name` is `name` (what a
    /// PostgreSQL restart or failover does to them); how many were cut.
    pub fn terminate_connections(&self, name: &str) -> usize {
        let mut cut = 0;
        off_runtime(|| {
            let mut c = Client::connect(&self.url, NoTls).expect("connect to the test database");
            cut = c
                .query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE application_name = $1 AND datname = current_database()",
                    &[&name],
                )
                .expect("terminate")
                .len();
        });
        cut
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (&self.admin, &self.name);
        off_runtime(|| {
            if let Ok(mut c) = Client::connect(admin, NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        });
    }
}

/// Run `f` on a plain thread: the synchronous client starts a runtime of its own, which tokio
/// refuses inside an async test.
fn off_runtime(f: impl FnOnce() + Send) {
    std::thread::scope(|s| {
        if let Err(panic) = s.spawn(f).join() {
            std::panic::resume_unwind(panic);
        }
    });
}

/// The same server address with another database: `postgres://u@h:p/db?x` → `…/name?x`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..authority_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_an_address_is_replaced_and_options_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:54329/postgres", "t_1"),
            "postgres://postgres@127.0.0.1:54329/t_1"
        );
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:54329", "t_1"),
            "postgres://postgres@127.0.0.1:54329/t_1"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1/postgres?sslmode=disable", "t_2"),
            "postgres://u:p@h:1/t_2?sslmode=disable"
        );
    }
}
