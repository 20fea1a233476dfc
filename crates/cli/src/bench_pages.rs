//! `dangjian bench pages`: what a user waits for. Serves the real app in this process on a loopback
//! port, signs in (sessions made in the store) as a nation-, a province- (44) and a county-scoped
//! (440103) cadre, a platform-chain committee (the largest chain), the three administrators and nobody,
//! and times every GET route of the route tables (`dangjian_web::route_table::get_routes`) with real ids
//! from each principal's scope and the filters a cadre uses — region, sector, tier, text search, a page
//! deep into a list. A route the benchmark cannot fill in fails the run (and the unit test below), so a
//! new route is timed from the day it is added.
//!
//! Each URL is requested once to warm up, then `--runs` times; requests a principal may not make (401,
//! 403, 404 for out-of-scope objects, sign-in redirects) are counted, not timed. Targets: dashboards
//! (home, region pages, `/coverage`, `/api/v1/coverage`) p99 ≤ 30 ms; every other route p99 ≤ 100 ms;
//! whole-registry downloads (exports) are timed for the county only and reported, not held to a target.

use crate::args::{BenchPagesArgs, Lang};
use crate::timing::{ms, percentile};
use anyhow::{bail, Context};
use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::stations::{StationDraft, StationInput};
use dangjian_domain::EntityKind;
use dangjian_security::token::{generate_session_id, hash_token, NewApiToken};
use dangjian_store::access::AccessFilter;
use dangjian_store::accounts::Holder;
use dangjian_store::cases::{InboxFilter, NewCase};
use dangjian_store::entities::EntityFilter;
use dangjian_store::instructors::InstructorFilter;
use dangjian_store::organizations::OrgFilter;
use dangjian_store::stations::StationFilter;
use dangjian_store::{Paging, Store};
use dangjian_web::rate_limit::{Quota, RateLimitConfig};
use dangjian_web::AppState;
use sqlx::Row;
use std::io::Write as _;
use std::time::{Duration, Instant};

/// The county of the county-scoped cadre (广州市荔湾区) and the province of the provincial one.
const COUNTY: &str = "440103";
const PROVINCE: &str = "44";
/// A page deep into a list (offset 9,950 at 50 a page).
const DEEP_PAGE: u32 = 200;

/// Who signs in.
struct Principal {
    name: &'static str,
    /// Session cookie; `None` for the anonymous visitor.
    cookie: Option<String>,
    access: AccessFilter,
    samples: Samples,
}

/// Ids and codes inside one principal's scope that fill the path templates.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub platform: Option<i64>,
    pub site: Option<i64>,
    pub organization: Option<i64>,
    pub instructor: Option<i64>,
    pub station: Option<i64>,
    pub case: Option<i64>,
    pub tracking_code: Option<String>,
    /// Region codes of the principal's scope: its own region first, then ones below it.
    pub regions: Vec<String>,
    pub user: Option<i64>,
    pub token: Option<i64>,
    pub service: Option<String>,
}

/// What one URL is: the route it exercises and the target it is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub route: String,
    pub url: String,
    pub target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Dashboard,
    Route,
    /// A whole-scope download: reported, timed for the county only.
    Download,
}

impl Target {
    fn millis(self) -> Option<f64> {
        match self {
            Self::Dashboard => Some(30.0),
            Self::Route => Some(100.0),
            Self::Download => None,
        }
    }
}

const DASHBOARDS: [&str; 5] = ["/", "/regions", "/regions/{code}", "/coverage", "/api/v1/coverage"];
const DOWNLOADS: [&str; 4] =
    ["/api/v1/exports/{kind}", "/api/v1/gaps/export", "/api/v1/cases/stats/export", "/admin/audit/export"];

/// The query strings a cadre uses on a list or dashboard route (`{region}` is the scope's second region).
fn query_variants(route: &str) -> &'static [&'static str] {
    match route {
        "/entities" | "/api/v1/entities" => {
            &["", "?region={region}", "?sector=courier", "?kind=site", "?q=快递", "?q=速达", "?page={deep}"]
        }
        "/organizations"
        | "/api/v1/organizations"
        | "/instructors"
        | "/api/v1/instructors"
        | "/stations"
        | "/api/v1/stations" => &["", "?region={region}", "?q=党", "?page={deep}"],
        "/regions/{code}" => &["", "?page=20"],
        "/coverage" | "/api/v1/coverage" => &["", "?region={region}", "?sector=courier", "?tier=site"],
        "/coverage/gaps" | "/api/v1/gaps" => &["", "?region={region}", "?page={deep}"],
        "/api/v1/coverage/trend" | "/cases/stats" | "/api/v1/cases/stats" => &["", "?region={region}"],
        "/api/v1/entities/{id}/chain" | "/entities/{id}" => &["", "?q=站"],
        "/api/v1/regions" => &["", "?parent={region}", "?q=朝阳"],
        "/stations/near" => &["?district=荔湾区"],
        "/api/v1/stations/nearest" => &["?lat=23.12&lng=113.24"],
        "/open311/v2/requests.json" => &["?service_request_id={tracking}"],
        "/dues/calculator" | "/api/v1/dues/calculate" => {
            &["?category=wage&monthly_income=4700", "?category=gig&previous_quarter=4000,6000,8000"]
        }
        _ => &[""],
    }
}

/// The concrete URLs of `route` for a principal with `samples`; `Ok(vec![])` when the principal's scope
/// holds nothing to fill it with (no case in a chain's scope, say); an error for a template this
/// benchmark does not know how to fill.
pub fn probes(route: &str, s: &Samples) -> anyhow::Result<Vec<Probe>> {
    let target = if DASHBOARDS.contains(&route) {
        Target::Dashboard
    } else if DOWNLOADS.contains(&route) {
        Target::Download
    } else {
        Target::Route
    };
    let id = |v: Option<i64>| v.map(|i| vec![i.to_string()]).unwrap_or_default();
    let starts = |p: &str| route.starts_with(p);
    let fills: Vec<String> = if !route.contains('{') {
        vec![String::new()]
    } else if route.contains("{id}") {
        if starts("/entities/") || starts("/api/v1/entities/") {
            [s.platform, s.site].iter().flatten().map(i64::to_string).collect()
        } else if starts("/coverage/platforms/") {
            id(s.platform)
        } else if starts("/organizations/") || starts("/api/v1/organizations/") {
            id(s.organization)
        } else if starts("/instructors/") || starts("/api/v1/instructors/") {
            id(s.instructor)
        } else if starts("/stations/") || starts("/api/v1/stations/") {
            id(s.station)
        } else if starts("/cases/") || starts("/api/v1/cases/") {
            id(s.case)
        } else if starts("/admin/users/") {
            id(s.user)
        } else if starts("/admin/tokens/") {
            id(s.token)
        } else if starts("/open311/v2/requests/") {
            s.tracking_code.iter().map(|c| format!("{c}.json")).collect()
        } else {
            bail!("bench pages: no sample for {{id}} in {route}: teach crates/cli/src/bench_pages.rs this route");
        }
    } else if route.contains("{code}") {
        if starts("/regions/") || starts("/api/v1/regions/") {
            s.regions.iter().take(3).cloned().collect()
        } else if starts("/api/v1/sectors/") {
            vec!["courier".into()]
        } else if starts("/lang/") {
            vec!["en".into()]
        } else if starts("/open311/v2/services/") {
            s.service.iter().map(|c| format!("{c}.json")).collect()
        } else if starts("/track/") || starts("/api/v1/cases/track/") {
            s.tracking_code.iter().cloned().collect()
        } else {
            bail!("bench pages: no sample for {{code}} in {route}: teach crates/cli/src/bench_pages.rs this route");
        }
    } else if route.contains("{kind}") {
        vec!["entities".into()]
    } else if route.contains("{token}") {
        s.tracking_code.iter().map(|c| format!("{c}.json")).collect()
    } else {
        bail!("bench pages: no sample for the parameters of {route}: teach crates/cli/src/bench_pages.rs this route");
    };
    let region = s.regions.get(1).or(s.regions.first()).cloned().unwrap_or_else(|| PROVINCE.into());
    let mut out = Vec::new();
    for fill in fills {
        let path = if fill.is_empty() {
            route.to_owned()
        } else {
            let start = route.find('{').unwrap_or(route.len());
            let end = route[start..].find('}').map_or(route.len(), |e| start + e + 1);
            format!("{}{fill}{}", &route[..start], &route[end..])
        };
        for q in query_variants(route) {
            let q = q
                .replace("{region}", &region)
                .replace("{deep}", &DEEP_PAGE.to_string())
                .replace("{tracking}", s.tracking_code.as_deref().unwrap_or(""));
            out.push(Probe { route: route.to_owned(), url: format!("{path}{q}"), target });
        }
    }
    Ok(out)
}

/// A user holding `grants` (made once, kept for later runs) with a fresh signed-in session.
async fn sign_in(store: &Store, username: &str, grants: &[Grant]) -> anyhow::Result<(i64, String)> {
    let user = match store.user_by_username(username).await? {
        Some(u) => u,
        None => {
            // Nobody signs in with this password: sessions are made here.
            let hash = dangjian_security::password::hash_password(&generate_session_id())
                .map_err(|e| anyhow::anyhow!("hashing a password: {e:?}"))?;
            let u = store.create_user(username, username, &hash, false).await?;
            for g in grants {
                store.add_grant(Holder::User(u.id), g, None).await?;
            }
            u
        }
    };
    let session = generate_session_id();
    let now = chrono::Utc::now();
    let text = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    store
        .create_session(
            &hash_token(&session),
            user.id,
            &generate_session_id(),
            &text(now + chrono::Duration::hours(12)),
            true,
            None,
            &text(now),
        )
        .await?;
    Ok((user.id, format!("{}={session}", dangjian_web::auth::SESSION_COOKIE)))
}

async fn scalar_i64(store: &Store, sql: &str) -> anyhow::Result<Option<i64>> {
    let row = sqlx::query(sql).fetch_optional(store.pool()).await.with_context(|| sql.to_owned())?;
    Ok(match row {
        Some(r) => r.try_get::<Option<i64>, _>(0)?,
        None => None,
    })
}

/// Departments, cases and stations for the routes that show them, when the database has none
/// (`generate` makes none): two social work departments, a case in each, a station in each county.
async fn ensure_services(store: &Store) -> anyhow::Result<()> {
    let departments = store.departments().await?;
    for (code, name, region) in
        [("BENCH-GD-SW", "广东省委社会工作部（基准）", PROVINCE), ("BENCH-LW-SW", "荔湾区委社会工作部（基准）", COUNTY)]
    {
        if !departments.iter().any(|d| d.code == code) {
            store.create_department(code, name, "social_work", region).await?;
        }
    }
    if scalar_i64(store, "SELECT COUNT(*) FROM cases").await?.unwrap_or(0) == 0 {
        for region in [COUNTY, "440305"] {
            let case = NewCase {
                category: "wage_arrears".into(),
                sector: Some("courier".into()),
                region_code: region.into(),
                description: "基准测试诉求：连续两个月工资未按时发放。".into(),
                ..Default::default()
            };
            store.submit_case(&case, &CaseSettings::default(), chrono::Utc::now()).await?;
        }
    }
    if scalar_i64(store, "SELECT COUNT(*) FROM stations").await?.unwrap_or(0) == 0 {
        for (code, region, lat, lng) in
            [("BENCH-LW-1", COUNTY, "23.125", "113.244"), ("BENCH-NS-1", "440305", "22.533", "113.930")]
        {
            let input = StationInput {
                code: Some(code.into()),
                name: Some(format!("基准驿站{code}")),
                operator_department: Some("区总工会".into()),
                address: Some("基准路1号".into()),
                region_code: Some(region.into()),
                latitude: Some(lat.into()),
                longitude: Some(lng.into()),
                amenities: vec!["drinking_water".into()],
                opening_hours: Some("24h".into()),
                ..Default::default()
            };
            let draft = StationDraft::parse(&input).map_err(|e| anyhow::anyhow!("bench station: {e:?}"))?;
            store.create_station(&draft, &AccessFilter::unrestricted()).await?;
        }
    }
    Ok(())
}

async fn first_id<T>(page: dangjian_store::Page<T>, id: impl Fn(&T) -> i64) -> Option<i64> {
    page.items.first().map(id)
}

/// Samples inside `access`; `regions` are the scope's own region and ones below it.
async fn samples(store: &Store, access: &AccessFilter, regions: Vec<String>) -> anyhow::Result<Samples> {
    let one = || Paging::new(Some(1), Some(1));
    let of_kind = |k| EntityFilter { kind: Some(k), ..Default::default() };
    let case = store.case_inbox(access, &InboxFilter::default(), one()).await?.items.into_iter().next();
    Ok(Samples {
        platform: first_id(store.list_entities(&of_kind(EntityKind::Platform), one(), access).await?, |e| e.id).await,
        site: first_id(store.list_entities(&of_kind(EntityKind::Site), one(), access).await?, |e| e.id).await,
        organization: first_id(store.list_organizations(&OrgFilter::default(), one(), access).await?, |o| o.id).await,
        instructor: first_id(store.list_instructors(&InstructorFilter::default(), one(), access).await?, |i| i.id)
            .await,
        station: first_id(store.list_stations(&StationFilter::default(), one(), access).await?, |s| s.id).await,
        case: case.as_ref().map(|c| c.id),
        tracking_code: case.map(|c| c.tracking_code),
        regions,
        ..Default::default()
    })
}

/// The platform heading the most units.
async fn largest_chain(store: &Store) -> anyhow::Result<i64> {
    scalar_i64(store, "SELECT root_id FROM entities GROUP BY root_id ORDER BY COUNT(*) DESC, root_id LIMIT 1")
        .await?
        .context("the database has no units: load it with `dangjian generate --profile national` first")
}

/// One timed URL.
struct Outcome {
    principal: &'static str,
    probe: Probe,
    status: u16,
    bytes: usize,
    samples: Vec<Duration>,
}

pub async fn run(args: &BenchPagesArgs, lang: Lang) -> anyhow::Result<()> {
    let store = crate::commands::open(&args.db.db, lang).await?;
    crate::commands::require_schema(&store, &args.db.db, lang).await?;
    let units = scalar_i64(&store, "SELECT COUNT(*) FROM entities").await?.unwrap_or(0);
    if units == 0 {
        bail!("the database has no units: load it with `dangjian generate --profile national` first");
    }
    let loose = Quota::per_minute(u32::MAX / 2);
    let limits =
        RateLimitConfig { login: loose, anonymous: loose, public: loose, submission: loose, ..Default::default() };
    let state = AppState::new(store.clone(), crate::keys::required(lang)?).with_rate_limits(limits);
    let store = state.store.clone();
    ensure_services(&store).await?;
    let started = Instant::now();
    state.coverage.catch_up().await?;
    println!(
        "database: {}; {units} units; coverage index built in {:.1} s; {} CPU cores; {} timed runs per URL",
        store.kind().as_str(),
        started.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |p| p.get()),
        args.runs
    );

    let chain = largest_chain(&store).await?;
    let county_path = store.region(COUNTY).await?.path;
    let region = |path: &str| Scope::Region { path: path.into() };
    let cadre = |scope: Scope| vec![Grant { role: Role::DepartmentCadre, scope }];
    let mut wanted: Vec<(&'static str, Vec<Grant>, Vec<String>)> = vec![
        ("nation", cadre(region("/")), vec![PROVINCE.into(), "4401".into(), COUNTY.into()]),
        ("province", cadre(region("/44/")), vec![PROVINCE.into(), "4401".into(), COUNTY.into()]),
        ("county", cadre(region(&county_path)), vec![COUNTY.into()]),
        (
            "chain",
            vec![Grant { role: Role::PlatformCommittee, scope: Scope::Chain { root_id: chain } }],
            vec![PROVINCE.into(), "4401".into(), COUNTY.into()],
        ),
    ];
    for (name, role) in [
        ("system_admin", Role::SystemAdmin),
        ("security_admin", Role::SecurityAdmin),
        ("audit_admin", Role::AuditAdmin),
    ] {
        wanted.push((name, vec![Grant { role, scope: region("/") }], vec![PROVINCE.into()]));
    }
    let chosen = |name: &str| args.principals.iter().any(|p| p == name || (p == "admins" && name.ends_with("_admin")));
    let mut principals = Vec::new();
    for (name, grants, regions) in wanted.into_iter().filter(|(n, _, _)| chosen(n)) {
        let (user, cookie) = sign_in(&store, &format!("bench.{name}"), &grants).await?;
        let access = AccessFilter::new(grants.iter().map(|g| g.scope.clone()));
        let mut samples = samples(&store, &access, regions).await?;
        samples.user = Some(user);
        if name == "chain" {
            samples.platform = Some(chain);
        }
        principals.push(Principal { name, cookie: Some(cookie), access, samples });
    }
    if chosen("anonymous") {
        let all = AccessFilter::unrestricted();
        let mut samples = samples(&store, &all, vec![PROVINCE.into()]).await?;
        samples.service = Some("wage_arrears".into());
        principals.push(Principal { name: "anonymous", cookie: None, access: all, samples });
    }
    // An API token for the token pages.
    let token = match store.list_tokens().await?.first() {
        Some(t) => t.id,
        None => store.create_token("bench", NewApiToken::generate().hash(), None).await?.id,
    };
    for p in principals.iter_mut() {
        p.samples.token = Some(token);
        p.samples.service.get_or_insert_with(|| "wage_arrears".into());
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = dangjian_web::app(state);
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()?;

    let routes: Vec<String> = dangjian_web::route_table::get_routes()
        .into_iter()
        .filter(|r| args.only.as_deref().is_none_or(|o| r.contains(o)))
        .collect();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut refused = 0usize;
    let mut no_sample: Vec<String> = Vec::new();
    for p in &principals {
        let _ = &p.access;
        for route in &routes {
            let probes = probes(route, &p.samples)?;
            if probes.is_empty() {
                no_sample.push(format!("{route} ({})", p.name));
            }
            for probe in probes {
                if probe.target == Target::Download && p.name != "county" {
                    continue;
                }
                let get = || {
                    let mut r = http.get(format!("{base}{}", probe.url));
                    if let Some(c) = &p.cookie {
                        r = r.header(reqwest::header::COOKIE, c);
                    }
                    r.send()
                };
                let warm = get().await.with_context(|| format!("GET {}", probe.url))?;
                let status = warm.status().as_u16();
                let bytes = warm.bytes().await?.len();
                if status >= 500 {
                    bail!("GET {} as {} answered {status}", probe.url, p.name);
                }
                if matches!(status, 401 | 403 | 404) || (status == 303 && p.cookie.is_none()) {
                    refused += 1;
                    continue;
                }
                let mut samples = Vec::with_capacity(args.runs as usize);
                for _ in 0..args.runs {
                    let t = Instant::now();
                    let r = get().await?;
                    r.bytes().await?;
                    samples.push(t.elapsed());
                }
                samples.sort_unstable();
                eprint!(".");
                let _ = std::io::stderr().flush();
                outcomes.push(Outcome { principal: p.name, probe, status, bytes, samples });
            }
        }
    }
    eprintln!();
    report(&outcomes, refused, &no_sample, args.json.as_deref())?;
    if args.load_seconds > 0 {
        let reads: Vec<(String, String)> = outcomes
            .iter()
            .filter(|o| o.probe.target != Target::Download && o.status == 200)
            .filter_map(|o| {
                let p = principals.iter().find(|p| p.name == o.principal)?;
                Some((p.cookie.clone().unwrap_or_default(), o.probe.url.clone()))
            })
            .collect();
        // wrk runs off the runtime's worker threads, which keep serving.
        let (base, seconds, connections) = (base.clone(), args.load_seconds, args.load_connections);
        tokio::task::spawn_blocking(move || mixed_load(&base, &reads, seconds, connections)).await??;
    }
    server.abort();
    Ok(())
}

/// A Lua string literal.
fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Runs `wrk` against the served app: every tenth request files a case (a write through the whole
/// stack), the others read the URLs in turn as their principals. Bounded by `seconds`; wrk stops itself.
fn mixed_load(base: &str, reads: &[(String, String)], seconds: u32, connections: u32) -> anyhow::Result<()> {
    if reads.is_empty() {
        bail!("no URL answered 200: nothing to load");
    }
    let mut script = String::from("local reads = {\n");
    for (cookie, url) in reads {
        script.push_str(&format!("  {{{}, {}}},\n", lua_string(cookie), lua_string(url)));
    }
    script.push_str(&format!(
        "}}\nlocal body = {}\n",
        lua_string(
            &serde_json::json!({"category": "wage_arrears", "sector": "courier", "region_code": COUNTY,
                "description": "负载测试诉求：工资未按时发放。"})
            .to_string()
        )
    ));
    script.push_str(
        r#"local n = 0
request = function()
  n = n + 1
  if n % 10 == 0 then
    return wrk.format("POST", "/api/v1/cases", {["Content-Type"] = "application/json"}, body)
  end
  local r = reads[(n % #reads) + 1]
  return wrk.format("GET", r[2], {["Cookie"] = r[1]})
end
"#,
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("mixed.lua");
    std::fs::write(&path, script)?;
    println!();
    println!(
        "mixed load: wrk, {connections} connections, 2 threads, {seconds} s; {} read URLs in turn, every tenth request \
         a case filed (POST /api/v1/cases)",
        reads.len()
    );
    let out = std::process::Command::new("wrk")
        .args([
            "-t",
            "2",
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--latency",
            "--timeout",
            "10s",
        ])
        .arg("-s")
        .arg(&path)
        .arg(base)
        .output()
        .context("running wrk (Debian package `wrk`)")?;
    if !out.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));
    Ok(())
}

fn report(
    outcomes: &[Outcome],
    refused: usize,
    no_sample: &[String],
    json: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    println!();
    println!("| URL | as | status | KiB | p50 ms | p99 ms | target | |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut missed = Vec::new();
    let mut lines = String::new();
    for o in outcomes {
        let (p50, p99) = (ms(percentile(&o.samples, 0.5)), ms(percentile(&o.samples, 0.99)));
        let target = o.probe.target.millis();
        let verdict = match target {
            Some(t) if p99 > t => {
                missed.push(format!("{} as {}: p99 {p99:.1} ms > {t} ms", o.probe.url, o.principal));
                "missed"
            }
            Some(_) => "met",
            None => "",
        };
        println!(
            "| `{}` | {} | {} | {:.0} | {p50:.1} | {p99:.1} | {} | {verdict} |",
            o.probe.url,
            o.principal,
            o.status,
            o.bytes as f64 / 1024.0,
            target.map_or_else(|| "download".to_owned(), |t| format!("≤ {t} ms")),
        );
        lines.push_str(&serde_json::to_string(&serde_json::json!({
            "route": o.probe.route, "url": o.probe.url, "principal": o.principal, "status": o.status,
            "bytes": o.bytes, "p50_ms": p50, "p99_ms": p99, "target_ms": target,
        }))?);
        lines.push('\n');
    }
    println!();
    println!(
        "{} URLs timed; {refused} requests refused as outside the principal's role or scope (not timed); \
         {} over target",
        outcomes.len(),
        missed.len()
    );
    for m in &missed {
        println!("  over target: {m}");
    }
    if !no_sample.is_empty() {
        println!("not timed, nothing in scope to fill the route with: {}", no_sample.join(", "));
    }
    if let Some(path) = json {
        std::fs::write(path, lines).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn full() -> Samples {
        Samples {
            platform: Some(1),
            site: Some(2),
            organization: Some(3),
            instructor: Some(4),
            station: Some(5),
            case: Some(6),
            tracking_code: Some("7K3M-Q9PXA".into()),
            regions: vec!["44".into(), "4401".into(), "440103".into()],
            user: Some(7),
            token: Some(8),
            service: Some("wage_arrears".into()),
        }
    }

    /// Every GET route of the tables is filled in with real samples, so a new route is timed — or this
    /// test names it.
    #[test]
    fn every_get_route_of_the_tables_has_urls() {
        let s = full();
        for route in dangjian_web::route_table::get_routes() {
            let probes = probes(&route, &s).unwrap();
            assert!(!probes.is_empty(), "{route}");
            for p in probes {
                assert!(!p.url.contains('{'), "{route} → {}", p.url);
                assert!(p.url.starts_with('/'), "{}", p.url);
            }
        }
    }

    #[test]
    fn lists_get_the_filters_a_cadre_uses_and_dashboards_their_target() {
        let s = full();
        let urls: Vec<String> = probes("/entities", &s).unwrap().into_iter().map(|p| p.url).collect();
        assert!(urls.contains(&"/entities?region=4401".to_owned()), "{urls:?}");
        assert!(urls.contains(&"/entities?page=200".to_owned()), "{urls:?}");
        assert!(urls.iter().any(|u| u.contains("q=")), "{urls:?}");
        let regions: Vec<Probe> = probes("/regions/{code}", &s).unwrap();
        assert!(regions.iter().all(|p| p.target == Target::Dashboard));
        assert!(regions.iter().any(|p| p.url == "/regions/440103"));
        assert_eq!(probes("/api/v1/exports/{kind}", &s).unwrap()[0].target, Target::Download);
        assert!(probes("/cases/{id}", &Samples::default()).unwrap().is_empty());
        assert!(probes("/nowhere/{thing}", &s).is_err());
    }
}
