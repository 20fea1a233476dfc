//! Query parameters and views that the JSON API and the pages share — HTTP-level, so their errors are
//! the API's (which a page shows as its message). Commands live in [`crate::app`]; neither the API nor
//! the pages import the other.

pub mod case_stats;
pub mod coverage;
pub mod members;
pub mod stations;
