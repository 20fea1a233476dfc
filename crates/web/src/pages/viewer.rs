//! Who is looking at a page, as the page header needs it: their name (linking to the account page),
//! the sign-out button, and the links their grants open (the features' from [`crate::features::nav`]).

use crate::auth::csrf::expected_token;
use crate::auth::Actor;
use axum::http::request::Parts;
use dangjian_domain::access::Action;
use serde::Serialize;

/// The signed-in user of a page (absent on the login pages).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Viewer {
    pub name: String,
    /// Signed in completely (not owing a second factor or a new password): the full header shows.
    pub full: bool,
    /// May read the registry: the overview's links show.
    pub registry: bool,
    /// The registered features' links this viewer may use ([`crate::features::nav`]).
    pub nav: Vec<crate::features::NavLink>,
}

impl Viewer {
    pub fn of(actor: &Actor) -> Option<Self> {
        actor.session.as_ref()?;
        actor.principal.as_ref()?;
        Some(Self {
            name: actor.name(),
            full: actor.is_authenticated(),
            registry: actor.may(Action::Read),
            nav: crate::features::nav(actor),
        })
    }
}

/// The CSRF token and viewer of a request, from the actor `resolve_actor` attached.
pub fn of_request(parts: &Parts) -> (Option<String>, Option<Viewer>) {
    let actor = parts.extensions.get::<Actor>();
    (expected_token(actor, &parts.headers), actor.and_then(Viewer::of))
}
