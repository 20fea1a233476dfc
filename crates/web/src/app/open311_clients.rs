//! Open311 clients and their keys (reference data, the system administrator's): the commands the
//! API (`/api/v1/open311-clients`) and `dangjian open311` share. A key is made here and answered once;
//! the store keeps its SM3 hash only. Changes are audited as `open311_client.create` and
//! `open311_client.revoke`, about `open311_client` `<id>`; a refused list as `open311_client.list`.

use super::permission::{self, Object};
use super::write::Change;
use super::{AppResult, Ctx};
use dangjian_domain::access::Action;
use dangjian_security::token::NewApiToken;
use dangjian_store::open311::Open311Client;

fn client(id: i64) -> Option<Object> {
    Some(Object::new("open311_client", id))
}

/// Every client, revoked ones included; never a key (a refusal audited as `open311_client.list`).
pub async fn list(cx: &Ctx) -> AppResult<Vec<Open311Client>> {
    permission::require(&cx.state, &cx.actor, Action::ManageReference, "open311_client.list").await?;
    Ok(cx.state.store.open311_clients().await?)
}

/// A new client the actor may register, waiting for its name.
#[must_use]
pub struct Creating(Change);

/// May the actor register an Open311 client? (A refusal is audited as `open311_client.create`.)
pub async fn begin_create(cx: &Ctx) -> AppResult<Creating> {
    Ok(Creating(Change::begin(cx, Action::ManageReference, "open311_client.create").await?))
}

impl Creating {
    /// Registers the client (`extended`: answer with mySociety's extended statuses); answers it with
    /// its key, to be shown this once.
    pub async fn save(self, name: &str, extended: bool) -> AppResult<(Open311Client, String)> {
        let key = NewApiToken::generate();
        let (store, by) = (&self.0.cx.state.store, self.0.cx.actor.name());
        let result = store.create_open311_client(name, key.hash(), extended, &by).await;
        let created = self.0.finish(|r| r.as_ref().ok().and_then(|c| client(c.id)), result).await?;
        Ok((created, key.secret().to_owned()))
    }
}

/// Revokes client `id`: its key opens nothing from now on; the cases it filed stay (a refusal and the
/// outcome audited as `open311_client.revoke`).
pub async fn revoke(cx: &Ctx, id: i64) -> AppResult<Open311Client> {
    let change = Change::begin(cx, Action::ManageReference, "open311_client.revoke").await?;
    let result = cx.state.store.revoke_open311_client(id).await;
    change.finish(|_| client(id), result).await
}
