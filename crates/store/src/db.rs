use crate::error::{StoreError, StoreResult};
use dangjian_security::field_cipher::Keyring;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The one connection type of the system: a pool on SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    kind: DbKind,
    /// Serializes this process's write transactions. SQLite allows one writer at a time, and a
    /// deferred transaction that read before another committed cannot upgrade to a writer; taking
    /// this lock first avoids that. On PostgreSQL it is held only for the registry's multi-row checks.
    write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Keys for personal data at rest (see [`crate::personal`]); never stored in the database.
    keys: Option<std::sync::Arc<Keyring>>,
    /// The region codes with their paths, for subtree filters as code ranges ([`crate::region_tree`]).
    pub(crate) region_tree: crate::region_tree::TreeCache,
    /// The case statistics' in-memory index, shared by the store's clones, built on first use.
    pub(crate) case_index: crate::cases::stats_index::CaseIndexCell,
}

impl Store {
    /// Connects to `sqlite://PATH` (the file is created if missing) or `postgres://...`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let pool = match kind {
            DbKind::Sqlite => {
                let url = if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") };
                // Validate the URL with the SQLite driver's own parser before handing it to Any.
                sqlx::sqlite::SqliteConnectOptions::from_str(&url)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?;
                sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
                pool
            }
            DbKind::Postgres => {
                AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?
            }
        };
        Ok(Self {
            pool,
            kind,
            write_lock: Default::default(),
            keys: None,
            region_tree: Default::default(),
            case_index: Default::default(),
        })
    }

    /// This store with the keyring for personal data at rest: instructors' mobile numbers are encrypted
    /// with it on write and decrypted on read. A store without keys refuses to touch those fields
    /// ([`StoreError::NoKeys`]) rather than ever writing them in plain text.
    pub fn with_keys(mut self, keys: std::sync::Arc<Keyring>) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The keyring for personal data, when one is set.
    pub fn keys(&self) -> Option<&std::sync::Arc<Keyring>> {
        self.keys.as_ref()
    }

    pub(crate) fn keyring(&self) -> StoreResult<&Keyring> {
        self.keys.as_deref().ok_or(StoreError::NoKeys)
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies pending migrations, then loads the reference data (regions, sectors) if missing, and —
    /// when the store has keys — encrypts personal data still held in plain text
    /// ([`Store::protect_legacy_plaintext`]).
    pub async fn migrate(&self) -> StoreResult<()> {
        match self.kind {
            DbKind::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            DbKind::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        crate::regions::load_reference_regions(self).await?;
        crate::sectors::load_builtin_sectors(self).await?;
        if let Some(keys) = self.keys.clone() {
            self.protect_legacy_plaintext(&keys).await?;
        }
        Ok(())
    }

    /// The newest applied migration, or `None` on an empty database.
    pub async fn schema_version(&self) -> StoreResult<Option<i64>> {
        let row: AnyRow =
            sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations WHERE success").fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<i64>, _>("v")?)
    }

    /// The number of migrations this build knows; a database at a lower version needs `migrate`.
    pub fn latest_known_version(&self) -> i64 {
        let m = match self.kind {
            DbKind::Sqlite => &SQLITE_MIGRATIONS,
            DbKind::Postgres => &POSTGRES_MIGRATIONS,
        };
        m.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Begins a write transaction under the process-wide write lock.
    /// On SQLite the transaction starts `IMMEDIATE`, holding the database's write lock from its first
    /// read: a deferred one that read and then wanted to write would fail at once (`SQLITE_BUSY`) if a
    /// write outside this lock (a session touched, a token's last use) committed in between.
    pub(crate) async fn write_tx(&self) -> StoreResult<WriteTx> {
        let regions = self.region_tree().await?;
        let guard = self.write_lock.clone().lock_owned().await;
        let tx = match self.kind {
            DbKind::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            DbKind::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, regions, _guard: Some(guard) })
    }

    /// Begins a transaction that only reads (the checks of an input that did not parse), with the same
    /// helpers as a write's but neither the process's write lock nor, on SQLite, the database's: a form's
    /// errors do not wait behind an import.
    pub(crate) async fn read_tx(&self) -> StoreResult<WriteTx> {
        let regions = self.region_tree().await?;
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, regions, _guard: None })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction holding the process's write lock until it is committed or dropped (or, begun by
/// [`Store::read_tx`], one that only reads and holds no lock).
pub(crate) struct WriteTx {
    pub tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The region tree as the transaction began, for scope checks inside it.
    pub regions: std::sync::Arc<crate::region_tree::RegionTree>,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Whether a record other than `self_id` holds `value` in `table.column` (a code or number that must
    /// be unique), read with this transaction's view.
    pub async fn held_by_another(
        &mut self,
        table: &str,
        column: &str,
        value: String,
        self_id: Option<i64>,
    ) -> StoreResult<bool> {
        let rows = sqlx::query(&format!("SELECT id FROM {table} WHERE {column} = $1"))
            .bind(value)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(rows.iter().any(|row| sqlx::Row::try_get::<i64, _>(row, "id").ok() != self_id))
    }

    /// Ends a transaction that only read (checks made with a write's view), writing nothing.
    pub async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

/// A digest of every migration of both backends (for naming test templates).
#[cfg(feature = "testing")]
pub(crate) fn migration_fingerprint() -> Vec<u8> {
    SQLITE_MIGRATIONS.iter().chain(POSTGRES_MIGRATIONS.iter()).flat_map(|m| m.checksum.iter().copied()).collect()
}
