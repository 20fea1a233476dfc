//! The application layer, between the HTTP surfaces (the JSON API, the pages, Open311) and the store:
//! one command per write and per audited read. A command authorizes ([`permission`], the one
//! permission path), parses its input into domain types, stores (the store checks every reference
//! against what the actor may read, inside its write transaction), applies the side effects (the
//! station finder, notifications) and audits — success and refusal alike. The API, the pages, Open311,
//! the command line and the background jobs call the same commands, so a rule changes in one place.
//!
//! Commands answer [`AppError`], which carries no text in any language: the API maps it to its JSON
//! error (`ApiError::from_app`), the pages to their error page (`PageCtx::app_err`), each in the
//! request's language.

pub mod accounts;
pub mod admin;
pub mod audit_log;
pub mod case_settings;
pub mod cases;
pub mod entities;
pub mod grants;
pub mod instructors;
pub mod jobs;
pub mod members;
pub mod open311_clients;
pub mod operator;
pub mod organizations;
pub mod permission;
pub mod personal;
pub mod regions;
pub mod sectors;
pub mod sign_in;
pub mod stations;
pub mod transfer;
pub mod write;

pub use permission::{Object, Target};

use crate::auth::Actor;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use dangjian_domain::FieldErrors;
use dangjian_store::StoreError;

/// Who acts, and on what: the state and the actor of a request (or of the command line or a job).
#[derive(Clone)]
pub struct Ctx {
    pub state: AppState,
    pub actor: Actor,
}

impl Ctx {
    pub fn new(state: &AppState, actor: &Actor) -> Self {
        Self { state: state.clone(), actor: actor.clone() }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let actor = parts.extensions.get::<Actor>().cloned().unwrap_or_default();
        Ok(Self { state: state.clone(), actor })
    }
}

/// Why a command did not go through. No text: the language is applied where it is answered.
#[derive(Debug)]
pub enum AppError {
    /// Nobody is signed in: 401 (pages never get here; the gate sends them to the login page).
    Unauthenticated,
    /// Inside the actor's reach, but no grant there allows the action: 403.
    Forbidden,
    /// Outside everything the actor reaches, or not there at all: 404.
    NotFound,
    /// The input does not parse: every field's problem at once (422).
    Invalid(FieldErrors),
    /// The store refused or failed (a reference the actor may not make, a stale version, a conflict).
    Store(StoreError),
    /// A spreadsheet was refused whole: unreadable, or rows with errors (each located in the file).
    /// Never [`ImportFailure::Store`](crate::transfer::ImportFailure::Store): that is [`AppError::Store`].
    Import(crate::transfer::ImportFailure),
    /// The server failed in a way the caller cannot mend (logged where it happened): 500.
    Internal,
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        Self::Invalid(e)
    }
}

pub type AppResult<T> = Result<T, AppError>;
