use dangjian_domain::{FieldError, FieldErrors, Message};

/// Everything a storage operation can report. Validation that needs the database (a region that does
/// not exist, a duplicate code, a parent of the wrong kind) comes back as field errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The record changed since the client read it (optimistic concurrency).
    #[error("the record was changed by someone else (now at version {current})")]
    StaleVersion { current: i64 },
    /// The operation conflicts with other records (e.g. deleting something still referenced).
    #[error("{message}")]
    Conflict { code: &'static str, message: Message },
    /// The write would leave a record outside the writer's scopes (a new unit in another region, a
    /// unit moved to another chain); nothing was written.
    #[error("the record would be outside your scope")]
    OutOfScope,
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// An import with row-level errors: the first of them (each with its 1-based row number in the
    /// file) and the count of all.
    #[error("{} errors in the rows", .0.total)]
    ImportRows(crate::RowErrors),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A background task of the store (e.g. building the coverage index) stopped without an answer.
    #[error("background task failed: {0}")]
    Task(String),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// Personal data was to be read or written, but the store was given no keys ([`crate::Store::with_keys`]).
    #[error("no keys for personal data are configured")]
    NoKeys,
    /// A stored personal-data field could not be decrypted (a key missing from the keyring, or an altered
    /// value), or a value could not be encrypted. Names the record, never the data.
    #[error("personal data of {record} could not be processed: {source}")]
    FieldCipher { record: String, source: dangjian_security::field_cipher::FieldCipherError },
}

impl From<FieldErrors> for StoreError {
    fn from(e: FieldErrors) -> Self {
        StoreError::Invalid(e)
    }
}

impl From<FieldError> for StoreError {
    fn from(e: FieldError) -> Self {
        StoreError::Invalid(FieldErrors(vec![e]))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Whether a database error is a unique-constraint violation (SQLite 2067/1555, PostgreSQL 23505).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("23505") | Some("2067") | Some("1555"))
        }
        _ => false,
    }
}
