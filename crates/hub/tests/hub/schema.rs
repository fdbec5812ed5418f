//! Migrations: an empty database migrated to the newest version has exactly the frozen schema
//! (per backend); migrating again changes nothing; a database newer than the hub is refused.
//! After a deliberate schema change, `WATCHFLOOR_BLESS=1` rewrites the frozen copies.

use crate::on_both;
use crate::support::{Backend, database};
use std::path::PathBuf;

async fn migrations_reach_the_frozen_schema(backend: Backend) {
    let url = database(backend);
    let db = hub::db::Db::open(&url)
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

    let again = hub::db::Db::open(&url).await.expect("reopen");
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
    let refused = hub::db::Db::open(&url)
        .await
        .expect_err("a newer schema is refused");
    assert!(
        refused.to_string().contains("newer than this hub"),
        "{refused}"
    );
}
on_both!(migrations_reach_the_frozen_schema);
