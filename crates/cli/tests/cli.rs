//! The `dangjian` binary as a user runs it: every test starts the built binary against a fresh database
//! of each available backend (SQLite always; PostgreSQL when `DANGJIAN_TEST_PG` is set).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_domain::Uscc;
use dangjian_store::access::AccessFilter;
use dangjian_store::entities::EntityFilter;
use dangjian_store::testing::{self, TestDb};
use dangjian_store::{DbKind, Paging};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dangjian");

/// Runs the binary with `args`, with a clean environment for the variables it reads.
fn dangjian(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("DANGJIAN_DB")
        .env_remove("DANGJIAN_LANG")
        .env_remove("RUST_LOG")
        .env_remove("DANGJIAN_KEY_FILE")
        .env("DANGJIAN_FIELD_KEYS", testing::keyring_env_value())
        .stdin(Stdio::null())
        .output()
        .expect("the dangjian binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn uscc(first17: &str) -> String {
    Uscc::with_check_character(first17).unwrap().to_string()
}

async fn unit_count(db: &TestDb) -> i64 {
    db.store
        .list_entities(&EntityFilter::default(), Paging::new(Some(1), Some(1)), &AccessFilter::unrestricted())
        .await
        .unwrap()
        .total
}

fn path_str(p: &Path) -> String {
    p.to_str().expect("temporary paths are UTF-8").to_owned()
}

#[tokio::test]
async fn migrate_creates_the_schema_with_reference_data_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let out = dangjian(&["migrate", "--db", &url]);
    assert_exit(&out, 0, "first migrate");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("空库") && stdout.contains("2978") && stdout.contains("7 个行业"), "{stdout}");
    let out = dangjian(&["--lang", "en", "migrate", "--db", &url]);
    assert_exit(&out, 0, "second migrate");
    assert!(text(&out.stdout).contains("nothing to do"), "{}", text(&out.stdout));

    // Every database of the test servers: already migrated from a template, so migrate has nothing to do.
    for db in testing::all_backends().await {
        let out = Command::new(BIN).args(["migrate"]).env("DANGJIAN_DB", &db.url).output().unwrap();
        assert_exit(&out, 0, db.kind.as_str());
        assert!(text(&out.stdout).contains("无需迁移"), "{}", text(&out.stdout));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn migrate_fills_an_empty_postgres_database() {
    let Ok(server) = std::env::var(testing::PG_ENV) else { return };
    if server.is_empty() {
        return;
    }
    let admin = dangjian_store::Store::connect(&server).await.unwrap();
    let name = format!("dangjian_t_cli_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(admin.pool()).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(admin.pool()).await.unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&format!("/{name}"));
    let out = dangjian(&["migrate", "--db", url.as_str()]);
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(admin.pool()).await;
    admin.close().await;
    assert_exit(&out, 0, "migrate on an empty PostgreSQL database");
    assert!(text(&out.stdout).contains("2978"), "{}", text(&out.stdout));
}

#[tokio::test]
async fn serve_refuses_a_database_that_is_not_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("empty.db").display());
    let out = dangjian(&["serve", "--db", &url, "--addr", "127.0.0.1:0"]);
    assert_exit(&out, 2, "serve on an empty database");
    assert!(text(&out.stderr).contains("dangjian migrate"), "{}", text(&out.stderr));
    let out = dangjian(&["import", "--db", "mysql://u:secret@h/db", "entities", "x.csv"]);
    assert_exit(&out, 2, "a file that does not exist");
    let out = dangjian(&["import", "--db", &url, "people", "x.csv"]);
    assert_exit(&out, 2, "an unknown kind is a usage error");
}

/// A GBK-encoded CSV, as Excel on a Chinese Windows saves it, with Chinese headers and Chinese dates.
fn gbk_entities(dir: &Path) -> (PathBuf, [String; 2]) {
    let platform = uscc("91310118MA1GBK001");
    let franchisee = uscc("91659001MA1GBK002");
    let csv = format!(
        "统一社会信用代码,站点编码,名称,类型,行业,上级统一社会信用代码,行政区划代码,地址,从业人员数,正式党员数,预备党员数,成立日期\r\n\
         {platform},,顺风速递网络科技有限公司,平台企业,快递,,310118,上海市青浦区徐泾镇,900,120,3,2015年3月1日\r\n\
         {franchisee},,石河子顺风速递有限公司,加盟企业,快递,{platform},659001,石河子市北三路,60,2,0,2019/5/1\r\n\
         ,sf-xj-0001,顺风石河子北泉网点,网点,快递,{franchisee},659001101,石河子镇,18,1,0,20200601\r\n"
    );
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&csv);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "the file really is GBK, not UTF-8");
    let path = dir.join("单位-gbk.csv");
    std::fs::write(&path, &bytes).unwrap();
    (path, [platform, franchisee])
}

#[tokio::test]
async fn a_gbk_csv_with_chinese_headers_imports_after_a_dry_run() {
    for db in testing::all_backends().await {
        let dir = tempfile::tempdir().unwrap();
        let (file, [platform, _]) = gbk_entities(dir.path());
        let file = path_str(&file);

        let out = dangjian(&["import", "--db", &db.url, "entities", &file, "--dry-run"]);
        assert_exit(&out, 0, "dry run");
        let stdout = text(&out.stdout);
        assert!(stdout.contains("试运行") && stdout.contains("新增 3 条"), "{stdout}");
        assert_eq!(unit_count(&db).await, 0, "a dry run writes nothing ({})", db.kind.as_str());

        let out = dangjian(&["import", "--db", &db.url, "entities", &file]);
        assert_exit(&out, 0, "import");
        assert!(text(&out.stdout).contains("新增 3 条，更新 0 条，未变 0 条"), "{}", text(&out.stdout));
        assert_eq!(unit_count(&db).await, 3);
        let site = db.store.entity_by_code("SF-XJ-0001").await.unwrap();
        assert_eq!(site.name, "顺风石河子北泉网点");
        assert_eq!(site.region_code, "659001101");
        let root = db.store.entity(site.root_id.unwrap()).await.unwrap();
        assert_eq!(root.uscc.as_deref(), Some(platform.as_str()));
        assert_eq!(root.established_on.map(|d| d.to_string()).as_deref(), Some("2015-03-01"));

        let out = dangjian(&["--lang", "en", "import", "--db", &db.url, "entities", &file]);
        assert_exit(&out, 0, "re-import");
        assert!(text(&out.stdout).contains("0 created, 0 updated, 3 unchanged"), "{}", text(&out.stdout));
        db.cleanup().await;
    }
}

fn expect_lines(stderr: &str, file: &str, locations: &[&str]) {
    for loc in locations {
        let prefix = format!("{file}:{loc}");
        assert!(stderr.lines().any(|l| l.starts_with(&prefix)), "no line starts with {prefix}:\n{stderr}");
    }
}

#[tokio::test]
async fn a_file_with_bad_rows_is_rejected_whole_with_every_error_located() {
    for db in testing::all_backends().await {
        let dir = tempfile::tempdir().unwrap();
        let good = uscc("91110105MA1BAD001");
        let mut bad_check = uscc("91110105MA1BAD002");
        bad_check.replace_range(17.., if bad_check.ends_with('0') { "1" } else { "0" });
        let csv = format!(
            "统一社会信用代码,站点编码,名称,类型,行业,上级统一社会信用代码,行政区划代码,从业人员数,正式党员数,成立日期\n\
             {good},,正常的平台企业,平台企业,外卖配送,,110105,100,10,2020-01-01\n\
             {bad_check},,校验码错误的企业,平台企业,外卖配送,,110105,100,10,2020-01-01\n\
             ,BJ-001,党员多于从业人员的站点,站点,外卖配送,{good},110105,5,9,2020-01-01\n\
             ,BJ-002,,站点,外卖配送,{good},110105,5,1,2020-02-30\n\
             ,BJ-003,类型不对的站点,工厂,外卖配送,{good},11,5,1,\n"
        );
        let file = path_str(&dir.path().join("bad.csv"));
        std::fs::write(&file, csv).unwrap();
        let out = dangjian(&["import", "--db", &db.url, "entities", &file]);
        assert_exit(&out, 1, "a file with bad rows");
        let stderr = text(&out.stderr);
        expect_lines(
            &stderr,
            &file,
            &[
                "3:A(统一社会信用代码): 校验码为",
                "4:I(正式党员数): ",
                "5:C(名称): 此项为必填项",
                "5:J(成立日期): ",
                "6:D(类型): ",
                "6:G(行政区划代码): ",
            ],
        );
        assert!(stderr.contains("共 6 处错误，未导入任何数据"), "{stderr}");
        assert_eq!(unit_count(&db).await, 0, "nothing imported ({})", db.kind.as_str());

        // Errors that only the registry can find (unknown region, unknown parent), in English.
        let csv = format!(
            "uscc,site_code,name,kind,sector,parent_uscc,region_code,workers\n\
             {good},,A platform,platform,courier,,110105,100\n\
             ,S-1,Site one,site,courier,{good},999999,10\n\
             ,S-2,Site two,site,no such sector,{},110105,10\n",
            uscc("91110105MA1BAD009")
        );
        let file = path_str(&dir.path().join("bad-refs.csv"));
        std::fs::write(&file, csv).unwrap();
        let out = dangjian(&["--lang", "en", "import", "--db", &db.url, "entities", &file]);
        assert_exit(&out, 1, "a file with unknown references");
        let stderr = text(&out.stderr);
        expect_lines(
            &stderr,
            &file,
            &["3:G(region_code): no region has the code 999999", "4:E(sector): ", "4:F(parent_uscc): "],
        );
        assert!(stderr.contains("3 errors; nothing was imported"), "{stderr}");
        assert_eq!(unit_count(&db).await, 0, "nothing imported ({})", db.kind.as_str());
        db.cleanup().await;
    }
}

/// Exports the three kinds in `format` into `dir`, returning the files in import order.
fn export_all(url: &str, dir: &Path, format: &str) -> Vec<(&'static str, PathBuf)> {
    ["entities", "organizations", "instructors"]
        .into_iter()
        .map(|kind| {
            let path = dir.join(format!("{kind}.{format}"));
            let out = dangjian(&[
                "export",
                "--db",
                url,
                kind,
                "--format",
                format,
                "--full-personal-data",
                "-o",
                &path_str(&path),
            ]);
            assert_exit(&out, 0, &format!("export {kind} {format}"));
            (kind, path)
        })
        .collect()
}

#[tokio::test]
async fn export_import_export_gives_identical_files_in_csv_and_xlsx() {
    for source in testing::all_backends().await {
        dangjian_cli::demo::load(&source.store).await.unwrap();
        for format in ["csv", "xlsx"] {
            let dir = tempfile::tempdir().unwrap();
            let first = export_all(&source.url, &dir.path().join("a").tap_mkdir(), format);
            let target = match source.kind {
                DbKind::Sqlite => testing::sqlite().await,
                DbKind::Postgres => testing::postgres().await.unwrap(),
            };
            for (kind, path) in &first {
                let out = dangjian(&["import", "--db", &target.url, kind, &path_str(path)]);
                assert_exit(&out, 0, &format!("import {kind} {format} into {}", target.kind.as_str()));
                // The same file into the source changes nothing.
                let out = dangjian(&["--lang", "en", "import", "--db", &source.url, kind, &path_str(path)]);
                assert_exit(&out, 0, &format!("re-import {kind} {format}"));
                assert!(text(&out.stdout).contains(" 0 created, 0 updated"), "{kind}: {}", text(&out.stdout));
            }
            let second = export_all(&target.url, &dir.path().join("b").tap_mkdir(), format);
            for ((kind, a), (_, b)) in first.iter().zip(&second) {
                let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
                assert!(a.len() > 200, "{kind}.{format} has data");
                assert!(a == b, "{kind}.{format} differs after a round trip through {}", target.kind.as_str());
            }
            target.cleanup().await;
        }
        source.cleanup().await;
    }
}

trait TapMkdir {
    fn tap_mkdir(self) -> PathBuf;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> PathBuf {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

/// A GET over plain HTTP/1.1: status code and body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    if let Err(e) = s.read_to_string(&mut resp) {
        panic!("GET http://{addr}{path}: {e}; read so far: {resp}");
    }
    let status = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// A running server process, stopped when dropped (also when an assertion fails).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `dangjian demo` with `args`, waits for the URL it prints, and returns the process, the
/// `host:port` and everything printed up to the URL.
fn start_demo(args: &[&str]) -> (Running, String, String) {
    let mut child = Running(
        Command::new(BIN)
            .arg("demo")
            .args(args)
            .args(["--addr", "127.0.0.1:0"])
            .env("DANGJIAN_FIELD_KEYS", testing::keyring_env_value())
            .env_remove("RUST_LOG")
            .env_remove("DANGJIAN_LANG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Reads to the end even when nobody listens any more, so the server never writes into a closed pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut printed = String::new();
    let mut addr = None;
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if let (None, Some(i)) = (&addr, line.find("http://")) {
                    addr = Some(line[i + 7..].split('/').next().unwrap().to_owned());
                }
                // The last line of the start-up text, after the demo logins.
                if let (Some(a), true) = (&addr, line.contains("Ctrl-C")) {
                    return (child, a.clone(), printed);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    drop(child);
    panic!("demo printed no URL:\n{printed}");
}

fn check_health(addr: &str, database: &str) {
    let (status, body) = http_get(addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"status\":\"ok\"") && body.contains(database), "{body}");
    // Nothing but the health check and the sign-in page without an account.
    let (status, body) = http_get(addr, "/api/v1/entities?kind=platform");
    assert_eq!(status, 401, "{body}");
    let (status, body) = http_get(addr, "/login");
    assert_eq!(status, 200, "{body}");
}

/// The demo logins printed at start-up: (username, one-off password).
fn printed_logins(printed: &str) -> Vec<(String, String)> {
    dangjian_cli::accounts::DEMO_USERS
        .iter()
        .filter_map(|(username, _, _)| {
            let line = printed.lines().find(|l| l.split_whitespace().next() == Some(username))?;
            Some((username.to_string(), line.split_whitespace().nth(1)?.to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn demo_serves_its_dataset_and_reuses_it_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = path_str(&dir.path().join("demo-data"));
    let (child, addr, printed) = start_demo(&["--data-dir", &data_dir]);
    check_health(&addr, "sqlite");
    drop(child);
    assert!(printed.contains("已载入演示数据"), "{printed}");
    assert!(Path::new(&data_dir).join("dangjian.db").exists());
    let first = printed_logins(&printed);
    assert_eq!(first.len(), dangjian_cli::accounts::DEMO_USERS.len(), "{printed}");

    let (child, addr, printed) = start_demo(&["--data-dir", &data_dir, "--lang", "en"]);
    check_health(&addr, "sqlite");
    drop(child);
    assert!(printed.contains("Reusing the existing data"), "{printed}");
    // Every start prints new one-off passwords: nothing is fixed or shared.
    let second = printed_logins(&printed);
    assert_eq!(second.len(), first.len());
    assert!(first.iter().zip(&second).all(|(a, b)| a.0 == b.0 && a.1 != b.1));

    if let Some(pg) = testing::postgres().await {
        let (child, addr, printed) = start_demo(&["--db", &pg.url]);
        check_health(&addr, "postgres");
        drop(child);
        assert!(printed.contains("已载入演示数据"), "{printed}");
        pg.cleanup().await;
    }
}

#[tokio::test]
async fn the_demo_dataset_passes_every_registry_rule_on_every_backend() {
    for db in testing::all_backends().await {
        let report = dangjian_cli::demo::load(&db.store).await.unwrap();
        let entities = report.entities.unwrap();
        assert_eq!((entities.updated, entities.unchanged), (0, 0));
        let (units, orgs, instructors) = dangjian_cli::demo::counts(&db.store).await.unwrap();
        assert_eq!(units as usize, entities.created);
        assert!(units >= 40 && orgs >= 15 && instructors >= 5, "{units} {orgs} {instructors}");
        // Loading again leaves everything as it is.
        let again = dangjian_cli::demo::load(&db.store).await.unwrap();
        assert!(!again.loaded_anything());
        let xpcc = db.store.entity_by_code("TD-XJ-0001").await.unwrap();
        assert_eq!(xpcc.region_code, "659001");
        assert_eq!(db.store.region_lineage("659001").await.unwrap()[0].code, "66");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bench_import_reports_throughput_on_a_small_run() {
    let db = testing::sqlite().await;
    let out = dangjian(&["--lang", "en", "bench", "import", "--rows", "300", "--db", &db.url]);
    assert_exit(&out, 0, "bench");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("first import") && stdout.contains("300 created"), "{stdout}");
    assert!(stdout.contains("re-import") && stdout.contains("300 unchanged"), "{stdout}");
    let out = dangjian(&["bench", "import", "--rows", "300", "--db", &db.url]);
    assert_exit(&out, 2, "bench refuses a database that holds units");
    db.cleanup().await;
}
