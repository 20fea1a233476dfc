//! The subcommands: each opens the store, calls one thing in the crates below, and says what happened.

use crate::args::{DemoArgs, ExportArgs, FormatArg, ImportArgs, Lang, ServeArgs};
use anyhow::{bail, Context};
use dangjian_domain::RegionLevel;
use dangjian_ingest::{IngestError, MAX_FILE_BYTES};
use dangjian_store::personal::Disclosure;
use dangjian_store::regions::RegionFilter;
use dangjian_store::{ImportSummary, Paging, Store, StoreError};
use dangjian_web::app::{transfer, AppError};
use dangjian_web::transfer::{ExportFormat, ImportFailure};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code of an import whose file was rejected (nothing was written).
pub const EXIT_REJECTED: u8 = 1;
/// Exit code of usage errors and every other failure.
pub const EXIT_FAILURE: u8 = 2;

/// A database URL fit for messages: the password, if any, replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return url.to_owned() };
    match rest[..at].find(':') {
        Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &rest[..colon], &rest[at..]),
        None => url.to_owned(),
    }
}

/// Connects to `url` (the file of a `sqlite://` URL is created if missing).
pub async fn open(url: &str, lang: Lang) -> anyhow::Result<Store> {
    match Store::connect(url).await {
        Ok(s) => Ok(s),
        Err(StoreError::UnsupportedUrl(_)) => {
            bail!("{}", lang.t("cli.unsupported_database_url", &[("url", redact(url).to_string())]))
        }
        Err(e) => {
            Err(anyhow::Error::new(e).context(format!("{} {}", lang.t("cli.cannot_open_database", &[]), redact(url))))
        }
    }
}

/// Opens a database whose schema must be current, with the keys for personal data when the environment
/// names them (commands that read or write personal data fail without them).
pub async fn open_migrated(url: &str, lang: Lang) -> anyhow::Result<Store> {
    let store = open(url, lang).await?;
    require_schema(&store, url, lang).await?;
    Ok(match crate::keys::from_environment()? {
        Some(keys) => store.with_keys(Arc::new(keys)),
        None => store,
    })
}

/// Refuses a database whose schema is not the one this build knows.
pub async fn require_schema(store: &Store, url: &str, lang: Lang) -> anyhow::Result<()> {
    let latest = store.latest_known_version();
    match store.schema_version().await.ok().flatten() {
        Some(v) if v == latest => Ok(()),
        Some(v) if v > latest => {
            bail!("{}", lang.t("cli.database_schema_newer", &[("v", v.to_string()), ("latest", latest.to_string())]))
        }
        _ => bail!("{}", lang.t("cli.database_not_current_schema", &[("url", redact(url).to_string())])),
    }
}

pub async fn migrate(url: &str, lang: Lang) -> anyhow::Result<()> {
    let store = open(url, lang).await?;
    let before = store.schema_version().await.ok().flatten();
    store.migrate().await.context(lang.t("cli.migration_failed", &[]))?;
    let after = store.schema_version().await?.unwrap_or_default();
    let sectors = store.list_sectors().await?.len();
    let counties = store
        .list_regions(
            &RegionFilter { level: Some(RegionLevel::County), ..Default::default() },
            Paging::new(None, Some(1)),
        )
        .await?
        .total;
    let line = match before {
        Some(b) if b == after => lang.t("cli.migrate_nothing_to_do", &[("after", after.to_string())]),
        b => {
            let from = b.map_or_else(
                || lang.t("cli.migrate_from_empty", &[]),
                |b| lang.t("cli.migrate_from_version", &[("b", b.to_string())]),
            );
            lang.t("cli.migrated", &[("from", from), ("after", after.to_string())])
        }
    };
    println!("{line}");
    println!(
        "{}",
        lang.t("cli.reference_data", &[("counties", counties.to_string()), ("sectors", sectors.to_string())])
    );
    store.close().await;
    Ok(())
}

/// Prints a line to standard output, ignoring a closed pipe: a server keeps serving when whoever
/// started it stops reading (`dangjian serve | head -1`).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn non_loopback_warning(addr: SocketAddr, lang: Lang) {
    if !addr.ip().is_loopback() {
        eprintln!("{}", lang.t("cli.warning_server_speaks_plain", &[]));
    }
}

/// The rate limits, with the reverse proxies named by `DANGJIAN_TRUSTED_PROXIES` (whose `X-Forwarded-For`
/// is believed).
fn rate_limits(lang: Lang) -> anyhow::Result<dangjian_web::rate_limit::RateLimitConfig> {
    let mut config = dangjian_web::rate_limit::RateLimitConfig::default();
    if let Ok(text) = std::env::var(TRUSTED_PROXIES_ENV) {
        config.trusted_proxies = dangjian_web::rate_limit::parse_trusted_proxies(&text).map_err(|bad| {
            let args = [("env", TRUSTED_PROXIES_ENV.to_owned()), ("bad", bad.to_string())];
            anyhow::anyhow!("{}", lang.t("cli.not_an_ip_address", &args))
        })?;
    }
    Ok(config)
}

/// Reverse proxies whose `X-Forwarded-For` header is believed: IP addresses separated by commas.
pub const TRUSTED_PROXIES_ENV: &str = "DANGJIAN_TRUSTED_PROXIES";

pub async fn serve(args: &ServeArgs, lang: Lang) -> anyhow::Result<()> {
    let url = &args.db.db;
    let store = open(url, lang).await?;
    require_schema(&store, url, lang).await?;
    non_loopback_warning(args.addr, lang);
    let kind = store.kind().as_str();
    let state = dangjian_web::AppState::new(store, crate::keys::required(lang)?).with_rate_limits(rate_limits(lang)?);
    dangjian_web::serve(state, args.addr, |a| {
        say(&format!("{}http://{a}/  ({kind})", lang.t("cli.dangjian_listening", &[])));
        say(&lang.t("cli.press_ctrl_c_stop", &[]));
    })
    .await
    .with_context(|| format!("{} {}", lang.t("cli.cannot_listen", &[]), args.addr))
}

pub async fn demo(args: &DemoArgs, lang: Lang) -> anyhow::Result<()> {
    let url = match &args.db {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&args.data_dir)
                .with_context(|| format!("{} {}", lang.t("cli.cannot_create", &[]), args.data_dir.display()))?;
            format!("sqlite://{}", args.data_dir.join("dangjian.db").display())
        }
    };
    let keys = Arc::new(crate::keys::for_demo(&args.data_dir)?);
    let store = open(&url, lang).await?.with_keys(keys.clone());
    store.migrate().await.context(lang.t("cli.migration_failed", &[]))?;
    let report = crate::demo::load(&store).await?;
    let services = crate::demo_services::load(&store).await?;
    let (units, orgs, instructors) = crate::demo::counts(&store).await?;
    let what = lang.t(
        "cli.demo_counts",
        &[("units", units.to_string()), ("orgs", orgs.to_string()), ("instructors", instructors.to_string())],
    );
    let how = if report.loaded_anything() {
        lang.t("cli.loaded_demo_dataset", &[])
    } else {
        lang.t("cli.reusing_existing_data", &[])
    };
    say(&format!("{how}{what}"));
    if services.departments + services.stations + services.cases > 0 {
        say(&lang.t(
            "cli.demo_services",
            &[
                ("departments", services.departments.to_string()),
                ("stations", services.stations.to_string()),
                ("cases", services.cases.to_string()),
            ],
        ));
    }
    say(&format!("{}{}", lang.t("cli.database", &[]), redact(&url)));
    non_loopback_warning(args.addr, lang);
    let logins = crate::accounts::demo_logins(&store).await?;
    let state = dangjian_web::AppState::new(store, (*keys).clone()).with_rate_limits(rate_limits(lang)?);
    dangjian_web::serve(state, args.addr, |a| {
        say(&format!("{}http://{a}/", lang.t("cli.demo_running", &[])));
        say(&format!("{}http://{a}/api/v1/entities  http://{a}/api/openapi.json", lang.t("cli.api", &[])));
        say(&lang.t("cli.demo_logins_one_off", &[]));
        for (username, password, what) in &logins {
            say(&format!("  {username:<16} {password}   {what}"));
        }
        say(&lang.t("cli.press_ctrl_c_stop", &[]));
    })
    .await
    .with_context(|| format!("{} {}", lang.t("cli.cannot_listen", &[]), args.addr))
}

fn summary_line(s: &ImportSummary, dry_run: bool, file: &str, lang: Lang) -> String {
    let key = if dry_run { "cli.import_dry_run" } else { "cli.imported" };
    let args = [
        ("file", file.to_owned()),
        ("created", s.created.to_string()),
        ("updated", s.updated.to_string()),
        ("unchanged", s.unchanged.to_string()),
    ];
    lang.t(key, &args)
}

/// Prints one line per message to standard error (buffered: a rejected file may have many).
fn print_errors<I: IntoIterator<Item = String>>(lines: I) {
    let stderr = std::io::stderr();
    let mut w = std::io::BufWriter::new(stderr.lock());
    for l in lines {
        let _ = writeln!(w, "{l}");
    }
    let _ = w.flush();
}

pub async fn import(args: &ImportArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    let file = args.file.display().to_string();
    let meta = std::fs::metadata(&args.file).with_context(|| format!("{} {file}", lang.t("cli.cannot_read", &[])))?;
    if meta.len() > MAX_FILE_BYTES as u64 {
        let e = IngestError::FileTooLarge { file, size: meta.len() as usize, limit: MAX_FILE_BYTES };
        print_errors([e.localized(lang.code())]);
        return Ok(ExitCode::from(EXIT_REJECTED));
    }
    let bytes = std::fs::read(&args.file).with_context(|| format!("{} {file}", lang.t("cli.cannot_read", &[])))?;
    let store = open_migrated(&args.db.db, lang).await?;
    let cx = crate::accounts::operator(&store);
    let pending = transfer::begin_import(&cx, args.kind.kind()).await.map_err(crate::accounts::app_error)?;
    let outcome = pending.run(&file, &bytes, args.dry_run, lang.code()).await;
    store.close().await;
    match outcome {
        Ok(summary) => {
            println!("{}", summary_line(&summary, args.dry_run, &file, lang));
            Ok(ExitCode::SUCCESS)
        }
        Err(AppError::Import(ImportFailure::Rows(errs))) => {
            let (n, listed) = (errs.total, errs.errors.len());
            let key = if errs.is_truncated() { "cli.import_rejected_listed" } else { "cli.import_rejected" };
            let closing = lang.t(key, &[("file", file.clone()), ("n", n.to_string()), ("listed", listed.to_string())]);
            print_errors(errs.errors.iter().map(ToString::to_string).chain([closing]));
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(AppError::Import(ImportFailure::Unreadable(e))) => {
            print_errors([e.localized(lang.code())]);
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(e) => Err(crate::accounts::app_error(e).context(lang.t("cli.import_failed", &[]))),
    }
}

fn format_for(args: &ExportArgs) -> ExportFormat {
    match args.format {
        Some(FormatArg::Csv) => ExportFormat::Csv,
        Some(FormatArg::Xlsx) => ExportFormat::Xlsx,
        None => {
            args.output.extension().and_then(|e| e.to_str()).and_then(ExportFormat::parse).unwrap_or(ExportFormat::Csv)
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, so a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub async fn export(args: &ExportArgs, lang: Lang) -> anyhow::Result<()> {
    let store = open_migrated(&args.db.db, lang).await?;
    let format = format_for(args);
    let disclosure = if args.full_personal_data { Disclosure::Full } else { Disclosure::Masked };
    let cx = crate::accounts::operator(&store);
    let pending = transfer::begin_export(&cx, args.kind.kind()).await.map_err(crate::accounts::app_error)?;
    let bytes = pending.run(format, disclosure).await.map_err(|e| match e {
        AppError::Store(e) => anyhow::Error::new(e).context(lang.t("cli.export_failed", &[])),
        e => anyhow::anyhow!("{}: {}", lang.t("cli.export_failed", &[]), crate::accounts::app_error(e)),
    })?;
    store.close().await;
    if args.output.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()?;
        return Ok(());
    }
    let out = args.output.display();
    write_atomically(&args.output, &bytes).with_context(|| format!("{} {out}", lang.t("cli.cannot_write", &[])))?;
    println!("{}", lang.t("cli.exported", &[("out", out.to_string()), ("bytes", bytes.len().to_string())]));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/dj"), "postgres://app:***@db:5432/dj");
        assert_eq!(redact("postgres://postgres@127.0.0.1:5432/dj"), "postgres://postgres@127.0.0.1:5432/dj");
        assert_eq!(redact("sqlite://./demo-data/dangjian.db"), "sqlite://./demo-data/dangjian.db");
        assert_eq!(redact("postgres://u:p@h/db?x=a@b"), "postgres://u:***@h/db?x=a@b");
    }
}
