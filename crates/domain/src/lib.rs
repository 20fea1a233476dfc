//! Pure types and rules of Dangjian. No I/O, no async: everything here is a plain value or a plain
//! function over plain values, so every rule can be unit-tested beside its definition.
//!
//! Input becomes a domain type at the edge (parse, don't validate): a [`Uscc`], [`RegionCode`] or
//! [`Mobile`] can only be built by parsing, so code past the edge never re-checks.

pub mod access;
pub mod codes;
pub mod coverage;
pub mod dates;
pub mod entity;
pub mod error;
pub mod firsts;
pub mod instructor;
pub mod members;
pub mod org;
pub mod region;
pub mod search;
pub mod sector;
pub mod services;
pub mod text;

pub use codes::{IdNumber, Mobile, OrgCode, SiteCode, Uscc};
pub use dangjian_i18n::Message;
pub use dates::parse_flexible_date;
pub use entity::{EntityDraft, EntityKind};
pub use error::{FieldError, FieldErrors};
pub use firsts::{Firsts, MAX_REPORTED_ERRORS};
pub use instructor::{AssignmentDraft, InstructorDraft};
pub use org::{OrgKind, OrganizationDraft};
pub use region::{RegionCode, RegionLevel, XPCC_CODE};
pub use search::SearchTerm;
pub use sector::{SectorCode, SectorStage, BUILTIN_SECTORS};
