//! Rate limits per client address (OWASP ASVS 5.0 V6.3 / V2.4 anti-automation; GB/T 22239-2019
//! 8.1.4.1 b) on login failure handling): strict on signing in, moderate on every other anonymous
//! request, generous on health, the API document and static files, none once signed in (accounts have
//! their own lockout). Filing a case ([`is_filing`]) also counts against a lower quota of its own, signed
//! in or not. Over the limit the answer is `429 Too Many Requests` with `Retry-After`.
//!
//! Token buckets in memory, one per (class, client), kept as the generic cell rate algorithm (one
//! timestamp per bucket, exact integer arithmetic): a client may spend a whole quota at once and
//! regains it evenly over the window. Memory is bounded: beyond [`RateLimitConfig::max_clients`]
//! buckets, idle ones (refilled to full, so equal to a fresh bucket) are swept out, at most once a
//! second; until there is room again, new clients share one overflow bucket per class.
//!
//! The client is the peer address of the connection; IPv6 clients are counted by their /64, since one
//! host commonly holds a whole /64. `X-Forwarded-For` is believed only from a trusted proxy
//! ([`RateLimitConfig::trusted_proxies`]), read right to left, skipping the trusted proxies themselves.
//! Time comes from the application clock, so tests step over a window without sleeping.
//!
//! Why not `tower_governor`: its limiter is fixed to the wall clock (tests would have to sleep), it
//! does not bound its memory by itself, and its forwarded-header extractor trusts the header from any
//! peer. This is the small part of it we need.

use crate::auth::Actor;
use crate::pages::PageCtx;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard};

/// `burst` requests per `window`, regained evenly over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub burst: u32,
    pub window: Duration,
}

impl Quota {
    pub const fn per_minute(burst: u32) -> Self {
        Self { burst, window: Duration::minutes(1) }
    }

    pub const fn per_hour(burst: u32) -> Self {
        Self { burst, window: Duration::hours(1) }
    }

    /// The time in which one request is regained.
    fn interval(self) -> Duration {
        Duration::milliseconds(self.window.num_milliseconds().max(1) / i64::from(self.burst.max(1)))
    }

    /// How far ahead of now a bucket's schedule may run: the burst less the request being made. Taken
    /// from the window, not from the rounded interval, so that a quota of more requests than milliseconds
    /// (interval 0) still tolerates requests whose clock readings reach the lock out of order.
    fn tolerance(self) -> Duration {
        self.window - self.interval()
    }
}

/// The limits in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Signing in (`/login` and everything under it): password guessing across accounts.
    pub login: Quota,
    /// Any other request from someone not signed in.
    pub anonymous: Quota,
    /// Health checks, the OpenAPI document and static files.
    pub public: Quota,
    /// Filing a case ([`is_filing`]), signed in or not, on top of the request's own class: a worker
    /// files a handful of cases, a flood of them is abuse.
    pub submission: Quota,
    /// Reverse proxies whose `X-Forwarded-For` is believed. Empty: the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// Most buckets held per class before idle ones are swept and new clients share one.
    pub max_clients: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            login: Quota::per_minute(10),
            anonymous: Quota::per_minute(120),
            public: Quota::per_minute(600),
            submission: Quota::per_hour(10),
            trusted_proxies: Vec::new(),
            max_clients: 100_000,
        }
    }
}

/// The environment variable listing the reverse proxies whose `X-Forwarded-For` is believed.
pub const TRUSTED_PROXIES_ENV: &str = "DANGJIAN_TRUSTED_PROXIES";

/// Parses a list of proxy addresses (`127.0.0.1, ::1`; commas or whitespace between), naming the first
/// entry that is not an IP address.
pub fn parse_trusted_proxies(text: &str) -> Result<Vec<IpAddr>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .map(|e| e.parse::<IpAddr>().map_err(|_| e.to_owned()))
        .collect()
}

/// Which quota a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Login,
    Anonymous,
    Public,
    /// Filing a case (counted besides the class above).
    Submission,
    /// Signed in: no limit here.
    Unlimited,
}

/// The ways to file a case: the API, Open311 and the worker's phone page. Each also counts against
/// [`RateLimitConfig::submission`].
pub const FILING: &[&str] = &["/api/v1/cases", "/open311/v2/requests.json", "/report"];

/// Whether a request files a case.
pub fn is_filing(method: &Method, path: &str) -> bool {
    *method == Method::POST && FILING.contains(&path)
}

/// Whether `path` is `prefix` or below it (`/login`, `/login/totp`, not `/loginx`).
fn at_or_below(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The class of a request. Submitting a login form counts as signing in whoever sends it; everything
/// else is free once signed in.
pub fn classify(method: &Method, path: &str, authenticated: bool) -> Class {
    if *method == Method::POST && at_or_below(path, "/login") {
        return Class::Login;
    }
    if authenticated {
        return Class::Unlimited;
    }
    let public = at_or_below(path, "/api/v1/health")
        || at_or_below(path, "/healthz")
        || path == "/api/openapi.json"
        || at_or_below(path, "/static");
    if public {
        Class::Public
    } else {
        Class::Anonymous
    }
}

/// Who a bucket belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Ip(IpAddr),
    /// No peer address is known (an app driven without `ConnectInfo`, as in some tests): one bucket.
    Unknown,
    /// New clients while the table is full.
    Overflow,
}

/// An address as counted: IPv4 as is (an IPv4-mapped IPv6 address too), IPv6 by its /64.
pub fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the rightmost address in
/// `X-Forwarded-For` that is not itself a trusted proxy. Unparseable entries end the walk (a client could
/// have written anything left of what our proxy appended). Also what the audit log should record as the
/// client address behind a proxy.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| normalize(*t) == normalize(*ip) || t == ip);
    let mut client = peer;
    if is_trusted(&peer) {
        for entry in forwarded_for.unwrap_or_default().rsplit(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some(ip) = parse_forwarded(entry) else { break };
            client = ip;
            if !is_trusted(&ip) {
                break;
            }
        }
    }
    client
}

/// The bucket of a request's client ([`client_ip`], counted by [`normalize`]); no peer, one bucket.
pub fn client_key(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> ClientKey {
    match peer {
        Some(peer) => ClientKey::Ip(normalize(client_ip(peer, forwarded_for, trusted))),
        None => ClientKey::Unknown,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:5678`).
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    entry.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// The decision on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over the limit: try again in this many seconds (at least 1).
    Limited {
        retry_after_secs: u64,
    },
}

/// A bucket as the generic cell rate algorithm keeps it: the time at which it would be full again if
/// nothing more came ("theoretical arrival time"). A fresh bucket is full now.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    full_at: DateTime<Utc>,
}

impl Bucket {
    fn full(now: DateTime<Utc>) -> Self {
        Self { full_at: now }
    }

    /// Whether the bucket is full again (so forgetting it changes nothing).
    fn is_idle(&self, now: DateTime<Utc>) -> bool {
        self.full_at <= now
    }

    fn take(&mut self, quota: Quota, now: DateTime<Utc>) -> Verdict {
        let full_at = self.full_at.max(now);
        let ahead = full_at - now;
        if ahead > quota.tolerance() {
            let wait_ms = (ahead - quota.tolerance()).num_milliseconds();
            let secs = u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1);
            return Verdict::Limited { retry_after_secs: secs };
        }
        self.full_at = full_at + quota.interval();
        Verdict::Allow
    }
}

#[derive(Debug, Default)]
struct Table {
    buckets: HashMap<(Class, ClientKey), Bucket>,
    next_sweep: Option<DateTime<Utc>>,
}

/// The buckets of one application.
#[derive(Debug, Default)]
pub struct RateLimiter {
    config: RateLimitConfig,
    table: Mutex<Table>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        Self { config, table: Mutex::default() }
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one request of `class` from `client` at `now`.
    pub fn check(&self, class: Class, client: ClientKey, now: DateTime<Utc>) -> Verdict {
        let Some(quota) = quota_for(&self.config, class) else { return Verdict::Allow };
        let mut table = self.lock();
        let mut key = (class, client);
        if !table.buckets.contains_key(&key) && table.buckets.len() >= self.config.max_clients {
            if table.next_sweep.is_none_or(|t| now >= t) {
                table.buckets.retain(|(_, k), b| *k == ClientKey::Overflow || !b.is_idle(now));
                table.next_sweep = Some(now + Duration::seconds(1));
            }
            if table.buckets.len() >= self.config.max_clients {
                key = (class, ClientKey::Overflow);
            }
        }
        table.buckets.entry(key).or_insert_with(|| Bucket::full(now)).take(quota, now)
    }

    /// How many buckets are held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn quota_for(config: &RateLimitConfig, class: Class) -> Option<Quota> {
    match class {
        Class::Login => Some(config.login),
        Class::Anonymous => Some(config.anonymous),
        Class::Public => Some(config.public),
        Class::Submission => Some(config.submission),
        Class::Unlimited => None,
    }
}

/// The answer over the limit: the API's JSON error for `/api/`, an error page otherwise.
fn too_many(ctx: &PageCtx, path: &str, retry_after_secs: u64) -> Response {
    let said = crate::i18n::Message::new("api.rate_limited").arg("secs", retry_after_secs);
    let message = ctx.lang.say(&said);
    let mut response = if path.starts_with(crate::open311::PREFIX) {
        crate::open311::error_response(StatusCode::TOO_MANY_REQUESTS, &message)
    } else if path.starts_with("/api/") {
        crate::error::ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", said).into_response()
    } else {
        ctx.render_status(StatusCode::TOO_MANY_REQUESTS, "error.html", minijinja::context! { status => 429, message })
    };
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// The layer, placed inside actor resolution (it needs to know whether the request is signed in):
/// `axum::middleware::from_fn_with_state(state, rate_limit::layer)`.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let authenticated = req.extensions().get::<Actor>().is_some_and(Actor::is_authenticated);
    let path = req.uri().path().to_owned();
    let class = classify(req.method(), &path, authenticated);
    let filing = is_filing(req.method(), &path);
    if class == Class::Unlimited && !filing {
        return next.run(req).await;
    }
    let limiter = &state.rate_limits;
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded: Vec<&str> =
        req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
    let client = client_key(peer, forwarded.as_deref(), &limiter.config().trusted_proxies);
    let now = state.clock.now();
    let verdict = match limiter.check(class, client, now) {
        Verdict::Allow if filing => limiter.check(Class::Submission, client, now),
        v => v,
    };
    match verdict {
        Verdict::Allow => next.run(req).await,
        Verdict::Limited { retry_after_secs } => {
            tracing::warn!(?class, client = ?client, "rate limited");
            let (mut parts, _) = req.into_parts();
            let ctx = PageCtx::from_request_parts(&mut parts, &()).await.unwrap_or_else(|e| match e {});
            too_many(&ctx, &path, retry_after_secs)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn requests_are_classified_by_path_and_sign_in() {
        assert_eq!(classify(&Method::POST, "/login", false), Class::Login);
        assert_eq!(classify(&Method::POST, "/login/totp", true), Class::Login);
        assert_eq!(classify(&Method::GET, "/login", false), Class::Anonymous);
        assert_eq!(classify(&Method::POST, "/loginx", false), Class::Anonymous);
        assert_eq!(classify(&Method::GET, "/api/v1/health", false), Class::Public);
        assert_eq!(classify(&Method::GET, "/api/openapi.json", false), Class::Public);
        assert_eq!(classify(&Method::GET, "/static/app.css", false), Class::Public);
        assert_eq!(classify(&Method::GET, "/staticky", false), Class::Anonymous);
        assert_eq!(classify(&Method::GET, "/api/v1/entities", false), Class::Anonymous);
        assert_eq!(classify(&Method::GET, "/api/v1/entities", true), Class::Unlimited);
    }

    #[test]
    fn a_quota_is_spent_then_regained_over_the_window() {
        let limiter = RateLimiter::new(RateLimitConfig::default());
        let me = ClientKey::Ip(ip("203.0.113.7"));
        for _ in 0..10 {
            assert_eq!(limiter.check(Class::Login, me, at(0)), Verdict::Allow);
        }
        assert_eq!(limiter.check(Class::Login, me, at(0)), Verdict::Limited { retry_after_secs: 6 });
        assert_eq!(limiter.check(Class::Login, me, at(3)), Verdict::Limited { retry_after_secs: 3 });
        // Other clients and other classes have their own buckets.
        assert_eq!(limiter.check(Class::Login, ClientKey::Ip(ip("203.0.113.8")), at(3)), Verdict::Allow);
        assert_eq!(limiter.check(Class::Anonymous, me, at(3)), Verdict::Allow);
        assert_eq!(limiter.check(Class::Login, me, at(6)), Verdict::Allow);
        assert!(matches!(limiter.check(Class::Login, me, at(6)), Verdict::Limited { .. }));
        for _ in 0..10 {
            assert_eq!(limiter.check(Class::Login, me, at(70)), Verdict::Allow);
        }
        assert!(matches!(limiter.check(Class::Login, me, at(70)), Verdict::Limited { .. }));
        assert_eq!(limiter.check(Class::Unlimited, me, at(70)), Verdict::Allow);
    }

    #[test]
    fn filing_a_case_has_its_own_lower_quota() {
        for path in FILING {
            assert!(is_filing(&Method::POST, path), "{path}");
            assert!(!is_filing(&Method::GET, path), "{path}");
        }
        assert!(!is_filing(&Method::POST, "/api/v1/cases/track/7K3M-Q9PXA/actions"));
        assert!(!is_filing(&Method::POST, "/open311/v2/requests.xml"));
        let limiter = RateLimiter::new(RateLimitConfig::default());
        let me = ClientKey::Ip(ip("203.0.113.7"));
        for _ in 0..10 {
            assert_eq!(limiter.check(Class::Submission, me, at(0)), Verdict::Allow);
        }
        // One regained every six minutes.
        assert_eq!(limiter.check(Class::Submission, me, at(0)), Verdict::Limited { retry_after_secs: 360 });
        assert_eq!(limiter.check(Class::Anonymous, me, at(0)), Verdict::Allow);
        assert_eq!(limiter.check(Class::Submission, ClientKey::Ip(ip("203.0.113.8")), at(0)), Verdict::Allow);
        assert_eq!(limiter.check(Class::Submission, me, at(360)), Verdict::Allow);
        assert!(matches!(limiter.check(Class::Submission, me, at(360)), Verdict::Limited { .. }));
    }

    #[test]
    fn a_clock_going_backwards_gives_nothing_back() {
        let limiter = RateLimiter::new(RateLimitConfig { login: Quota::per_minute(1), ..Default::default() });
        let me = ClientKey::Unknown;
        assert_eq!(limiter.check(Class::Login, me, at(100)), Verdict::Allow);
        assert!(matches!(limiter.check(Class::Login, me, at(0)), Verdict::Limited { .. }));
        assert!(matches!(limiter.check(Class::Login, me, at(100)), Verdict::Limited { .. }));
        assert_eq!(limiter.check(Class::Login, me, at(160)), Verdict::Allow);
    }

    #[test]
    fn a_quota_finer_than_a_millisecond_allows_clock_readings_out_of_order() {
        // Concurrent requests read the clock before they take the lock, so a later reading can be counted
        // first. The benchmarks' loose quota (more requests than milliseconds in the window) once refused
        // the earlier one.
        let loose = Quota::per_minute(u32::MAX / 2);
        let limiter = RateLimiter::new(RateLimitConfig { anonymous: loose, ..Default::default() });
        let me = ClientKey::Unknown;
        let later = at(0) + Duration::milliseconds(5);
        assert_eq!(limiter.check(Class::Anonymous, me, later), Verdict::Allow);
        assert_eq!(limiter.check(Class::Anonymous, me, at(0)), Verdict::Allow);
        // The ordinary quotas keep their exact burst.
        let tight = Quota::per_minute(120);
        assert_eq!(tight.tolerance(), Duration::milliseconds(500 * 119));
    }

    #[test]
    fn memory_stays_bounded_and_idle_buckets_are_swept() {
        let limiter = RateLimiter::new(RateLimitConfig { max_clients: 3, ..Default::default() });
        let client = |n: u8| ClientKey::Ip(IpAddr::from([198, 51, 100, n]));
        for n in 0..3 {
            limiter.check(Class::Login, client(n), at(0));
        }
        // Full: a newcomer shares the overflow bucket (which may exceed the bound by one per class).
        for _ in 0..10 {
            assert_eq!(limiter.check(Class::Login, client(9), at(1)), Verdict::Allow);
        }
        assert!(matches!(limiter.check(Class::Login, client(10), at(1)), Verdict::Limited { .. }));
        assert_eq!(limiter.len(), 4);
        // A minute later the first three are idle and make room.
        assert_eq!(limiter.check(Class::Login, client(11), at(62)), Verdict::Allow);
        assert!(limiter.len() <= 3, "{}", limiter.len());
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy];
        let client = ClientKey::Ip(ip("203.0.113.7"));
        assert_eq!(client_key(Some(proxy), Some("203.0.113.7"), &trusted), client);
        // Whatever the client wrote on the left is ignored; our proxy appended the real address last.
        assert_eq!(client_key(Some(proxy), Some("1.1.1.1, 203.0.113.7"), &trusted), client);
        assert_eq!(client_key(Some(proxy), Some("203.0.113.7:4711, 10.0.0.2"), &trusted), client);
        assert_eq!(client_key(Some(proxy), Some("garbage, 203.0.113.7"), &trusted), client);
        assert_eq!(client_key(Some(proxy), None, &trusted), ClientKey::Ip(proxy));
        // From anyone else the header means nothing.
        assert_eq!(client_key(Some(ip("203.0.113.9")), Some("1.1.1.1"), &trusted), ClientKey::Ip(ip("203.0.113.9")));
        assert_eq!(client_key(Some(proxy), Some("1.1.1.1"), &[]), ClientKey::Ip(proxy));
        assert_eq!(client_key(None, Some("1.1.1.1"), &trusted), ClientKey::Unknown);
    }

    #[test]
    fn trusted_proxies_are_parsed_strictly() {
        assert_eq!(
            parse_trusted_proxies(" 127.0.0.1, ::1 10.0.0.2 "),
            Ok(vec![ip("127.0.0.1"), ip("::1"), ip("10.0.0.2")])
        );
        assert_eq!(parse_trusted_proxies(""), Ok(vec![]));
        assert_eq!(parse_trusted_proxies("127.0.0.1, 10.0.0.0/8"), Err("10.0.0.0/8".to_owned()));
    }

    #[test]
    fn ipv6_clients_count_by_their_slash_64() {
        let a = client_key(Some(ip("2001:db8:1:2:aaaa::1")), None, &[]);
        let b = client_key(Some(ip("2001:db8:1:2:bbbb::2")), None, &[]);
        let c = client_key(Some(ip("2001:db8:1:3::1")), None, &[]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(client_key(Some(ip("::ffff:203.0.113.7")), None, &[]), ClientKey::Ip(ip("203.0.113.7")));
    }
}
