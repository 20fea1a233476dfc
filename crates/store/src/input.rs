//! Checking a registry input that did not parse against the database, so that a form or an API write
//! reports every problem at once: the fields that parsed are checked as a parsed input's would be
//! (unknown region, parent or unit, one the writer may not refer to, a code another record holds), and
//! their problems are added to the parse's, one per field.

use crate::access::AccessFilter;
use crate::db::WriteTx;
use crate::entities::Resolver;
use crate::error::{StoreError, StoreResult};
use crate::Store;
use dangjian_domain::FieldErrors;
use std::future::Future;

/// A kind of registry input (units, organizations, instructors, stations).
pub(crate) trait RegistryInput {
    type Input: Sync;
    type Draft;
    /// What an input that did not parse still names, as far as it parsed.
    type References: Send + Sync;

    /// The domain's parse: the draft, or every problem with the references that did parse.
    fn parse(input: &Self::Input) -> Result<Self::Draft, (FieldErrors, Box<Self::References>)>;

    /// Adds to `found` the database's problems with `refs` — the reference checks a write makes, and
    /// the unique codes another record than `self_id` holds — read in `tx`.
    fn check(
        store: &Store,
        r: &mut Resolver,
        tx: &mut WriteTx,
        refs: &Self::References,
        self_id: Option<i64>,
        found: &mut FieldErrors,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

impl Store {
    /// Parses `input` of kind `K` (for the record `self_id` when it is an update); when it does not
    /// parse, adds the database's problems with what did (see the module doc). Reads only, in a
    /// transaction that holds no write lock.
    pub(crate) async fn parse_input<K: RegistryInput>(
        &self,
        input: &K::Input,
        self_id: Option<i64>,
        access: &AccessFilter,
    ) -> StoreResult<K::Draft> {
        let (mut errs, refs) = match K::parse(input) {
            Ok(draft) => return Ok(draft),
            Err(failed) => failed,
        };
        let mut r = Resolver::new(self, access).await?;
        let mut tx = self.read_tx().await?;
        let mut found = FieldErrors::default();
        K::check(self, &mut r, &mut tx, &refs, self_id, &mut found).await?;
        tx.rollback().await?;
        errs.merge_new_fields(found);
        Err(StoreError::Invalid(errs))
    }
}
