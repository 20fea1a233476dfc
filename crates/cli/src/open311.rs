//! `dangjian open311`: the Open311 clients and their keys from the command line — add one (its key is
//! printed once; only its hash is stored), list them, revoke one. Every change is audited as
//! `cli:<user>`, like the API's (`/api/v1/open311-clients`).

use crate::accounts::{audit, cli_actor};
use crate::args::{Lang, Open311Command};
use dangjian_security::token::NewApiToken;

pub async fn run(cmd: &Open311Command, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        Open311Command::AddClient { db, name, extended_statuses } => {
            let store = crate::commands::open_migrated(&db.db, lang).await?;
            let key = NewApiToken::generate();
            let client = store.create_open311_client(name, key.hash(), *extended_statuses, &cli_actor()).await?;
            audit(&store, "open311_client.create", Some(("open311_client", client.id.to_string())), "ok", None).await?;
            println!("{}\t{}\t{}", client.id, client.name, key.secret());
            eprintln!("{}", lang.t("cli.api_key_shown_once", &[]));
        }
        Open311Command::List { db } => {
            let store = crate::commands::open_migrated(&db.db, lang).await?;
            println!("id\tname\textended_statuses\tcreated_at\tcreated_by\tlast_used_at\trevoked_at");
            for c in store.open311_clients().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    c.id,
                    c.name,
                    c.extended_statuses,
                    c.created_at,
                    c.created_by,
                    c.last_used_at.unwrap_or_default(),
                    c.revoked_at.unwrap_or_default()
                );
            }
        }
        Open311Command::Revoke { db, id } => {
            let store = crate::commands::open_migrated(&db.db, lang).await?;
            let client = store.revoke_open311_client(*id).await?;
            audit(&store, "open311_client.revoke", Some(("open311_client", id.to_string())), "ok", None).await?;
            println!("{}\t{}\t{}", client.id, client.name, client.revoked_at.unwrap_or_default());
        }
    }
    Ok(())
}
