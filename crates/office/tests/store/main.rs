//! The storage conformance suite: what every backend of the office's store must do, written once
//! against the store traits (`heatcrew_office::store`) and run on each backend — the embedded
//! SQLite store and the PostgreSQL store. A case is a function generic over the concern traits it
//! needs; `both!` makes a `sqlite` and a `postgres` test of it.
//!
//! PostgreSQL cases need the throwaway test cluster (`HEATCREW_TEST_PG`; `./dev test` starts it and
//! sets `HEATCREW_PG_REQUIRED=1`); without one they skip and say so.
//!
//! One file per concern, as the stores are split: `ledger.rs`, `meta.rs`, …; `postgres_only.rs` holds what
//! only PostgreSQL has (its migration bookkeeping).

use heatcrew_office::store::{PgStore, SqliteStore};
use heatcrew_testkit::pg::TestDb;

mod accounts;
mod alerts;
mod attachments;
mod audit;
mod chains;
mod complaints;
mod enrolment;
mod evidence;
mod feedback;
mod field;
mod jobs;
mod kpi;
mod ledger;
mod meta;
mod network;
mod notices;
mod patrols;
mod postgres_only;
mod postgres_tls;
mod raw;
mod reports;
mod throttle;

/// A fresh SQLite store in a temp dir (kept alive by the returned dir).
pub fn sqlite() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("office.db")).expect("open SQLite store");
    (dir, store)
}

/// A fresh PostgreSQL store on a database of its own, or `None` when no cluster is configured.
/// The database sorts text by ICU's `en-US` rules (`a b B e é Z`), not in byte order as SQLite
/// (`B Z a b e é`) and the test cluster do: every list a case checks must come out in SQLite's
/// order all the same (`COLLATE "C"` where PostgreSQL orders or compares text).
pub fn postgres() -> Option<(TestDb, PgStore)> {
    let db = TestDb::create_sorting_as("en-US")?;
    let store = PgStore::open(&db.url).expect("open PostgreSQL store");
    Some((db, store))
}

/// `both!(case)`: the test module `case` with `sqlite` and `postgres` tests calling `case(&store)`.
#[macro_export]
macro_rules! both {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[test]
            fn sqlite() {
                let (_dir, store) = $crate::sqlite();
                super::$case(&store);
            }

            #[test]
            fn postgres() {
                let Some((_db, store)) = $crate::postgres() else { return };
                super::$case(&store);
            }
        }
    )*};
}
