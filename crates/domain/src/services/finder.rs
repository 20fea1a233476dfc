//! The nearest-station finder: an in-memory R*-tree (`rstar`) of the stations open to workers.
//!
//! Points are kept as unit vectors in 3-D (on the sphere) rather than as (lng, lat) on a plane: the
//! straight-line (chord) distance between two unit vectors grows strictly with the great-circle
//! distance, so the tree's nearest-first order *is* the haversine order — no distortion towards the
//! poles, no seam at ±180°, and results equal a brute-force sort by [`haversine_m`]
//! ([`brute_force_nearest`], the oracle of the tests and the benchmark).

use super::hours::OpeningHours;
use super::stations::{haversine_m, Amenity, AmenitySet, LatLng};
use crate::error::{FieldError, FieldErrors};
use crate::Message;
use chrono::NaiveDateTime;
use rstar::{PointDistance, RTree, RTreeObject, AABB};
use std::sync::Arc;

/// Most results of one query.
pub const MAX_LIMIT: usize = 50;
/// Results when the query names no limit.
pub const DEFAULT_LIMIT: usize = 10;

/// What the finder knows of a station: everything an answer shows, so a query touches no database.
#[derive(Debug, Clone, PartialEq)]
pub struct FinderStation {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub region_code: String,
    pub position: LatLng,
    pub amenities: AmenitySet,
    pub hours: OpeningHours,
    pub contact_phone: Option<String>,
}

/// A finder query, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct FinderQuery {
    pub from: LatLng,
    pub limit: usize,
    /// Every one of these must be offered.
    pub amenities: AmenitySet,
    /// Only stations open at this local (China) time.
    pub open_at: Option<NaiveDateTime>,
}

impl FinderQuery {
    /// Parses the query parameters (`lat`, `lng`, `limit`, `amenity` — each value may list several,
    /// comma-separated — and `open_now`); every error names its parameter. `now_local` is the time
    /// `open_now` refers to.
    pub fn parse(
        lat: Option<&str>,
        lng: Option<&str>,
        limit: Option<&str>,
        amenities: &[&str],
        open_now: Option<&str>,
        now_local: NaiveDateTime,
    ) -> Result<Self, FieldErrors> {
        let mut errs = FieldErrors::default();
        let from = match LatLng::parse_anywhere(lat, lng, "lat", "lng") {
            Ok(p) => Some(p),
            Err(e) => {
                errs.0.extend(e.0);
                None
            }
        };
        let limit = match limit.map(str::trim).filter(|s| !s.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(t) => match t.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errs.push(FieldError::new(
                        "limit",
                        "out_of_range",
                        Message::new("problem.out_of_range.limit_whole_number").arg("max", MAX_LIMIT),
                    ));
                    DEFAULT_LIMIT
                }
            },
        };
        let mut wanted = Vec::new();
        for a in amenities.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|a| !a.is_empty()) {
            wanted.extend(errs.take(Amenity::parse(a, "amenity")));
        }
        let open_at = match open_now.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("false" | "0" | "no") => None,
            Some("true" | "1" | "yes" | "on") => Some(now_local),
            Some(t) => {
                errs.push(FieldError::new(
                    "open_now",
                    "invalid_boolean",
                    Message::new("problem.invalid_boolean").arg("t", t),
                ));
                None
            }
        };
        match from {
            Some(from) if errs.is_empty() => Ok(Self { from, limit, amenities: AmenitySet::of(&wanted), open_at }),
            _ => Err(errs),
        }
    }

    fn admits(&self, s: &FinderStation) -> bool {
        s.amenities.contains_all(self.amenities) && self.open_at.is_none_or(|at| s.hours.is_open(at))
    }
}

/// One answer: a station and how far it is, in metres.
#[derive(Debug, Clone)]
pub struct Nearby {
    pub station: Arc<FinderStation>,
    pub distance_m: f64,
}

/// The unit vector of a position.
fn unit_vector(p: LatLng) -> [f64; 3] {
    let (lat, lng) = (p.lat.to_radians(), p.lng.to_radians());
    [lat.cos() * lng.cos(), lat.cos() * lng.sin(), lat.sin()]
}

#[derive(Debug, Clone)]
struct Node {
    at: [f64; 3],
    station: Arc<FinderStation>,
}

/// Equal by station id, so that a station can be found again to be removed.
impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.station.id == other.station.id
    }
}

impl RTreeObject for Node {
    type Envelope = AABB<[f64; 3]>;

    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.at)
    }
}

impl PointDistance for Node {
    fn distance_2(&self, point: &[f64; 3]) -> f64 {
        self.at.iter().zip(point).map(|(a, b)| (a - b) * (a - b)).sum()
    }
}

/// The stations a finder searches, by position.
#[derive(Debug, Default)]
pub struct StationIndex {
    tree: RTree<Node>,
    /// Where each station is in the tree, to remove or replace it.
    by_id: std::collections::HashMap<i64, Node>,
}

impl StationIndex {
    /// An index of `stations` (bulk-loaded: faster to build and better balanced than one by one).
    pub fn build(stations: impl IntoIterator<Item = FinderStation>) -> Self {
        let nodes: Vec<Node> =
            stations.into_iter().map(|s| Node { at: unit_vector(s.position), station: Arc::new(s) }).collect();
        let by_id = nodes.iter().map(|n| (n.station.id, n.clone())).collect();
        Self { tree: RTree::bulk_load(nodes), by_id }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Adds a station, or replaces the one with its id.
    pub fn upsert(&mut self, s: FinderStation) {
        self.remove(s.id);
        let node = Node { at: unit_vector(s.position), station: Arc::new(s) };
        self.by_id.insert(node.station.id, node.clone());
        self.tree.insert(node);
    }

    /// Removes a station (closed, suspended); unknown ids are ignored.
    pub fn remove(&mut self, id: i64) {
        if let Some(old) = self.by_id.remove(&id) {
            self.tree.remove(&old);
        }
    }

    /// The nearest stations that pass the query's filters, nearest first.
    pub fn nearest(&self, q: &FinderQuery) -> Vec<Nearby> {
        self.tree
            .nearest_neighbor_iter(unit_vector(q.from))
            .filter(|n| q.admits(&n.station))
            .take(q.limit)
            .map(|n| Nearby { distance_m: haversine_m(q.from, n.station.position), station: n.station.clone() })
            .collect()
    }
}

/// The same answer as [`StationIndex::nearest`], by measuring every station: the oracle.
pub fn brute_force_nearest(stations: &[Arc<FinderStation>], q: &FinderQuery) -> Vec<Nearby> {
    let mut all: Vec<Nearby> = stations
        .iter()
        .filter(|s| q.admits(s))
        .map(|s| Nearby { distance_m: haversine_m(q.from, s.position), station: s.clone() })
        .collect();
    let by_distance =
        |a: &Nearby, b: &Nearby| a.distance_m.total_cmp(&b.distance_m).then(a.station.id.cmp(&b.station.id));
    if all.len() > q.limit {
        all.select_nth_unstable_by(q.limit, by_distance);
        all.truncate(q.limit);
    }
    all.sort_by(by_distance);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    fn station(id: i64, lat: f64, lng: f64, amenities: &[Amenity], hours: &str) -> FinderStation {
        FinderStation {
            id,
            name: format!("站{id}"),
            address: String::new(),
            region_code: "110105".into(),
            position: LatLng { lat, lng },
            amenities: AmenitySet::of(amenities),
            hours: OpeningHours::parse(hours).unwrap_or(OpeningHours::AlwaysOpen),
            contact_phone: None,
        }
    }

    fn query(lat: f64, lng: f64, limit: usize) -> FinderQuery {
        FinderQuery { from: LatLng { lat, lng }, limit, amenities: AmenitySet::default(), open_at: None }
    }

    #[test]
    fn nearest_first_with_filters_and_updates() {
        let mut idx = StationIndex::build(vec![
            station(1, 39.90, 116.40, &[Amenity::Toilet], "24h"),
            station(2, 39.91, 116.40, &[Amenity::DrinkingWater], "Mon-Fri 09:00-18:00"),
            station(3, 39.95, 116.40, &[Amenity::Toilet, Amenity::DrinkingWater], "24h"),
        ]);
        let ids = |v: Vec<Nearby>| v.into_iter().map(|n| n.station.id).collect::<Vec<_>>();
        assert_eq!(ids(idx.nearest(&query(39.915, 116.40, 10))), vec![2, 1, 3]);
        let water = FinderQuery { amenities: AmenitySet::of(&[Amenity::DrinkingWater]), ..query(39.90, 116.40, 10) };
        assert_eq!(ids(idx.nearest(&water)), vec![2, 3]);
        // 2026-11-29 is a Sunday: station 2 is closed.
        let sunday = FinderQuery { open_at: Some(at("2026-11-29 12:00")), ..water.clone() };
        assert_eq!(ids(idx.nearest(&sunday)), vec![3]);
        idx.remove(3);
        idx.upsert(station(2, 39.80, 116.40, &[Amenity::DrinkingWater], "24h"));
        assert_eq!(ids(idx.nearest(&query(39.915, 116.40, 10))), vec![1, 2]);
        assert_eq!(idx.len(), 2);
        let d = idx.nearest(&query(39.90, 116.40, 1));
        assert!(d[0].distance_m < 1e-6);
    }

    #[test]
    fn the_tree_agrees_with_the_oracle_across_the_seam_and_near_the_pole() {
        let stations: Vec<FinderStation> = vec![
            station(1, 0.0, 179.9, &[], "24h"),
            station(2, 0.0, -179.9, &[], "24h"),
            station(3, 0.0, 178.0, &[], "24h"),
            station(4, 85.0, 0.0, &[], "24h"),
            station(5, 85.0, 180.0, &[], "24h"),
        ];
        let idx = StationIndex::build(stations.clone());
        let all: Vec<Arc<FinderStation>> = stations.into_iter().map(Arc::new).collect();
        for q in [query(0.0, -179.99, 3), query(89.0, 90.0, 2), query(0.0, 179.0, 5)] {
            let a: Vec<i64> = idx.nearest(&q).iter().map(|n| n.station.id).collect();
            let b: Vec<i64> = brute_force_nearest(&all, &q).iter().map(|n| n.station.id).collect();
            assert_eq!(a, b, "{q:?}");
        }
        assert_eq!(idx.nearest(&query(0.0, -179.99, 1))[0].station.id, 2);
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let now = at("2026-11-27 12:00");
        let ok = FinderQuery::parse(Some("39.9"), Some("116.4"), None, &["toilet,饮水"], Some("true"), now);
        let ok = ok.ok();
        assert_eq!(ok.as_ref().map(|q| q.limit), Some(DEFAULT_LIMIT));
        assert_eq!(ok.as_ref().map(|q| q.amenities), Some(AmenitySet::of(&[Amenity::Toilet, Amenity::DrinkingWater])));
        assert_eq!(ok.and_then(|q| q.open_at), Some(now));
        let fields = |r: Result<FinderQuery, FieldErrors>| -> Vec<String> {
            r.err().map(|e| e.0.into_iter().map(|e| e.field).collect()).unwrap_or_default()
        };
        assert_eq!(
            fields(FinderQuery::parse(None, Some("x"), Some("0"), &["wifi"], Some("maybe"), now)),
            vec!["lat", "lng", "limit", "amenity", "open_now"]
        );
        assert_eq!(
            fields(FinderQuery::parse(Some("91"), Some("116"), Some("51"), &[], None, now)),
            vec!["lat", "limit"]
        );
    }
}
