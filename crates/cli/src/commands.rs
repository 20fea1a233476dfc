//! The subcommands: each opens the store, calls one thing in the crates below, and says what happened.

use crate::args::{DemoArgs, ExportArgs, FormatArg, ImportArgs, Lang, ServeArgs};
use anyhow::{bail, Context};
use dangjian_domain::RegionLevel;
use dangjian_ingest::{IngestError, MAX_FILE_BYTES};
use dangjian_store::access::AccessFilter;
use dangjian_store::personal::Disclosure;
use dangjian_store::regions::RegionFilter;
use dangjian_store::{ImportSummary, Paging, Store, StoreError};
use dangjian_web::transfer::{export_file, import_file, ExportFormat, ImportFailure};
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
        Err(StoreError::UnsupportedUrl(_)) => bail!(
            "{}",
            lang.pick(
                &format!("不支持的数据库地址“{}”：请使用 sqlite://路径 或 postgres://…", redact(url)),
                &format!("unsupported database URL '{}': use sqlite://PATH or postgres://...", redact(url)),
            )
        ),
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "{} {}",
            lang.pick("无法打开数据库", "cannot open the database"),
            redact(url)
        ))),
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
        Some(v) if v > latest => bail!(
            "{}",
            lang.pick(
                &format!("数据库结构版本 {v} 比本程序所知的版本 {latest} 更新，请升级 dangjian"),
                &format!(
                    "the database schema (version {v}) is newer than this build knows ({latest}); upgrade dangjian"
                ),
            )
        ),
        _ => bail!(
            "{}",
            lang.pick(
                &format!("数据库尚未迁移到当前结构，请先运行：dangjian migrate --db {}", redact(url)),
                &format!("the database is not at the current schema; run first: dangjian migrate --db {}", redact(url)),
            )
        ),
    }
}

pub async fn migrate(url: &str, lang: Lang) -> anyhow::Result<()> {
    let store = open(url, lang).await?;
    let before = store.schema_version().await.ok().flatten();
    store.migrate().await.context(lang.pick("迁移失败", "migration failed"))?;
    let after = store.schema_version().await?.unwrap_or_default();
    let sectors = store.list_sectors().await?.len();
    let counties = store
        .list_regions(
            &RegionFilter { level: Some(RegionLevel::County), ..Default::default() },
            Paging::new(None, Some(1)),
        )
        .await?
        .total;
    match (before, lang) {
        (Some(b), Lang::Zh) if b == after => println!("数据库已是当前结构（版本 {after}），无需迁移。"),
        (Some(b), Lang::En) if b == after => {
            println!("The database is at the current schema (version {after}); nothing to do.")
        }
        (b, Lang::Zh) => println!(
            "数据库已迁移：{} → 版本 {after}。",
            b.map(|b| format!("版本 {b}")).unwrap_or_else(|| "空库".into())
        ),
        (b, Lang::En) => println!(
            "Migrated the database: {} → version {after}.",
            b.map(|b| format!("version {b}")).unwrap_or_else(|| "empty".into())
        ),
    }
    match lang {
        Lang::Zh => println!("参考数据：{counties} 个县级行政区划（含新疆生产建设兵团），{sectors} 个行业。"),
        Lang::En => println!("Reference data: {counties} county-level regions (XPCC included), {sectors} sectors."),
    }
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
        eprintln!(
            "{}",
            lang.pick(
                "警告：本服务不加密传输。对外提供服务时请在前面放置终止 TLS 的反向代理（见 docs/operations.md），只监听本机地址。",
                "warning: this server speaks plain HTTP. Beyond this machine, put a TLS-terminating reverse proxy in front (docs/operations.md) and listen on loopback only.",
            )
        );
    }
}

/// The rate limits, with the reverse proxies named by `DANGJIAN_TRUSTED_PROXIES` (whose `X-Forwarded-For`
/// is believed).
fn rate_limits() -> anyhow::Result<dangjian_web::rate_limit::RateLimitConfig> {
    let mut config = dangjian_web::rate_limit::RateLimitConfig::default();
    if let Ok(text) = std::env::var(TRUSTED_PROXIES_ENV) {
        config.trusted_proxies = dangjian_web::rate_limit::parse_trusted_proxies(&text)
            .map_err(|bad| anyhow::anyhow!("{TRUSTED_PROXIES_ENV}: '{bad}' is not an IP address"))?;
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
    let state = dangjian_web::AppState::new(store, crate::keys::required()?).with_rate_limits(rate_limits()?);
    dangjian_web::serve(state, args.addr, |a| {
        say(&format!("{}http://{a}/  ({kind})", lang.pick("Dangjian 已启动：", "Dangjian is listening on ")));
        say(lang.pick("按 Ctrl-C 停止。", "Press Ctrl-C to stop."));
    })
    .await
    .with_context(|| format!("{} {}", lang.pick("无法监听", "cannot listen on"), args.addr))
}

pub async fn demo(args: &DemoArgs, lang: Lang) -> anyhow::Result<()> {
    let url = match &args.db {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&args.data_dir).with_context(|| {
                format!("{} {}", lang.pick("无法创建目录", "cannot create"), args.data_dir.display())
            })?;
            format!("sqlite://{}", args.data_dir.join("dangjian.db").display())
        }
    };
    let keys = Arc::new(crate::keys::for_demo(&args.data_dir)?);
    let store = open(&url, lang).await?.with_keys(keys.clone());
    store.migrate().await.context(lang.pick("迁移失败", "migration failed"))?;
    let report = crate::demo::load(&store).await?;
    let services = crate::demo_services::load(&store).await?;
    let (units, orgs, instructors) = crate::demo::counts(&store).await?;
    let what = match lang {
        Lang::Zh => format!("{units} 个单位、{orgs} 个党组织、{instructors} 名党建指导员"),
        Lang::En => format!("{units} units, {orgs} Party organizations, {instructors} instructors"),
    };
    let how = if report.loaded_anything() {
        lang.pick("已载入演示数据：", "Loaded the demo dataset: ")
    } else {
        lang.pick("沿用已有数据：", "Reusing the existing data: ")
    };
    say(&format!("{how}{what}"));
    if services.departments + services.stations + services.cases > 0 {
        say(&match lang {
            Lang::Zh => format!(
                "已载入演示服务数据：{} 个受理部门、{} 个驿站、{} 件诉求",
                services.departments, services.stations, services.cases
            ),
            Lang::En => format!(
                "Loaded the demo services: {} case departments, {} stations, {} cases",
                services.departments, services.stations, services.cases
            ),
        });
    }
    say(&format!("{}{}", lang.pick("数据库：", "Database: "), redact(&url)));
    non_loopback_warning(args.addr, lang);
    let logins = crate::accounts::demo_logins(&store).await?;
    let state = dangjian_web::AppState::new(store, (*keys).clone()).with_rate_limits(rate_limits()?);
    dangjian_web::serve(state, args.addr, |a| {
        say(&format!("{}http://{a}/", lang.pick("演示地址：", "Demo running at ")));
        say(&format!("{}http://{a}/api/v1/entities  http://{a}/api/openapi.json", lang.pick("接口：", "API: ")));
        say(lang.pick(
            "演示登录（一次性密码，每次启动重新生成；管理员首次登录须绑定动态口令）：",
            "Demo logins (one-off passwords, new at every start; administrators enrol a TOTP authenticator at first login):",
        ));
        for (username, password, what) in &logins {
            say(&format!("  {username:<16} {password}   {what}"));
        }
        say(lang.pick("按 Ctrl-C 停止。", "Press Ctrl-C to stop."));
    })
    .await
    .with_context(|| format!("{} {}", lang.pick("无法监听", "cannot listen on"), args.addr))
}

fn summary_line(s: &ImportSummary, dry_run: bool, file: &str, lang: Lang) -> String {
    match (lang, dry_run) {
        (Lang::Zh, false) => {
            format!("{file}：导入完成，新增 {} 条，更新 {} 条，未变 {} 条。", s.created, s.updated, s.unchanged)
        }
        (Lang::Zh, true) => format!(
            "{file}：试运行，未写入任何数据；正式导入将新增 {} 条，更新 {} 条，未变 {} 条。",
            s.created, s.updated, s.unchanged
        ),
        (Lang::En, false) => {
            format!("{file}: imported: {} created, {} updated, {} unchanged.", s.created, s.updated, s.unchanged)
        }
        (Lang::En, true) => format!(
            "{file}: dry run, nothing written; importing would create {}, update {} and leave {} unchanged.",
            s.created, s.updated, s.unchanged
        ),
    }
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
    let meta =
        std::fs::metadata(&args.file).with_context(|| format!("{} {file}", lang.pick("无法读取", "cannot read")))?;
    if meta.len() > MAX_FILE_BYTES as u64 {
        let e = IngestError::FileTooLarge { file, size: meta.len() as usize, limit: MAX_FILE_BYTES };
        print_errors([e.localized(lang.code())]);
        return Ok(ExitCode::from(EXIT_REJECTED));
    }
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("{} {file}", lang.pick("无法读取", "cannot read")))?;
    let store = open_migrated(&args.db.db, lang).await?;
    let everything = AccessFilter::unrestricted();
    let outcome = import_file(&store, args.kind.kind(), &file, &bytes, args.dry_run, lang.code(), &everything).await;
    if !args.dry_run {
        let (outcome_text, detail) = match &outcome {
            Ok(s) => {
                ("ok", format!("file={file} created={} updated={} unchanged={}", s.created, s.updated, s.unchanged))
            }
            Err(_) => ("failed", format!("file={file}")),
        };
        let action = format!("import.{}", args.kind.kind().as_str());
        crate::accounts::audit(&store, &action, None, outcome_text, Some(detail)).await?;
    }
    store.close().await;
    match outcome {
        Ok(summary) => {
            println!("{}", summary_line(&summary, args.dry_run, &file, lang));
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportFailure::Rows(errs)) => {
            let (n, listed) = (errs.total, errs.errors.len());
            let closing = match (lang, errs.is_truncated()) {
                (Lang::Zh, false) => format!("{file}：共 {n} 处错误，未导入任何数据。"),
                (Lang::En, false) => format!("{file}: {n} errors; nothing was imported."),
                (Lang::Zh, true) => format!("{file}：共 {n} 处错误（以上为前 {listed} 处），未导入任何数据。"),
                (Lang::En, true) => format!("{file}: {n} errors (the first {listed} above); nothing was imported."),
            };
            print_errors(errs.errors.iter().map(ToString::to_string).chain([closing]));
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(ImportFailure::Unreadable(e)) => {
            print_errors([e.localized(lang.code())]);
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(ImportFailure::Store(e)) => Err(anyhow::Error::new(e).context(lang.pick("导入失败", "import failed"))),
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
    let bytes = export_file(&store, args.kind.kind(), format, disclosure, &AccessFilter::unrestricted())
        .await
        .map_err(|e| match e {
            ImportFailure::Store(e) => anyhow::Error::new(e).context(lang.pick("导出失败", "export failed")),
            e => anyhow::anyhow!("{}: {e}", lang.pick("导出失败", "export failed")),
        })?;
    let detail = format!("output={} personal={:?} bytes={}", args.output.display(), disclosure, bytes.len());
    crate::accounts::audit(&store, &format!("export.{}", args.kind.kind().as_str()), None, "ok", Some(detail)).await?;
    store.close().await;
    if args.output.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()?;
        return Ok(());
    }
    let out = args.output.display();
    write_atomically(&args.output, &bytes)
        .with_context(|| format!("{} {out}", lang.pick("无法写入", "cannot write")))?;
    match lang {
        Lang::Zh => println!("已导出到 {out}（{} 字节）。", bytes.len()),
        Lang::En => println!("Exported to {out} ({} bytes).", bytes.len()),
    }
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
