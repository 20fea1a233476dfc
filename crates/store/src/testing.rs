//! Fresh databases for tests: every test gets its own SQLite file and, when `DANGJIAN_TEST_PG` holds
//! a PostgreSQL URL, its own PostgreSQL database. Both are copied from a migrated template so that a
//! test does not pay for loading the 44,000 reference regions. Every test store carries the test
//! process's generated keyring ([`keyring`]) for personal data at rest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{DbKind, Store};
use dangjian_security::field_cipher::Keyring;
use rand::Rng;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use tokio::sync::OnceCell;

/// The environment variable naming the PostgreSQL server for tests (any database on it).
pub const PG_ENV: &str = "DANGJIAN_TEST_PG";

/// A database made for one test.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub kind: DbKind,
    _dir: Option<tempfile::TempDir>,
}

static SQLITE_TEMPLATE: OnceCell<PathBuf> = OnceCell::const_new();
static KEYS: LazyLock<Arc<Keyring>> = LazyLock::new(|| Arc::new(Keyring::generate()));

/// The keyring every test store of this process carries: generated once per process. A test that runs the
/// `dangjian` binary against a test database passes it on as `DANGJIAN_FIELD_KEYS` ([`keyring_env_value`]).
pub fn keyring() -> Arc<Keyring> {
    KEYS.clone()
}

/// [`keyring`] in the form of the `DANGJIAN_FIELD_KEYS` environment variable.
pub fn keyring_env_value() -> String {
    KEYS.to_text().to_string()
}
static PG_TEMPLATE: OnceCell<String> = OnceCell::const_new();

fn random_suffix() -> String {
    let n: u64 = rand::rng().random();
    format!("{}_{n:016x}", std::process::id())
}

/// Names a template after everything that shapes it, so a changed migration or reference data set
/// gets a new template and an unchanged one is reused across test processes and runs.
fn template_tag() -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    crate::db::migration_fingerprint().hash(&mut h);
    crate::regions::reference_fingerprint().hash(&mut h);
    format!("{:016x}", h.finish())
}

async fn sqlite_template() -> PathBuf {
    SQLITE_TEMPLATE
        .get_or_init(|| async {
            let dir = std::env::temp_dir().join("dangjian-test-templates");
            std::fs::create_dir_all(&dir).unwrap();
            let final_path = dir.join(format!("template-{}.db", template_tag()));
            if final_path.exists() {
                return final_path;
            }
            let tmp = dir.join(format!("build-{}.db", random_suffix()));
            let store = Store::connect(&format!("sqlite://{}", tmp.display())).await.unwrap();
            store.migrate().await.unwrap();
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.pool()).await.unwrap();
            store.close().await;
            let _ = std::fs::remove_file(tmp.with_extension("db-wal"));
            let _ = std::fs::remove_file(tmp.with_extension("db-shm"));
            // Atomic: a concurrent process sees either no template or a whole one.
            std::fs::rename(&tmp, &final_path).unwrap();
            final_path
        })
        .await
        .clone()
}

/// A fresh SQLite database in its own temporary folder.
pub async fn sqlite() -> TestDb {
    let template = sqlite_template().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    std::fs::copy(&template, &path).unwrap();
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.unwrap().with_keys(keyring());
    store.migrate().await.unwrap();
    TestDb { store, url, kind: DbKind::Sqlite, _dir: Some(dir) }
}

fn with_database(server_url: &str, db: &str) -> String {
    let mut u = url::Url::parse(server_url).unwrap();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

async fn pg_template(server_url: &str) -> String {
    PG_TEMPLATE
        .get_or_init(|| async {
            let final_name = format!("dangjian_tpl_{}", template_tag());
            let admin = Store::connect(server_url).await.unwrap();
            let exists = sqlx::query("SELECT 1 AS x FROM pg_database WHERE datname = $1")
                .bind(final_name.clone())
                .fetch_optional(admin.pool())
                .await
                .unwrap()
                .is_some();
            if !exists {
                let build = format!("dangjian_tplbuild_{}", random_suffix());
                sqlx::query(&format!("CREATE DATABASE {build}")).execute(admin.pool()).await.unwrap();
                let store = Store::connect(&with_database(server_url, &build)).await.unwrap();
                store.migrate().await.unwrap();
                store.close().await;
                // Renaming is atomic; if another process won the race, use its template.
                let renamed =
                    sqlx::query(&format!("ALTER DATABASE {build} RENAME TO {final_name}")).execute(admin.pool()).await;
                if renamed.is_err() {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {build}")).execute(admin.pool()).await;
                }
            }
            admin.close().await;
            final_name
        })
        .await
        .clone()
}

/// A fresh PostgreSQL database, or `None` when `DANGJIAN_TEST_PG` is not set.
pub async fn postgres() -> Option<TestDb> {
    let server = std::env::var(PG_ENV).ok().filter(|s| !s.is_empty())?;
    let template = pg_template(&server).await;
    let name = format!("dangjian_t_{}", random_suffix());
    let admin = Store::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}")).execute(admin.pool()).await.unwrap();
    admin.close().await;
    let url = with_database(&server, &name);
    let store = Store::connect(&url).await.unwrap().with_keys(keyring());
    store.migrate().await.unwrap();
    Some(TestDb { store, url, kind: DbKind::Postgres, _dir: None })
}

/// One fresh database per available backend: SQLite always, PostgreSQL when configured.
pub async fn all_backends() -> Vec<TestDb> {
    let mut out = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        out.push(pg);
    }
    out
}

impl TestDb {
    /// Drops a PostgreSQL test database (SQLite files go with their folder).
    pub async fn cleanup(self) {
        self.store.close().await;
        if self.kind == DbKind::Postgres {
            if let Ok(server) = std::env::var(PG_ENV) {
                let name = url::Url::parse(&self.url).unwrap().path().trim_start_matches('/').to_owned();
                if let Ok(admin) = Store::connect(&server).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(admin.pool())
                        .await;
                    admin.close().await;
                }
            }
        }
    }
}
