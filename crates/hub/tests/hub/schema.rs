//! Migrations: an empty database migrated to the newest version has exactly the frozen schema
//! (per backend); migrating again changes nothing; a database newer than the hub is refused.
//! After a deliberate schema change, `WATCHFLOOR_BLESS=1` rewrites the frozen copies.

use crate::on_both;
use crate::support::{Backend, database};
use std::path::PathBuf;

async fn migrations_reach_the_frozen_schema(backend: Backend) {
    let url = database(backend);
    let db = hub::db::Db::open(&url, &hub::SystemClock)
        .await
        .expect("migrate an empty database");
    let outline = db.schema_outline().await.expect("outline").join("\n") + "\n";
    let frozen = PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join(format!(
        "tests/hub/schema/{}.txt",
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    ));
    if std::env::var_os("WATCHFLOOR_BLESS").is_some() {
        std::fs::write(&frozen, &outline).expect("bless");
    }
    let expected =
        std::fs::read_to_string(&frozen).expect("frozen schema (run with WATCHFLOOR_BLESS=1 once)");
    assert_eq!(
        outline,
        expected,
        "the migrated schema differs from {}",
        frozen.display()
    );
    db.close().await;

    let again = hub::db::Db::open(&url, &hub::SystemClock)
        .await
        .expect("reopen");
    assert_eq!(
        again.schema_outline().await.expect("outline").join("\n") + "\n",
        expected
    );
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    .execute(again.pool())
    .await
    .expect("pretend a newer hub migrated it");
    again.close().await;
    let refused = hub::db::Db::open(&url, &hub::SystemClock)
        .await
        .expect_err("a newer schema is refused");
    assert!(
        refused.to_string().contains("newer than this hub"),
        "{refused}"
    );
}
on_both!(migrations_reach_the_frozen_schema);

/// A database made by the first hub release upgrades to the newest schema with its data; on
/// SQLite a consistent copy of the old file is kept beside it first.
async fn a_first_release_database_upgrades_with_a_backup(backend: Backend) {
    use sqlx::Row;
    let url = database(backend);
    sqlx::any::install_default_drivers();
    let connect = match backend {
        Backend::Sqlite => format!("{url}?mode=rwc"),
        Backend::Postgres => url.clone(),
    };
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&connect)
        .await
        .expect("connect");
    let (version, name, sql) = hub::db::MIGRATIONS[0];
    sqlx::query(
        "CREATE TABLE schema_migrations \
         (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("versions table");
    for statement in hub::db::split_statements(sql) {
        sqlx::query(&statement).execute(&pool).await.expect("v1");
    }
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)")
        .bind(version)
        .bind(name)
        .execute(&pool)
        .await
        .expect("at v1");
    sqlx::query(
        "INSERT INTO sites (id, name, controller_url, created_at, updated_at) \
         VALUES ('old', 'Old site', NULL, 1, 1)",
    )
    .execute(&pool)
    .await
    .expect("a site");
    pool.close().await;

    let db = hub::db::Db::open(&url, &hub::SystemClock)
        .await
        .expect("upgrade");
    let newest = hub::db::MIGRATIONS.last().expect("migrations").0;
    let version: i64 = sqlx::query("SELECT MAX(version) AS v FROM schema_migrations")
        .fetch_one(db.pool())
        .await
        .expect("version")
        .try_get("v")
        .expect("v");
    assert_eq!(version, newest);
    let name: String = sqlx::query("SELECT name FROM sites WHERE id = 'old'")
        .fetch_one(db.pool())
        .await
        .expect("the site survived")
        .try_get("name")
        .expect("name");
    assert_eq!(name, "Old site");
    db.close().await;
    if backend == Backend::Sqlite {
        let file = PathBuf::from(url.trim_start_matches("sqlite://"));
        let folder = file.parent().expect("folder");
        let backups: Vec<PathBuf> = std::fs::read_dir(folder)
            .expect("folder")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().contains(&format!(".before-v{newest}-")))
            .collect();
        assert_eq!(backups.len(), 1, "one backup in {}", folder.display());
        let old = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", backups[0].display()))
            .await
            .expect("open the backup");
        let version: i64 = sqlx::query("SELECT MAX(version) AS v FROM schema_migrations")
            .fetch_one(&old)
            .await
            .expect("version")
            .try_get("v")
            .expect("v");
        assert_eq!(version, 1, "the backup is the database as it was");
        old.close().await;
    }
}
on_both!(a_first_release_database_upgrades_with_a_backup);
