//! Sectors (reference data: the seven built in and any the system administrator adds): read by every
//! signed-in role (`sector.read`), changed by the system administrator (`sector.create`,
//! `sector.update`, `sector.delete`, about `sector` `<code>`).

use super::permission::{self, Object};
use super::write::Change;
use super::{AppResult, Ctx};
use dangjian_domain::access::Action;
use dangjian_store::sectors::{Sector, SectorInput};

fn sector(code: &str) -> Option<Object> {
    Some(Object::new("sector", code))
}

async fn require_read(cx: &Ctx) -> AppResult<()> {
    permission::require(&cx.state, &cx.actor, Action::ReadReference, "sector.read").await?;
    Ok(())
}

/// Every sector, in the policy's order (a refusal audited as `sector.read`).
pub async fn list(cx: &Ctx) -> AppResult<Vec<Sector>> {
    require_read(cx).await?;
    Ok(cx.state.store.list_sectors().await?)
}

/// One sector (a refusal audited as `sector.read`).
pub async fn read(cx: &Ctx, code: &str) -> AppResult<Sector> {
    require_read(cx).await?;
    Ok(cx.state.store.sector(code).await?)
}

/// A sector write the actor may make, waiting for its fields.
#[must_use]
pub struct Pending {
    change: Change,
    /// The sector an update is about; `None` for a new one.
    code: Option<String>,
}

/// May the actor add a sector? (A refusal is audited as `sector.create`.)
pub async fn begin_create(cx: &Ctx) -> AppResult<Pending> {
    Ok(Pending { change: Change::begin(cx, Action::ManageReference, "sector.create").await?, code: None })
}

/// May the actor change sector `code`? (A refusal is audited as `sector.update`.)
pub async fn begin_update(cx: &Ctx, code: &str) -> AppResult<Pending> {
    let change = Change::begin(cx, Action::ManageReference, "sector.update").await?;
    Ok(Pending { change, code: Some(code.to_owned()) })
}

impl Pending {
    /// Adds the sector, or changes the one this update is about (`version`: the one last read;
    /// ignored for a new sector).
    pub async fn save(self, input: &SectorInput, version: i64) -> AppResult<Sector> {
        let store = &self.change.cx.state.store;
        let (result, code) = match &self.code {
            None => (store.create_sector(input).await, input.code.clone().unwrap_or_default()),
            Some(code) => (store.update_sector(code, input, version).await, code.clone()),
        };
        self.change.finish(|_| sector(&code), result).await
    }
}

/// Deletes an added sector no unit uses (a refusal and the outcome audited as `sector.delete`).
pub async fn delete(cx: &Ctx, code: &str) -> AppResult<()> {
    let change = Change::begin(cx, Action::ManageReference, "sector.delete").await?;
    let result = cx.state.store.delete_sector(code).await;
    change.finish(|_| sector(code), result).await
}
