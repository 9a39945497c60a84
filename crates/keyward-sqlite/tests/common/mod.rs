//! What the SQLite test files share: a store in a file and a pool beside it that runs
//! SQL outside keyward (as an operator would).

use keyward_clock::Timestamp;
use keyward_sqlite::SqliteStore;

/// `millis` milliseconds after 2026-01-01T00:00:00Z.
pub fn at(millis: u64) -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000 + millis)
}

/// The store in `keys.db` under `dir`, and a raw pool on the same file.
pub async fn open(dir: &tempfile::TempDir) -> (SqliteStore, sqlx::SqlitePool) {
    let path = dir.path().join("keys.db");
    let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    let raw =
        sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path))
            .await
            .unwrap();
    (store, raw)
}

/// Runs `sql` on the raw pool.
pub async fn exec(raw: &sqlx::SqlitePool, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(raw)
        .await
        .unwrap();
}
