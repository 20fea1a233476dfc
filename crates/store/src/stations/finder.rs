//! [`Finder`]: the nearest-station index of one process, kept current. Before each query it reads the
//! station counter (one primary-key row, bumped by a trigger on every change in any process); when it
//! differs from the counter the index was built at, the index is rebuilt from the database. A write made
//! through this process is applied to the index at once ([`Finder::after_write`]), so that the usual
//! single edit costs no rebuild.
//!
//! The finder is handed the query's position and nothing else; it neither logs nor stores it.

use crate::error::StoreResult;
use crate::Store;
use dangjian_domain::services::finder::{FinderQuery, Nearby, StationIndex};
use std::sync::Arc;
use tokio::sync::RwLock;

#[derive(Default)]
struct State {
    index: StationIndex,
    /// The station counter the index reflects; `None` until first built.
    generation: Option<i64>,
}

/// The finder of one process; cheap to clone (one shared index).
#[derive(Clone)]
pub struct Finder {
    store: Store,
    state: Arc<RwLock<State>>,
}

impl Finder {
    pub fn new(store: Store) -> Self {
        Self { store, state: Default::default() }
    }

    /// The nearest active stations passing the query's filters, nearest first.
    pub async fn nearest(&self, q: &FinderQuery) -> StoreResult<Vec<Nearby>> {
        self.catch_up().await?;
        Ok(self.state.read().await.index.nearest(q))
    }

    /// How many stations the index holds (after catching up).
    pub async fn len(&self) -> StoreResult<usize> {
        self.catch_up().await?;
        Ok(self.state.read().await.index.len())
    }

    /// Rebuilds the index if any process changed a station since it was built.
    pub async fn catch_up(&self) -> StoreResult<()> {
        let current = self.store.station_generation().await?;
        if self.state.read().await.generation == Some(current) {
            return Ok(());
        }
        let mut state = self.state.write().await;
        if state.generation == Some(current) {
            return Ok(());
        }
        // The counter is read before the stations: a change in between makes the index newer than its
        // counter, which only costs one more rebuild, never a missed change.
        let started = std::time::Instant::now();
        let stations = self.store.finder_stations().await?;
        state.index = StationIndex::build(stations);
        state.generation = Some(current);
        tracing::debug!(stations = state.index.len(), elapsed = ?started.elapsed(), "station index rebuilt");
        Ok(())
    }

    /// Applies this process's own write of station `id` (one change: one step of the counter) to the
    /// index. If anyone else wrote meanwhile, the counters disagree and the next query rebuilds.
    pub async fn after_write(&self, id: i64) {
        let station = self.store.station(id).await;
        let mut state = self.state.write().await;
        let Some(generation) = state.generation else { return };
        match station {
            Ok(s) => {
                match s.for_finder().filter(|_| s.status == dangjian_domain::services::stations::StationStatus::Active)
                {
                    Some(f) => state.index.upsert(f),
                    None => state.index.remove(id),
                }
                state.generation = Some(generation + 1);
            }
            Err(e) => {
                tracing::warn!(error = %e, station = id, "station index will be rebuilt");
                state.generation = None;
            }
        }
    }
}
