//! Plain SQL on a store's own database, for what no store method may do (the refusals of the
//! append-only triggers) and for rows of concerns a case does not test (events, attachments for
//! the report's counts). Both schemas are column for column the same, so one statement runs on
//! either backend. `both_raw!(case)` is `both!` for cases `fn case(store, raw: &dyn Raw)`.

use heatcrew_office::store::SqliteStore;
use std::sync::Mutex;

/// Runs SQL on the database under test.
pub trait Raw {
    /// Run `sql` (one or more statements); the database's error message on failure.
    fn exec(&self, sql: &str) -> Result<(), String>;
}

pub struct SqliteRaw<'a>(pub &'a SqliteStore);

impl Raw for SqliteRaw<'_> {
    fn exec(&self, sql: &str) -> Result<(), String> {
        self.0
            .with_connection(|c| c.execute_batch(sql))
            .map_err(|e| e.to_string())
    }
}

/// A connection of its own to the PostgreSQL test database.
pub struct PgRaw(Mutex<postgres::Client>);

impl PgRaw {
    pub fn connect(url: &str) -> PgRaw {
        PgRaw(Mutex::new(
            postgres::Client::connect(url, postgres::NoTls).expect("connect to the test database"),
        ))
    }
}

impl Raw for PgRaw {
    fn exec(&self, sql: &str) -> Result<(), String> {
        self.0
            .lock()
            .expect("raw connection")
            .batch_execute(sql)
            .map_err(|e| match e.as_db_error() {
                Some(db) => db.message().to_owned(),
                None => e.to_string(),
            })
    }
}

/// `both_raw!(case)`: the test module `case` with `sqlite` and `postgres` tests calling
/// `case(&store, &raw)`.
#[macro_export]
macro_rules! both_raw {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[test]
            fn sqlite() {
                let (_dir, store) = $crate::sqlite();
                super::$case(&store, &$crate::raw::SqliteRaw(&store));
            }

            #[test]
            fn postgres() {
                let Some((db, store)) = $crate::postgres() else { return };
                super::$case(&store, &$crate::raw::PgRaw::connect(&db.url));
            }
        }
    )*};
}
