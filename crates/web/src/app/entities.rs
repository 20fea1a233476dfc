//! Registry units (platforms, franchisees, sites): the commands the unit API and the unit form share —
//! `entity.create`, `entity.update`, `entity.close` (see [`super::write`]); the store checks the parent
//! reference against what the writer may read.

use super::permission::Target;
use super::write::{authorize_read, Record};
use super::{AppResult, Ctx};
use chrono::NaiveDate;
use dangjian_domain::entity::EntityInput;
use dangjian_store::entities::Entity;
use dangjian_store::StoreError;

impl Record for Entity {
    const NAME: &'static str = "entity";
    fn target(id: i64) -> Target {
        Target::Entity(id)
    }
    fn id(&self) -> i64 {
        self.id
    }
}

/// A unit write the actor may make, waiting for its input.
pub type Pending = super::write::Pending<Entity>;

impl Pending {
    /// Creates the unit from `input`, or replaces the fields of the one this update is about
    /// (`version`: the one the writer last read).
    pub async fn save(self, input: &EntityInput, version: i64) -> AppResult<Entity> {
        let store = &self.cx.state.store;
        let result = match (store.parse_entity_input(input, self.id, &self.access).await, self.id) {
            (Err(e), _) => Err(e),
            (Ok(draft), None) => store.create_entity(&draft, &self.access).await,
            (Ok(draft), Some(id)) => store.update_entity(id, &draft, version, &self.access).await,
        };
        self.finish(result, Entity::id).await
    }

    /// Closes the unit (注销) on `on`; the record stays for history.
    pub async fn close(self, on: NaiveDate, version: i64) -> AppResult<Entity> {
        let result = match self.id {
            Some(id) => self.cx.state.store.close_entity(id, on, version, &self.access).await,
            None => Err(StoreError::NotFound),
        };
        self.finish(result, Entity::id).await
    }
}

/// May the actor register a unit?
pub async fn begin_create(cx: &Ctx) -> AppResult<Pending> {
    Pending::begin_create(cx).await
}

/// May the actor change unit `id`?
pub async fn begin_update(cx: &Ctx, id: i64) -> AppResult<Pending> {
    Pending::begin(cx, id, "update").await
}

/// May the actor close unit `id`?
pub async fn begin_close(cx: &Ctx, id: i64) -> AppResult<Pending> {
    Pending::begin(cx, id, "close").await
}

/// One unit (a refusal audited as `entity.read`).
pub async fn read(cx: &Ctx, id: i64) -> AppResult<Entity> {
    authorize_read::<Entity>(cx, id).await?;
    Ok(cx.state.store.entity(id).await?)
}
