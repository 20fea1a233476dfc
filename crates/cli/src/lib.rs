//! The `dangjian` command: clap subcommands that call into the domain, store, ingest and web crates.
//! `anyhow` lives only here, at the outer edge; the crates below keep their own error types.

pub mod accounts;
pub mod args;
pub mod bench;
pub mod bench_case_stats;
pub mod bench_cases;
pub mod bench_coverage;
pub mod bench_pages;
pub mod bench_search;
pub mod bench_stations;
pub mod codes;
pub mod commands;
pub mod demo;
pub mod demo_services;
pub mod generate;
pub mod keys;
pub mod open311;
pub mod rules;
pub mod timing;

use anyhow::Context;
use args::{AlgorithmArg, AuditCommand, BenchCommand, Cli, Command, KeysCommand, UserCommand};
use std::process::ExitCode;

/// Runs one command. `Ok` carries the exit code (an import whose file is rejected exits 1); `Err` is
/// every other failure, which `main` reports and turns into exit code 2.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let lang = cli.lang;
    match cli.command {
        Command::Demo(a) => commands::demo(&a, lang).await?,
        Command::Serve(a) => commands::serve(&a, lang).await?,
        Command::Migrate(a) => commands::migrate(&a.db, lang).await?,
        Command::Import(a) => return commands::import(&a, lang).await,
        Command::Export(a) => commands::export(&a, lang).await?,
        Command::Bench(BenchCommand::Import(a)) => bench::import(&a, lang).await?,
        Command::Bench(BenchCommand::Coverage(a)) => bench_coverage::coverage(&a, lang).await?,
        Command::Generate(a) => generate::run(&a, lang).await?,
        Command::Bench(BenchCommand::Stations(a)) => bench_stations::run(&a)?,
        Command::Bench(BenchCommand::Cases(a)) => bench_cases::run(&a, lang).await?,
        Command::Bench(BenchCommand::Pages(a)) => bench_pages::run(&a, lang).await?,
        Command::Bench(BenchCommand::Search(a)) => bench_search::run(&a, lang).await?,
        Command::Bench(BenchCommand::CaseStats(a)) => bench_case_stats::run(&a, lang).await?,
        Command::Open311(cmd) => open311::run(&cmd, lang).await?,
        Command::User(UserCommand::Add { db, username, name, grants }) => {
            let store = commands::open_migrated(&db.db, lang).await?;
            let grants: Vec<_> = grants.into_iter().map(|g| (g.role, g.scope)).collect();
            let password = accounts::add_user(&store, &username, &name, &grants, lang).await?;
            println!("{username}\t{password}");
            eprintln!("{}", lang.t("cli.one_off_password_must", &[]));
        }
        Command::User(UserCommand::Grant { db, username, grant }) => {
            let store = commands::open_migrated(&db.db, lang).await?;
            accounts::grant(&store, &username, grant.role, &grant.scope, lang).await?;
        }
        Command::Keys(KeysCommand::Init { file }) => {
            let keys = dangjian_security::field_cipher::Keyring::generate();
            keys::write_private(&file, keys.to_text().as_bytes())?;
            println!("{}", file.display());
        }
        Command::Keys(KeysCommand::AddKey { file, algorithm }) => {
            let id = keys::add_key(&file, algorithm.map(AlgorithmArg::algorithm))?;
            println!("{id}");
            eprintln!("{}", lang.t("cli.new_key_active_restart", &[]));
        }
        Command::Keys(KeysCommand::Rotate { db }) => {
            let keys = keys::required(lang)?;
            let store = commands::open_migrated(&db.db, lang).await?;
            let cx = accounts::operator(&store);
            let n = dangjian_web::app::operator::rotate_keys(&cx, &keys)
                .await
                .map_err(accounts::app_error)
                .context(lang.t("cli.key_rotation_failed", &[]))?;
            let left = store.count_values_needing_rotation(&keys).await?;
            let args = [("n", n.to_string()), ("key", keys.active_key_id().to_string()), ("left", left.to_string())];
            println!("{}", lang.t("cli.keys_rotated", &args));
        }
        Command::Audit(AuditCommand::Verify { db }) => {
            let store = commands::open_migrated(&db.db, lang).await?;
            match accounts::verify(&store).await {
                Ok(line) => println!("{line}"),
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(commands::EXIT_REJECTED));
                }
            }
        }
        Command::Rules(cmd) => rules::run(&cmd, lang).await?,
        Command::Audit(AuditCommand::Purge { db }) => {
            let store = commands::open_migrated(&db.db, lang).await?;
            let (before, n) = accounts::purge(&store).await?;
            println!("{}", lang.t("cli.audit_purged", &[("n", n.to_string()), ("before", before.to_string())]));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The default log filter of a command when `RUST_LOG` is not set: servers say what they do, one-shot
/// commands only warn.
pub fn default_log_filter(command: &Command) -> &'static str {
    match command {
        Command::Demo(_) | Command::Serve(_) => "info,sqlx=warn",
        _ => "warn,sqlx=error",
    }
}
