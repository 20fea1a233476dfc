//! `POST /instructors/{id}/mobile`: the instructor's whole mobile number on a page of its own, for the
//! roles that may read it (see [`crate::personal`]). A form rather than a link, so that nothing but a
//! deliberate click (with the form's CSRF token) makes a reveal and its audit record; the page is never
//! cached.

use crate::app::permission::{self, Target};
use crate::app::personal::{reveal_instructor_mobile, READ_PERSONAL};
use crate::auth::Actor;
use crate::pages::form::FormBody;
use crate::pages::{Failed, PageCtx, PageId};
use crate::security_headers::no_store;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use dangjian_domain::access::Action;
use minijinja::context;

pub async fn reveal(
    State(s): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    PageId(id): PageId,
    body: FormBody,
) -> Result<Response, Failed> {
    // Permission before the body (a refusal audited as denied), the CSRF token before the reveal.
    let target = Target::Instructor(id);
    permission::authorize(&s, &actor, Action::ReadPersonal, target, READ_PERSONAL).await.map_err(|r| r.page(&ctx))?;
    body.read().await?;
    let mobile = reveal_instructor_mobile(&s, &actor, id).await.map_err(|r| r.page(&ctx))?;
    let i = s.store.instructor(id).await.map_err(ctx.store_err())?;
    let mut response =
        ctx.render("instructors/mobile.html", context! { id, name => i.name, mobile => mobile.as_str() });
    no_store(response.headers_mut());
    Ok(response)
}
