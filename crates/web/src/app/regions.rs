//! Administrative regions (reference data): read by every signed-in role (`region.read`), added,
//! renamed and deleted by the system administrator (`region.create`, `region.update`,
//! `region.delete`, about `region` `<code>`). The API and the region pages share these commands.

use super::permission::{self, Object};
use super::write::Change;
use super::{AppResult, Ctx};
use dangjian_domain::access::Action;
use dangjian_store::regions::{Region, RegionFilter};
use dangjian_store::{AccessFilter, Page, Paging};

fn region(code: &str) -> Option<Object> {
    Some(Object::new("region", code))
}

/// May the actor read the regions? (A refusal is audited as `region.read`.) Answers the filter of the
/// registry records they may read, for the units a region page shows.
pub async fn begin_read(cx: &Ctx) -> AppResult<Reading> {
    permission::require(&cx.state, &cx.actor, Action::ReadReference, "region.read").await?;
    Ok(Reading { cx: cx.clone() })
}

/// Permitted reading of the region tree.
#[must_use]
pub struct Reading {
    cx: Ctx,
}

impl Reading {
    /// Regions matching `filter`.
    pub async fn list(&self, filter: &RegionFilter, paging: Paging) -> AppResult<Page<Region>> {
        Ok(self.cx.state.store.list_regions(filter, paging).await?)
    }

    /// One region.
    pub async fn one(&self, code: &str) -> AppResult<Region> {
        Ok(self.cx.state.store.region(code).await?)
    }

    /// The region and its ancestors, from the province down.
    pub async fn lineage(&self, code: &str) -> AppResult<Vec<Region>> {
        Ok(self.cx.state.store.region_lineage(code).await?)
    }

    /// The registry records the reader may read (the units a region page lists).
    pub fn registry_access(&self) -> AccessFilter {
        permission::filter(&self.cx.actor, Action::Read)
    }
}

/// A new region the actor may add, waiting for its fields.
#[must_use]
pub struct Creating(Change);

/// May the actor add a region? (A refusal is audited as `region.create`.)
pub async fn begin_create(cx: &Ctx) -> AppResult<Creating> {
    Ok(Creating(Change::begin(cx, Action::ManageReference, "region.create").await?))
}

impl Creating {
    /// Adds region `code` named `name` under `parent_code` (none: a provincial-level unit).
    pub async fn save(self, code: &str, name: &str, parent_code: Option<&str>) -> AppResult<Region> {
        let result = self.0.cx.state.store.create_region(code, name, parent_code).await;
        self.0.finish(|_| region(code), result).await
    }
}

/// A renaming the actor may make, waiting for the new name.
#[must_use]
pub struct Renaming {
    change: Change,
    code: String,
}

/// May the actor rename region `code`? (A refusal is audited as `region.update`.)
pub async fn begin_rename(cx: &Ctx, code: &str) -> AppResult<Renaming> {
    let change = Change::begin(cx, Action::ManageReference, "region.update").await?;
    Ok(Renaming { change, code: code.to_owned() })
}

impl Renaming {
    /// Renames the region; `version` must be the one last read.
    pub async fn save(self, name: &str, version: i64) -> AppResult<Region> {
        let result = self.change.cx.state.store.rename_region(&self.code, name, version).await;
        self.change.finish(|_| region(&self.code), result).await
    }
}

/// Deletes region `code`, which nothing may refer to (a refusal and the outcome audited as
/// `region.delete`).
pub async fn delete(cx: &Ctx, code: &str) -> AppResult<()> {
    let change = Change::begin(cx, Action::ManageReference, "region.delete").await?;
    let result = cx.state.store.delete_region(code).await;
    change.finish(|_| region(code), result).await
}
