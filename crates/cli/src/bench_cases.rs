//! `dangjian bench cases`: case-submission throughput on a migrated scratch database, through the store
//! and end to end over HTTP (`POST /api/v1/cases` against the app served in this process), at
//! concurrency 1 and 8, with a contact (encrypted per row) and — the alternative in the same run —
//! without one. The variants take turns in rounds, so that outside load weighs on all of them alike.
//! Prints cases/s and p50/p99 latency per variant, and the ratios.

use crate::args::{BenchCasesArgs, Lang};
use crate::timing::{ms, percentiles};
use anyhow::{bail, Context};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::DEFAULT_CATEGORIES;
use dangjian_security::field_cipher::Keyring;
use dangjian_store::cases::NewCase;
use dangjian_store::Store;
use dangjian_web::rate_limit::{Quota, RateLimitConfig};
use dangjian_web::AppState;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The department every benchmark case ends up with (Guangdong, catch-all kind).
const DEPARTMENT: (&str, &str, &str, &str) = ("BENCH-GD-SW", "广东省委社会工作部（基准）", "social_work", "44");
/// Counties of Shenzhen the cases are filed in.
const REGIONS: [&str; 4] = ["440303", "440304", "440305", "440306"];

/// The `i`-th case of a run: categories and regions in turn, a contact if asked for.
fn case(i: usize, contact: bool) -> NewCase {
    NewCase {
        category: DEFAULT_CATEGORIES[i % DEFAULT_CATEGORIES.len()].0.into(),
        sector: Some("courier".into()),
        region_code: REGIONS[i % REGIONS.len()].into(),
        description: format!("基准测试诉求 {i}：连续三个月工资未按时发放，站点负责人拒绝说明原因。"),
        contact: contact.then(|| format!("1380000{:04}", i % 10_000)),
        ..Default::default()
    }
}

/// One variant: through the store or over HTTP, how many concurrent callers, with a contact or not.
#[derive(Debug, Clone, Copy)]
struct Variant {
    http: bool,
    workers: usize,
    contact: bool,
}

impl Variant {
    fn name(self) -> String {
        format!(
            "{}, concurrency {}, {}",
            if self.http { "HTTP" } else { "store" },
            self.workers,
            if self.contact { "with contact" } else { "no contact" }
        )
    }
}

/// The six variants, in the order of the table.
const VARIANTS: [Variant; 6] = [
    Variant { http: false, workers: 1, contact: true },
    Variant { http: false, workers: 8, contact: true },
    Variant { http: false, workers: 1, contact: false },
    Variant { http: true, workers: 1, contact: true },
    Variant { http: true, workers: 8, contact: true },
    Variant { http: true, workers: 1, contact: false },
];

/// Rounds the variants take turns in (every other one in reverse order), so that load from elsewhere,
/// the growing tables and SQLite's checkpoints weigh on all of them alike.
const ROUNDS: usize = 4;

/// One variant's outcome, summed over the rounds.
#[derive(Default)]
struct Run {
    cases: usize,
    wall: Duration,
    samples: Vec<Duration>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.cases as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Files cases `from..to` with `workers` concurrent callers of `file`, timing each call.
async fn measure<F, Fut>(run: &mut Run, from: usize, to: usize, workers: usize, file: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let file = Arc::new(file);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let file = file.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for i in (from + w..to).step_by(workers) {
                let t = Instant::now();
                file(i).await?;
                samples.push(t.elapsed());
            }
            anyhow::Ok(samples)
        }));
    }
    for t in tasks {
        run.samples.extend(t.await.context("a benchmark task failed")??);
    }
    run.wall += started.elapsed();
    run.cases += to - from;
    Ok(())
}

async fn ensure_department(store: &Store) -> anyhow::Result<()> {
    let (code, name, kind, region) = DEPARTMENT;
    if !store.departments().await?.iter().any(|d| d.kind == kind && d.region_code == region) {
        store.create_department(code, name, kind, region).await.context("creating the benchmark department")?;
    }
    Ok(())
}

pub async fn run(args: &BenchCasesArgs, lang: Lang) -> anyhow::Result<()> {
    let store = crate::commands::open(&args.db.db, lang).await?;
    crate::commands::require_schema(&store, &args.db.db, lang).await?;
    if store.departments().await?.iter().any(|d| d.code != DEPARTMENT.0) && !args.allow_nonempty {
        bail!("{}", lang.t("cli.bench_departments_exist", &[]));
    }
    // Keys made for this run only: the cases it files are test data.
    let keys = Arc::new(Keyring::generate());
    let store = store.with_keys(keys.clone());
    ensure_department(&store).await?;
    let n = args.cases as usize;
    let kind = format!("{:?}", store.kind());
    println!(
        "database: {kind}; {n} cases per variant; {} CPU cores",
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );

    // End to end: the real app (routing, gate, rate limits, JSON, encryption) on a loopback port.
    let loose = Quota::per_minute(u32::MAX / 2);
    let state = AppState::new(store.clone(), Keyring::generate()).with_rate_limits(RateLimitConfig {
        login: loose,
        anonymous: loose,
        public: loose,
        submission: loose,
        ..Default::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/api/v1/cases", listener.local_addr()?);
    let app = dangjian_web::app(state);
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    let http = reqwest::Client::builder().pool_max_idle_per_host(16).build()?;

    let mut runs: Vec<Run> = VARIANTS.iter().map(|_| Run::default()).collect();
    for round in 0..ROUNDS {
        let (from, to) = (n * round / ROUNDS, n * (round + 1) / ROUNDS);
        // Every other round backwards, so that no variant always follows the same one.
        let mut order: Vec<(&Variant, &mut Run)> = VARIANTS.iter().zip(runs.iter_mut()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for (v, run) in order {
            let contact = v.contact;
            if v.http {
                let (http, url) = (http.clone(), url.clone());
                measure(run, from, to, v.workers, move |i| {
                    let (http, url) = (http.clone(), url.clone());
                    async move {
                        let c = case(i, contact);
                        let body = serde_json::json!({"category": c.category, "sector": c.sector,
                            "region_code": c.region_code, "description": c.description, "contact": c.contact});
                        let r = http.post(&url).json(&body).send().await?;
                        if r.status() != reqwest::StatusCode::CREATED {
                            bail!("POST /api/v1/cases answered {}: {}", r.status(), r.text().await.unwrap_or_default());
                        }
                        Ok(())
                    }
                })
                .await?;
            } else {
                let s = store.clone();
                measure(run, from, to, v.workers, move |i| {
                    let s = s.clone();
                    async move {
                        s.submit_case(&case(i, contact), &CaseSettings::default(), chrono::Utc::now()).await?;
                        Ok(())
                    }
                })
                .await?;
            }
        }
    }
    server.abort();

    println!();
    println!("| variant | cases/s | p50 | p99 |");
    println!("|---|---|---|---|");
    for (v, r) in VARIANTS.iter().zip(runs.iter_mut()) {
        let (p50, p99) = percentiles(std::mem::take(&mut r.samples));
        println!("| {} | {:.0} | {:.2} ms | {:.2} ms |", v.name(), r.per_second(), ms(p50), ms(p99));
    }
    let ratio = |a: usize, b: usize| runs[a].per_second() / runs[b].per_second();
    println!();
    println!("store: concurrency 8 ÷ 1 = {:.2}×; without ÷ with contact = {:.2}×", ratio(1, 0), ratio(2, 0));
    println!("HTTP:  concurrency 8 ÷ 1 = {:.2}×; without ÷ with contact = {:.2}×", ratio(4, 3), ratio(5, 3));
    println!("HTTP ÷ store (concurrency 1, with contact) = {:.2}×", ratio(3, 0));
    store.close().await;
    Ok(())
}
