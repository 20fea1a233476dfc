//! Worker services and rights (DOMAIN.md, "Worker services and rights"): worker stations with their
//! amenities and opening hours, and needs/rights cases with their categories, routing, working-day
//! deadlines and life cycle. Pure types and rules; the store and the web layer build on them.

pub mod case_index;
pub mod case_settings;
pub mod case_stats;
pub mod cases;
pub mod finder;
pub mod hours;
pub mod routing;
pub mod stations;
pub mod workdays;
