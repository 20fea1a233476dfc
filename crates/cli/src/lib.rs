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
            let password = accounts::add_user(&store, &username, &name, &grants).await?;
            println!("{username}\t{password}");
            eprintln!(
                "{}",
                lang.pick("一次性密码，首次登录时须修改。", "One-off password: it must be changed at first login.")
            );
        }
        Command::User(UserCommand::Grant { db, username, grant }) => {
            let store = commands::open_migrated(&db.db, lang).await?;
            accounts::grant(&store, &username, grant.role, &grant.scope).await?;
        }
        Command::Keys(KeysCommand::Init { file }) => {
            let keys = dangjian_security::field_cipher::Keyring::generate();
            keys::write_private(&file, keys.to_text().as_bytes())?;
            println!("{}", file.display());
        }
        Command::Keys(KeysCommand::AddKey { file, algorithm }) => {
            let id = keys::add_key(&file, algorithm.map(AlgorithmArg::algorithm))?;
            println!("{id}");
            eprintln!(
                "{}",
                lang.pick(
                    "新密钥已启用：重启服务使其生效，然后运行 dangjian keys rotate。",
                    "The new key is active: restart the server with this file, then run dangjian keys rotate.",
                )
            );
        }
        Command::Keys(KeysCommand::Rotate { db }) => {
            let keys = keys::required()?;
            let store = commands::open_migrated(&db.db, lang).await?;
            let n = store.rotate_field_keys(&keys).await.context(lang.pick("密钥轮换失败", "key rotation failed"))?;
            let left = store.count_values_needing_rotation(&keys).await?;
            accounts::audit(
                &store,
                "keys.rotate",
                None,
                "ok",
                Some(format!("re-encrypted={n} key={}", keys.active_key_id())),
            )
            .await?;
            match lang {
                args::Lang::Zh => {
                    println!("已重新加密 {n} 个值（当前密钥 {}），剩余 {left} 个。", keys.active_key_id())
                }
                args::Lang::En => {
                    println!("Re-encrypted {n} values under key {}; {left} left.", keys.active_key_id())
                }
            }
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
            match lang {
                args::Lang::Zh => println!("已删除 {before} 之前的 {n} 条审计记录，哈希链仍可验证。"),
                args::Lang::En => println!("Purged {n} audit records older than {before}; the chain stays verifiable."),
            }
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
