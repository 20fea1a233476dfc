//! `dangjian open311`: the Open311 clients and their keys from the command line — add one (its key is
//! printed once; only its hash is stored), list them, revoke one. Every change is audited as
//! `cli:<user>`, through the API's commands
//! (`dangjian_web::app::open311_clients`).

use crate::accounts::{app_error, operator};
use crate::args::{Lang, Open311Command};
use dangjian_web::app::open311_clients;

pub async fn run(cmd: &Open311Command, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        Open311Command::AddClient { db, name, extended_statuses } => {
            let cx = operator(&crate::commands::open_migrated(&db.db, lang).await?);
            let pending = open311_clients::begin_create(&cx).await.map_err(app_error)?;
            let (client, key) = pending.save(name, *extended_statuses).await.map_err(app_error)?;
            println!("{}\t{}\t{}", client.id, client.name, key);
            eprintln!("{}", lang.t("cli.api_key_shown_once", &[]));
        }
        Open311Command::List { db } => {
            let cx = operator(&crate::commands::open_migrated(&db.db, lang).await?);
            println!("id\tname\textended_statuses\tcreated_at\tcreated_by\tlast_used_at\trevoked_at");
            for c in open311_clients::list(&cx).await.map_err(app_error)? {
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
            let cx = operator(&crate::commands::open_migrated(&db.db, lang).await?);
            let client = open311_clients::revoke(&cx, *id).await.map_err(app_error)?;
            println!("{}\t{}\t{}", client.id, client.name, client.revoked_at.unwrap_or_default());
        }
    }
    Ok(())
}
