//! Party organizations: the commands the organization API and form share — `organization.create`,
//! `organization.update`, `organization.dissolve` (see [`super::write`]); the store checks the higher
//! organization and the covered units against what the writer may read.

use super::permission::Target;
use super::write::{authorize_read, Record};
use super::{AppResult, Ctx};
use chrono::NaiveDate;
use dangjian_domain::org::OrganizationInput;
use dangjian_store::organizations::Organization;
use dangjian_store::StoreError;

impl Record for Organization {
    const NAME: &'static str = "organization";
    fn target(id: i64) -> Target {
        Target::Organization(id)
    }
    fn id(&self) -> i64 {
        self.id
    }
}

/// An organization write the actor may make, waiting for its input.
pub type Pending = super::write::Pending<Organization>;

impl Pending {
    /// Creates the organization from `input`, or replaces the fields of the one this update is about.
    pub async fn save(self, input: &OrganizationInput, version: i64) -> AppResult<Organization> {
        let store = &self.cx.state.store;
        let result = match (store.parse_organization_input(input, self.id, &self.access).await, self.id) {
            (Err(e), _) => Err(e),
            (Ok(draft), None) => store.create_organization(&draft, &self.access).await,
            (Ok(draft), Some(id)) => store.update_organization(id, &draft, version, &self.access).await,
        };
        self.finish(result, Organization::id).await
    }

    /// Dissolves the organization (撤销) on `on`; the record stays for history.
    pub async fn dissolve(self, on: NaiveDate, version: i64) -> AppResult<Organization> {
        let result = match self.id {
            Some(id) => self.cx.state.store.dissolve_organization(id, on, version, &self.access).await,
            None => Err(StoreError::NotFound),
        };
        self.finish(result, Organization::id).await
    }
}

/// May the actor register an organization?
pub async fn begin_create(cx: &Ctx) -> AppResult<Pending> {
    Pending::begin_create(cx).await
}

/// May the actor change organization `id`?
pub async fn begin_update(cx: &Ctx, id: i64) -> AppResult<Pending> {
    Pending::begin(cx, id, "update").await
}

/// May the actor dissolve organization `id`?
pub async fn begin_dissolve(cx: &Ctx, id: i64) -> AppResult<Pending> {
    Pending::begin(cx, id, "dissolve").await
}

/// One organization (a refusal audited as `organization.read`).
pub async fn read(cx: &Ctx, id: i64) -> AppResult<Organization> {
    authorize_read::<Organization>(cx, id).await?;
    Ok(cx.state.store.organization(id).await?)
}
