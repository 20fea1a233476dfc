//! Party-building instructors: the commands the instructor API and form share — `instructor.create`,
//! `instructor.update`, `instructor.delete` (see [`super::write`]); the store checks each assigned unit
//! against what the writer may read.

use super::permission::Target;
use super::write::{authorize_read, Record};
use super::{AppResult, Ctx};
use dangjian_domain::instructor::InstructorInput;
use dangjian_store::instructors::Instructor;
use dangjian_store::StoreError;

impl Record for Instructor {
    const NAME: &'static str = "instructor";
    fn target(id: i64) -> Target {
        Target::Instructor(id)
    }
    fn id(&self) -> i64 {
        self.id
    }
}

/// An instructor write the actor may make, waiting for its input.
pub type Pending = super::write::Pending<Instructor>;

impl Pending {
    /// Creates the instructor from `input`, or replaces the fields and assignments of the one this
    /// update is about.
    pub async fn save(self, input: &InstructorInput, version: i64) -> AppResult<Instructor> {
        let store = &self.cx.state.store;
        let result = match (store.parse_instructor_input(input, self.id, &self.access).await, self.id) {
            (Err(e), _) => Err(e),
            (Ok(draft), None) => store.create_instructor(&draft, &self.access).await,
            (Ok(draft), Some(id)) => store.update_instructor(id, &draft, version, &self.access).await,
        };
        self.finish(result, Instructor::id).await
    }

    /// Removes the instructor and their assignments.
    pub async fn delete(self, version: i64) -> AppResult<()> {
        let result = match self.id {
            Some(id) => self.cx.state.store.delete_instructor(id, version, &self.access).await,
            None => Err(StoreError::NotFound),
        };
        let id = self.id.unwrap_or_default();
        self.finish(result, |_| id).await
    }
}

/// May the actor register an instructor?
pub async fn begin_create(cx: &Ctx) -> AppResult<Pending> {
    Pending::begin_create(cx).await
}

/// May the actor change instructor `id`?
pub async fn begin_update(cx: &Ctx, id: i64) -> AppResult<Pending> {
    Pending::begin(cx, id, "update").await
}

/// May the actor remove instructor `id`?
pub async fn begin_delete(cx: &Ctx, id: i64) -> AppResult<Pending> {
    Pending::begin(cx, id, "delete").await
}

/// One instructor (a refusal audited as `instructor.read`).
pub async fn read(cx: &Ctx, id: i64) -> AppResult<Instructor> {
    authorize_read::<Instructor>(cx, id).await?;
    Ok(cx.state.store.instructor(id).await?)
}
