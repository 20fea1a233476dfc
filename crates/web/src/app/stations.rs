//! Worker stations: the commands the station API, the station pages and the command line share.
//!
//! A write is two steps, so that permission comes before the body: `begin_*` decides the permission
//! (and audits a refusal) and answers a pending command; its `run` parses the input, stores (the store
//! checks the operator reference against what the actor may read), updates the station finder and
//! audits the outcome (`station.create`, `station.update`, `station.close`). Nothing else writes a
//! station, so the API and the form cannot differ.

use super::permission::{self, Target};
use super::{AppResult, Ctx};
use dangjian_domain::access::Action;
use dangjian_domain::services::finder::{FinderQuery, Nearby};
use dangjian_domain::services::stations::StationInput;
use dangjian_store::stations::{Station, StationFilter};
use dangjian_store::{AccessFilter, Page, Paging, StoreError};

/// The nearest active stations to a position — public, no sign-in, not audited (the position is
/// used for this answer only).
pub async fn nearest(cx: &Ctx, q: &FinderQuery) -> AppResult<Vec<Nearby>> {
    Ok(cx.state.stations.nearest(q).await?)
}

/// A list of stations the actor may ask for, waiting for its filter (a refusal is audited as
/// `station.list`): permission comes before the parameters.
pub async fn begin_list(cx: &Ctx) -> AppResult<Listing> {
    let access = permission::require(&cx.state, &cx.actor, Action::Read, "station.list").await?;
    Ok(Listing { cx: cx.clone(), access })
}

/// A permitted list of stations.
#[must_use]
pub struct Listing {
    cx: Ctx,
    access: AccessFilter,
}

impl Listing {
    /// Stations matching `filter`, of those in the actor's scopes.
    pub async fn run(self, filter: &StationFilter, paging: Paging) -> AppResult<Page<Station>> {
        Ok(self.cx.state.store.list_stations(filter, paging, &self.access).await?)
    }
}

/// One station (a refusal audited as `station.read`).
pub async fn read(cx: &Ctx, id: i64) -> AppResult<Station> {
    permission::authorize(&cx.state, &cx.actor, Action::Read, Target::Station(id), "station.read").await?;
    Ok(cx.state.store.station(id).await?)
}

/// A station write the actor may make, waiting for its input.
#[must_use]
pub struct Pending {
    cx: Ctx,
    access: AccessFilter,
    kind: Kind,
}

enum Kind {
    Create,
    Update(Box<Station>),
    Close(i64),
}

impl Pending {
    /// The station an update or a close is about, as stored now.
    pub fn current(&self) -> Option<&Station> {
        match &self.kind {
            Kind::Update(st) => Some(st.as_ref()),
            _ => None,
        }
    }

    fn audit_action(&self) -> &'static str {
        match self.kind {
            Kind::Create => "station.create",
            Kind::Update(_) => "station.update",
            Kind::Close(_) => "station.close",
        }
    }

    /// Creates or updates the station from `input` (`version`: the one the writer last read; ignored
    /// for a new station).
    pub async fn save(self, input: &StationInput, version: i64) -> AppResult<Station> {
        let store = &self.cx.state.store;
        let own_id = match &self.kind {
            Kind::Update(current) => Some(current.id),
            Kind::Create | Kind::Close(_) => None,
        };
        let result = match store.parse_station_input(input, own_id, &self.access).await {
            Err(e) => Err(e),
            Ok(draft) => match &self.kind {
                Kind::Create => store.create_station(&draft, &self.access).await,
                Kind::Update(current) => store.update_station(current.id, &draft, version, &self.access).await,
                Kind::Close(_) => Err(StoreError::NotFound),
            },
        };
        self.finish(result).await
    }

    /// Closes the station: it stays on record, and the finder no longer shows it.
    pub async fn close(self, version: i64) -> AppResult<Station> {
        let result = match &self.kind {
            Kind::Close(id) => self.cx.state.store.close_station(*id, version, &self.access).await,
            Kind::Update(st) => self.cx.state.store.close_station(st.id, version, &self.access).await,
            Kind::Create => Err(StoreError::NotFound),
        };
        self.finish(result).await
    }

    /// Applies a finished write to the finder and audits it.
    async fn finish(self, result: Result<Station, StoreError>) -> AppResult<Station> {
        if let Ok(st) = &result {
            self.cx.state.stations.after_write(st.id).await;
        }
        let id = match &self.kind {
            Kind::Create => result.as_ref().ok().map(|st| st.id),
            Kind::Update(st) => Some(st.id),
            Kind::Close(id) => Some(*id),
        };
        permission::audit_write(&self.cx.state, &self.cx.actor, self.audit_action(), id.map(Target::Station), &result)
            .await;
        Ok(result?)
    }
}

/// May the actor register a station? (A refusal is audited as `station.create`.)
pub async fn begin_create(cx: &Ctx) -> AppResult<Pending> {
    let access = permission::require(&cx.state, &cx.actor, Action::Write, "station.create").await?;
    Ok(Pending { cx: cx.clone(), access, kind: Kind::Create })
}

/// May the actor change station `id`? (A refusal is audited as `station.update`.)
pub async fn begin_update(cx: &Ctx, id: i64) -> AppResult<Pending> {
    let access =
        permission::authorize(&cx.state, &cx.actor, Action::Write, Target::Station(id), "station.update").await?;
    let current = cx.state.store.station(id).await?;
    Ok(Pending { cx: cx.clone(), access, kind: Kind::Update(Box::new(current)) })
}

/// May the actor close station `id`? (A refusal is audited as `station.close`.)
pub async fn begin_close(cx: &Ctx, id: i64) -> AppResult<Pending> {
    let access =
        permission::authorize(&cx.state, &cx.actor, Action::Write, Target::Station(id), "station.close").await?;
    Ok(Pending { cx: cx.clone(), access, kind: Kind::Close(id) })
}

/// Registers a station from `input`: [`begin_create`], then save.
pub async fn create(cx: &Ctx, input: &StationInput) -> AppResult<Station> {
    begin_create(cx).await?.save(input, 0).await
}

/// Replaces station `id`'s fields; `version` must be the one last read.
pub async fn update(cx: &Ctx, id: i64, input: &StationInput, version: i64) -> AppResult<Station> {
    begin_update(cx, id).await?.save(input, version).await
}

/// Closes station `id` at `version`.
pub async fn close(cx: &Ctx, id: i64, version: i64) -> AppResult<Station> {
    begin_close(cx, id).await?.close(version).await
}
