//! The authorization matrix, generated from the router's own route tables: every API operation of the
//! OpenAPI document, every page route of `pages::page_routes()` and the app's own routes, asked by
//! anonymous and by every role, about an object inside the role's scope and one outside it — and the
//! answer must be the one in [`RULES`]. A route without a rule fails the test (and a rule without a
//! route too), so a new route cannot ship without deciding who may use it.
//!
//! The world: chain A (platform and franchisee) in Shenzhen's 南山区, food delivery, with an
//! organization and an instructor at the franchisee; chain B in Beijing's 朝阳区, courier, likewise.
//! Each role is granted a scope that reaches chain A and not chain B (the three administrators hold
//! the nationwide scope their role requires). A worker station run by each franchisee completes the
//! world. SQLite always, PostgreSQL too when DANGJIAN_TEST_PG is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use dangjian_domain::access::{Grant, Role, Scope};
use dangjian_domain::entity::EntityInput;
use dangjian_domain::instructor::{AssignmentInput, InstructorInput};
use dangjian_domain::org::OrganizationInput;
use dangjian_domain::services::cases::CaseAction;
use dangjian_domain::services::stations::{StationDraft, StationInput};
use dangjian_domain::{EntityDraft, InstructorDraft, OrganizationDraft};
use dangjian_security::token::{generate_session_id, hash_token};
use dangjian_store::accounts::Holder;
use dangjian_store::audit::AuditFilter;
use dangjian_store::cases::{CaseStep, NewCase};
use dangjian_store::testing::{all_backends, TestDb};
use dangjian_store::{AccessFilter, Paging, Store};
use dangjian_web::rate_limit::{Quota, RateLimitConfig};
use dangjian_web::AppState;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;
use support::SignedIn;

const PA: &str = "91350100M000100Y43";
const FA: &str = "9144030071526726XG";
const PB: &str = "91330100799655058B";
const FB: &str = "914403001922038216";
const FA_NAME: &str = "甲链南山加盟商";
/// The key of the Open311 client the matrix files with.
const MATRIX_OPEN311_KEY: &str = "dj_matrixOpen311Key0000000000000000000000000000";
const FB_NAME: &str = "乙链朝阳加盟商";

/// What a request must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// `A`: past every check (a success, or an answer about the input: 409 stale, 422 invalid).
    Allowed,
    /// `F`: 403.
    Forbidden,
    /// `N`: 404 — the object does not exist for the asker.
    NotFound,
    /// `U`: 401 (the API, nobody signed in).
    Unauthenticated,
    /// `L`: sent to the login page.
    ToLogin,
    /// `R`: let in, but the file's rows are refused as outside the asker's scope (422, `out_of_scope`),
    /// or as naming records the asker may not read (said as unknown ones).
    RowsRefused,
    /// `X`: let in, but the body names records the asker may not read: refused as unknown references
    /// (422), nothing of them shown.
    ReferenceRefused,
}

/// Who asks: nobody, or a holder of one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Role(Role),
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::Anonymous => write!(f, "anonymous"),
            Who::Role(r) => write!(f, "{}", r.as_str()),
        }
    }
}

/// Anonymous first, then the roles in `Role::ALL` order — the columns of a rule's expectations.
fn askers() -> Vec<Who> {
    std::iter::once(Who::Anonymous).chain(Role::ALL.into_iter().map(Who::Role)).collect()
}

/// The object a request is about: inside the asker's scope (chain A), or outside it (chain B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Obj {
    In,
    Out,
}

impl Obj {
    fn pick<T>(self, inside: T, outside: T) -> T {
        match self {
            Obj::In => inside,
            Obj::Out => outside,
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    /// A page form (the asker's CSRF token is added).
    Form(Vec<(String, String)>),
    /// A CSV file: the raw body for the API, a multipart upload (kind `entities`, dry run) for the page.
    Csv(String),
    /// Broken JSON, sent as `application/json`.
    Malformed,
    /// A broken multipart body with no CSRF token, for a page POST.
    BrokenForm,
}

/// One request of the matrix.
#[derive(Debug, Clone)]
struct Req {
    path: String,
    body: Body,
    /// Sent with a session of its own (the request may end its session: logout, login).
    fresh_session: bool,
    /// When allowed, the answer must contain this text…
    contains: Option<String>,
    /// …and must not contain this one.
    lacks: Option<String>,
}

fn req(path: impl Into<String>) -> Req {
    Req { path: path.into(), body: Body::None, fresh_session: false, contains: None, lacks: None }
}

impl Req {
    fn json(mut self, v: Value) -> Self {
        self.body = Body::Json(v);
        self
    }

    fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.body = Body::Form(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
        self
    }

    fn csv(mut self, text: String) -> Self {
        self.body = Body::Csv(text);
        self
    }

    fn fresh(mut self) -> Self {
        self.fresh_session = true;
        self
    }

    /// A list or file that must show the in-scope object and never the out-of-scope one.
    fn listing(mut self, o: Obj, inside: &str, outside: &str) -> Self {
        match o {
            Obj::In => self.contains = Some(inside.to_owned()),
            Obj::Out => self.lacks = Some(outside.to_owned()),
        }
        self
    }
}

/// The seeded records and the principals of one backend.
struct World {
    pa: i64,
    pb: i64,
    fa: i64,
    fb: i64,
    oa: i64,
    ob: i64,
    ia: i64,
    ib: i64,
    sa: i64,
    sb: i64,
    /// A case on each side: its id and tracking code (handled in Guangdong, in Beijing).
    cases: [(i64, String); 2],
    /// A notification to each side's department.
    notifications: [i64; 2],
    victim: i64,
    victim_grants: [i64; 2],
    victim_tokens: [i64; 2],
    seq: AtomicU32,
}

impl World {
    fn next(&self) -> u32 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    fn platform(&self, o: Obj) -> i64 {
        o.pick(self.pa, self.pb)
    }

    fn unit(&self, o: Obj) -> i64 {
        o.pick(self.fa, self.fb)
    }

    fn org(&self, o: Obj) -> i64 {
        o.pick(self.oa, self.ob)
    }

    fn instructor(&self, o: Obj) -> i64 {
        o.pick(self.ia, self.ib)
    }

    fn station(&self, o: Obj) -> i64 {
        o.pick(self.sa, self.sb)
    }

    fn case_code(&self, o: Obj) -> &str {
        &o.pick(&self.cases[0], &self.cases[1]).1
    }

    fn case(&self, o: Obj) -> i64 {
        o.pick(&self.cases[0], &self.cases[1]).0
    }

    fn notification(&self, o: Obj) -> i64 {
        o.pick(self.notifications[0], self.notifications[1])
    }

    fn grant(&self, o: Obj) -> i64 {
        o.pick(self.victim_grants[0], self.victim_grants[1])
    }

    fn token(&self, o: Obj) -> i64 {
        o.pick(self.victim_tokens[0], self.victim_tokens[1])
    }
}

/// Region, sector, franchisee and organization of each side.
fn side(o: Obj) -> (&'static str, &'static str, &'static str, &'static str) {
    o.pick(("440305", "food_delivery", FA, "MX-OA"), ("110105", "courier", FB, "MX-OB"))
}

fn entity_update(o: Obj) -> Value {
    let (region, sector, code, _) = side(o);
    json!({"version": 999, "uscc": code, "name": o.pick(FA_NAME, FB_NAME), "kind": "franchisee",
           "sectors": [sector], "parent_uscc": o.pick(PA, PB), "region_code": region, "workers": "10"})
}

fn new_entity(w: &World, o: Obj) -> Value {
    let (region, sector, parent, _) = side(o);
    let n = w.next();
    json!({"site_code": format!("MX-{n}"), "name": format!("矩阵站{n}"), "kind": "site", "sectors": [sector],
           "parent_uscc": parent, "region_code": region, "workers": "5"})
}

fn org_update(o: Obj) -> Value {
    let (region, _, unit, code) = side(o);
    json!({"version": 999, "code": code, "name": format!("{code}党委"), "kind": "grassroots_committee",
           "unit_codes": [unit], "region_code": region})
}

fn new_org(w: &World, o: Obj) -> Value {
    let (region, _, unit, parent) = side(o);
    let n = w.next();
    json!({"code": format!("MX-O{n}"), "name": format!("矩阵支部{n}"), "kind": "branch", "parent_code": parent,
           "unit_codes": [unit], "region_code": region})
}

fn instructor_update(o: Obj) -> Value {
    let (region, _, unit, _) = side(o);
    json!({"version": 999, "name": o.pick("甲指导员", "乙指导员"), "mobile": o.pick("13900000001", "13900000002"),
           "region_code": region, "assignments": [{"unit_code": unit, "start_on": "2024-01-01"}]})
}

fn new_instructor(w: &World, o: Obj) -> Value {
    let (region, _, unit, _) = side(o);
    let n = w.next();
    json!({"name": format!("矩阵{n}"), "mobile": format!("137{n:08}"), "region_code": region,
           "assignments": [{"unit_code": unit, "start_on": "2024-01-01"}]})
}

fn station_json(o: Obj, code: &str, name: &str) -> Value {
    let (region, _, unit, _) = side(o);
    let (lat, lng) = o.pick(("22.53", "113.93"), ("39.92", "116.44"));
    json!({"code": code, "name": name, "operator_code": unit, "address": "某路1号", "region_code": region,
           "latitude": lat, "longitude": lng, "amenities": ["drinking_water"], "opening_hours": "24h"})
}

fn station_update(o: Obj) -> Value {
    let mut v = station_json(o, o.pick("MX-SA", "MX-SB"), o.pick("甲驿站", "乙驿站"));
    v["version"] = json!(999);
    v
}

fn new_station(w: &World, o: Obj) -> Value {
    let n = w.next();
    station_json(o, &format!("MX-S{n}"), &format!("矩阵驿站{n}"))
}

fn station_form(v: &Value) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> =
        ["name", "operator_code", "address", "region_code", "latitude", "longitude", "opening_hours", "version"]
            .iter()
            .filter_map(|k| v.get(*k).map(|x| ((*k).to_owned(), text(x))))
            .collect();
    f.push(("station_code".into(), text(&v["code"])));
    f.push(("amenities".into(), "drinking_water".into()));
    f.push(("status".into(), "active".into()));
    f
}

fn import_csv(w: &World, o: Obj) -> String {
    let (region, _, parent, _) = side(o);
    let sector = o.pick("外卖配送", "快递");
    let n = w.next();
    format!(
        "uscc,site_code,name,kind,sector,parent_uscc,region_code,workers,party_members\n\
         ,MX-I{n},导入站{n},site,{sector},{parent},{region},5,0\n"
    )
}

/// A JSON value as the text of a form field.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn entity_form(v: &Value) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = ["uscc", "site_code", "name", "kind", "region_code", "workers", "version"]
        .iter()
        .filter_map(|k| v.get(*k).map(|x| ((*k).to_owned(), text(x))))
        .collect();
    f.push(("parent_code".into(), text(&v["parent_uscc"])));
    f.push(("sectors".into(), text(&v["sectors"][0])));
    f
}

fn org_form(v: &Value) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = ["code", "name", "kind", "region_code", "version"]
        .iter()
        .filter_map(|k| v.get(*k).map(|x| ((*k).to_owned(), text(x))))
        .collect();
    if let Some(p) = v.get("parent_code") {
        f.push(("parent_org_code".into(), text(p)));
    }
    f.push(("units".into(), text(&v["unit_codes"][0])));
    f
}

fn instructor_form(v: &Value) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = ["name", "mobile", "region_code", "version"]
        .iter()
        .filter_map(|k| v.get(*k).map(|x| ((*k).to_owned(), text(x))))
        .collect();
    f.push(("assignments[0].unit_code".into(), text(&v["assignments"][0]["unit_code"])));
    f.push(("assignments[0].start_on".into(), "2024-01-01".into()));
    f
}

fn form(fields: Vec<(String, String)>) -> Body {
    Body::Form(fields)
}

/// One rule: a route, who may use it about which object, and how to ask.
struct Rule {
    method: &'static str,
    path: &'static str,
    /// Expectations about the in-scope object: anonymous, then each role in `Role::ALL` order
    /// (system, security, audit administrators; cadre, regulator, platform committee, branch
    /// secretary, instructor). Spaces are ignored.
    inside: &'static str,
    /// The same about the out-of-scope object.
    outside: &'static str,
    request: fn(&World, Obj) -> Req,
}

const fn rule(
    method: &'static str,
    path: &'static str,
    inside: &'static str,
    outside: &'static str,
    request: fn(&World, Obj) -> Req,
) -> Rule {
    Rule { method, path, inside, outside, request }
}

/// A case notification: roles that write reach their departments' ones; elsewhere it does not exist.
const API_NOTIFICATION_IN: &str = "U FFF AFNNF";
const API_NOTIFICATION_OUT: &str = "U FFF NFNNF";
/// The inbox pages, like their API.
const PAGE_CASE_LIST: &str = "L FFF AFAAF";
const PAGE_CASE_IN: &str = "L FFF ANNNF";
const PAGE_CASE_OUT: &str = "L FFF NNNNN";
const PAGE_NOTIFICATION_IN: &str = "L FFF AFNNF";
const PAGE_NOTIFICATION_OUT: &str = "L FFF NFNNF";
/// The system administrator's pages.
const PAGE_SYSADMIN: &str = "L AFF FFFFF";
/// Everyone, signed in or not.
const PUBLIC: &str = "A AAA AAAAA";
/// The case inbox: roles that write (cadres; platform committees and branch secretaries get an empty list).
const API_CASE_LIST: &str = "U FFF AFAAF";
/// A case handled in the cadre's region: the cadre only; the administrators and the instructor reach its
/// region but may not handle it (403); for the others it does not exist.
const API_CASE_IN: &str = "U FFF ANNNF";
const API_CASE_OUT: &str = "U FFF NNNNN";
/// Any signed-in role; the API answers 401 without one.
const API_SIGNED_IN: &str = "U AAA AAAAA";
/// Any signed-in role; pages send the anonymous to the login page.
const PAGE_SIGNED_IN: &str = "L AAA AAAAA";
/// The system administrator only (reference data).
const API_SYSADMIN: &str = "U AFF FFFFF";
/// Reading the registry: every registry role; the administrators are refused.
const API_READ_IN: &str = "U FFF AAAAA";
const PAGE_READ_IN: &str = "L FFF AAAAA";
/// A record outside every scope of a registry role does not exist for it.
const API_OUT: &str = "U FFF NNNNN";
const PAGE_OUT: &str = "L FFF NNNNN";
/// A platform's coverage page: a branch secretary's scope holds the units of their organization, not
/// the platform heading the chain, so it does not exist for them.
const PAGE_PLATFORM_IN: &str = "L FFF AAANA";
/// Writing a record: cadres, platform committees and branch secretaries.
const API_WRITE_IN: &str = "U FFF AFAAF";
const PAGE_WRITE_IN: &str = "L FFF AFAAF";
/// A new unit: a branch secretary's scope holds only units attached to their organization, so a new
/// one is outside it.
const API_NEW_UNIT_IN: &str = "U FFF AFAFF";
const PAGE_NEW_UNIT_IN: &str = "L FFF AFAFF";
/// A new record outside the asker's scope, naming chain B's records (its parent, units, operator):
/// refused for the references it may not make, like references to nothing (422, see the reference
/// column below); roles that may not write at all, 403.
const API_NEW_OUT: &str = "U FFF XFXXF";
const PAGE_NEW_OUT: &str = "L FFF XFXXF";
/// A form for a new record prefilled from another record: write permission first, then the other
/// record must be readable.
const PAGE_NEW_FROM_OUT: &str = "L FFF NFNNF";
/// Importing: cadres and platform committees; out-of-scope rows are refused row by row.
const API_IMPORT_IN: &str = "U FFF AFAFF";
const API_IMPORT_OUT: &str = "U FFF RFRFF";
const PAGE_IMPORT_IN: &str = "L FFF AFAFF";
const PAGE_IMPORT_OUT: &str = "L FFF RFRFF";
/// Exporting: every registry role but the branch secretary.
const API_EXPORT: &str = "U FFF AAAFA";
/// Exporting about a record outside the asker's scope: it does not exist for them.
const API_EXPORT_OUT: &str = "U FFF NNNFN";
/// Account administration (system administrator) and its views (also the security administrator).
const PAGE_ACCOUNTS: &str = "L AFF FFFFF";
const PAGE_ACCOUNTS_VIEW: &str = "L AAF FFFFF";
/// Grants and security policy (security administrator).
const PAGE_GRANTS: &str = "L FAF FFFFF";
/// The audit log (audit administrator).
const PAGE_AUDIT: &str = "L FFA FFFFF";

/// Every route's rule. Keep in the order of the route tables.
const RULES: &[Rule] = &[
    // The app's own routes.
    rule("GET", "/api/openapi.json", PUBLIC, PUBLIC, |_, _| req("/api/openapi.json")),
    rule("GET", "/healthz", PUBLIC, PUBLIC, |_, _| req("/healthz")),
    // Reference data: read by every signed-in role, changed by the system administrator.
    rule("GET", "/api/v1/regions", API_SIGNED_IN, API_SIGNED_IN, |_, _| req("/api/v1/regions")),
    rule("POST", "/api/v1/regions", API_SYSADMIN, API_SYSADMIN, |_, o| {
        req("/api/v1/regions").json(json!({"code": "12", "name": "无效", "parent_code": side(o).0}))
    }),
    rule("GET", "/api/v1/regions/{code}", API_SIGNED_IN, API_SIGNED_IN, |_, o| {
        req(format!("/api/v1/regions/{}", side(o).0))
    }),
    rule("PUT", "/api/v1/regions/{code}", API_SYSADMIN, API_SYSADMIN, |_, o| {
        req(format!("/api/v1/regions/{}", side(o).0)).json(json!({"name": "改名", "version": 999}))
    }),
    rule("DELETE", "/api/v1/regions/{code}", API_SYSADMIN, API_SYSADMIN, |_, o| {
        req(format!("/api/v1/regions/{}", side(o).0))
    }),
    rule("GET", "/api/v1/regions/{code}/lineage", API_SIGNED_IN, API_SIGNED_IN, |_, o| {
        req(format!("/api/v1/regions/{}/lineage", side(o).0))
    }),
    rule("GET", "/api/v1/sectors", API_SIGNED_IN, API_SIGNED_IN, |_, _| req("/api/v1/sectors")),
    rule("POST", "/api/v1/sectors", API_SYSADMIN, API_SYSADMIN, |_, o| {
        req("/api/v1/sectors").json(json!({"code": side(o).1, "name_zh": "重复", "name_en": "duplicate"}))
    }),
    rule("GET", "/api/v1/sectors/{code}", API_SIGNED_IN, API_SIGNED_IN, |_, o| {
        req(format!("/api/v1/sectors/{}", side(o).1))
    }),
    rule("PUT", "/api/v1/sectors/{code}", API_SYSADMIN, API_SYSADMIN, |_, o| {
        req(format!("/api/v1/sectors/{}", side(o).1)).json(json!({"version": 999, "name_zh": "改名", "name_en": "x"}))
    }),
    rule("DELETE", "/api/v1/sectors/{code}", API_SYSADMIN, API_SYSADMIN, |_, o| {
        req(format!("/api/v1/sectors/{}", side(o).1))
    }),
    // Units.
    rule("GET", "/api/v1/entities", API_READ_IN, API_READ_IN, |_, o| {
        req("/api/v1/entities?per_page=500").listing(o, FA, FB)
    }),
    rule("POST", "/api/v1/entities", API_NEW_UNIT_IN, API_NEW_OUT, |w, o| {
        req("/api/v1/entities").json(new_entity(w, o))
    }),
    rule("GET", "/api/v1/entities/{id}", API_READ_IN, API_OUT, |w, o| req(format!("/api/v1/entities/{}", w.unit(o)))),
    rule("PUT", "/api/v1/entities/{id}", API_WRITE_IN, API_OUT, |w, o| {
        req(format!("/api/v1/entities/{}", w.unit(o))).json(entity_update(o))
    }),
    rule("DELETE", "/api/v1/entities/{id}", API_WRITE_IN, API_OUT, |w, o| {
        req(format!("/api/v1/entities/{}?version=999", w.unit(o)))
    }),
    rule("GET", "/api/v1/entities/{id}/chain", API_READ_IN, API_OUT, |w, o| {
        req(format!("/api/v1/entities/{}/chain", w.unit(o)))
    }),
    // Organizations.
    rule("GET", "/api/v1/organizations", API_READ_IN, API_READ_IN, |_, o| {
        req("/api/v1/organizations?per_page=500").listing(o, "MX-OA", "MX-OB")
    }),
    rule("POST", "/api/v1/organizations", API_WRITE_IN, API_NEW_OUT, |w, o| {
        req("/api/v1/organizations").json(new_org(w, o))
    }),
    rule("GET", "/api/v1/organizations/{id}", API_READ_IN, API_OUT, |w, o| {
        req(format!("/api/v1/organizations/{}", w.org(o)))
    }),
    rule("PUT", "/api/v1/organizations/{id}", API_WRITE_IN, API_OUT, |w, o| {
        req(format!("/api/v1/organizations/{}", w.org(o))).json(org_update(o))
    }),
    rule("DELETE", "/api/v1/organizations/{id}", API_WRITE_IN, API_OUT, |w, o| {
        req(format!("/api/v1/organizations/{}?version=999", w.org(o)))
    }),
    // Instructors, and their personal data.
    rule("GET", "/api/v1/instructors", API_READ_IN, API_READ_IN, |_, o| {
        req("/api/v1/instructors?per_page=500").listing(o, "甲指导员", "乙指导员")
    }),
    rule("POST", "/api/v1/instructors", API_WRITE_IN, API_NEW_OUT, |w, o| {
        req("/api/v1/instructors").json(new_instructor(w, o))
    }),
    rule("GET", "/api/v1/instructors/{id}", API_READ_IN, API_OUT, |w, o| {
        req(format!("/api/v1/instructors/{}", w.instructor(o)))
    }),
    rule("PUT", "/api/v1/instructors/{id}", API_WRITE_IN, API_OUT, |w, o| {
        req(format!("/api/v1/instructors/{}", w.instructor(o))).json(instructor_update(o))
    }),
    rule("DELETE", "/api/v1/instructors/{id}", API_WRITE_IN, API_OUT, |w, o| {
        req(format!("/api/v1/instructors/{}?version=999", w.instructor(o)))
    }),
    rule("GET", "/api/v1/instructors/{id}/mobile", API_WRITE_IN, API_OUT, |w, o| {
        req(format!("/api/v1/instructors/{}/mobile", w.instructor(o)))
    }),
    // Files.
    rule("POST", "/api/v1/imports/{kind}", API_IMPORT_IN, API_IMPORT_OUT, |w, o| {
        req("/api/v1/imports/entities?dry_run=true&file_name=m.csv").csv(import_csv(w, o))
    }),
    rule("GET", "/api/v1/exports/{kind}", API_EXPORT, API_EXPORT, |_, o| {
        req("/api/v1/exports/entities?format=csv").listing(o, FA, FB)
    }),
    // Coverage: figures over the reader's scope; a platform chain outside it does not exist for them.
    rule("GET", "/api/v1/coverage", API_READ_IN, API_OUT, |w, o| req(format!("/api/v1/coverage?chain={}", w.unit(o)))),
    rule("GET", "/api/v1/coverage/trend", API_READ_IN, API_OUT, |w, o| {
        req(format!("/api/v1/coverage/trend?months=3&chain={}", w.unit(o)))
    }),
    rule("GET", "/api/v1/gaps", API_READ_IN, API_OUT, |w, o| req(format!("/api/v1/gaps?chain={}", w.unit(o)))),
    rule("GET", "/api/v1/gaps/export", API_EXPORT, API_EXPORT_OUT, |w, o| {
        req(format!("/api/v1/gaps/export?format=csv&chain={}", w.unit(o)))
    }),
    // Case statistics: every registry role may ask, over the cases filed in its region (or sector) scopes;
    // chain and organization scopes see none, and nobody sees Beijing's case from Guangdong.
    rule("GET", "/api/v1/cases/stats", API_READ_IN, API_READ_IN, |_, o| stats_req("/api/v1/cases/stats", o)),
    rule("GET", "/api/v1/cases/stats/export", API_EXPORT, API_EXPORT, |_, _| req("/api/v1/cases/stats/export")),
    // Worker stations: the finder is public; management is scoped like the registry.
    rule("GET", "/api/v1/stations/nearest", PUBLIC, PUBLIC, |_, o| {
        req(format!("/api/v1/stations/nearest?lat={}&lng={}", o.pick("22.5", "39.9"), o.pick("113.9", "116.4")))
    }),
    // Members' rules: the dues calculator and the development checker, for every signed-in role.
    rule("GET", "/api/v1/dues/calculate", API_SIGNED_IN, API_SIGNED_IN, |_, _| {
        req("/api/v1/dues/calculate?category=wage&monthly_income=4700")
    }),
    rule("POST", "/api/v1/development/check", API_SIGNED_IN, API_SIGNED_IN, |_, _| {
        req("/api/v1/development/check").json(json!({"birth_date": "2000-01-01", "applied_on": "2024-01-01"}))
    }),
    // Needs and rights cases: workers file and follow them with no account.
    rule("POST", "/api/v1/cases", PUBLIC, PUBLIC, |_, o| {
        req("/api/v1/cases")
            .json(json!({"category": "other", "region_code": o.pick("440305", "110105"), "description": "x"}))
    }),
    rule("GET", "/api/v1/cases/track/{code}", PUBLIC, PUBLIC, |w, o| {
        req(format!("/api/v1/cases/track/{}", w.case_code(o)))
    }),
    // The inbox: handling a case is writing, by the handling department's region; chain and
    // organization scopes reach no case (an empty list), and nobody sees Beijing's case from Guangdong.
    rule("GET", "/api/v1/cases", API_CASE_LIST, API_CASE_LIST, |w, _| Req {
        lacks: Some(w.case_code(Obj::Out).to_owned()),
        ..req("/api/v1/cases?per_page=500")
    }),
    rule("GET", "/api/v1/cases/{id}", API_CASE_IN, API_CASE_OUT, |w, o| req(format!("/api/v1/cases/{}", w.case(o)))),
    rule("GET", "/api/v1/cases/{id}/contact", API_CASE_IN, API_CASE_OUT, |w, o| {
        req(format!("/api/v1/cases/{}/contact", w.case(o)))
    }),
    rule("POST", "/api/v1/cases/{id}/actions", API_CASE_IN, API_CASE_OUT, |w, o| {
        req(format!("/api/v1/cases/{}/actions", w.case(o))).json(json!({"version": 999, "action": "note", "note": "x"}))
    }),
    rule("GET", "/api/v1/case-categories", PUBLIC, PUBLIC, |_, _| req("/api/v1/case-categories")),
    rule("GET", "/api/v1/departments", API_SIGNED_IN, API_SIGNED_IN, |_, _| req("/api/v1/departments")),
    rule("POST", "/api/v1/departments", API_SYSADMIN, API_SYSADMIN, |w, o| {
        req("/api/v1/departments").json(json!({"code": format!("MX-D{}", w.next()), "name": "矩阵部门",
            "kind": "postal", "region_code": o.pick("440305", "110105")}))
    }),
    rule("GET", "/api/v1/case-settings", API_SIGNED_IN, API_SIGNED_IN, |_, _| req("/api/v1/case-settings")),
    // Replaced by the defaults themselves, so that deadlines elsewhere in the matrix do not change.
    rule("PUT", "/api/v1/case-settings", API_SYSADMIN, API_SYSADMIN, |_, _| {
        req("/api/v1/case-settings")
            .json(serde_json::to_value(dangjian_domain::services::case_settings::CaseSettings::default()).unwrap())
    }),
    // Notifications of the departments in the reader's region scopes (like the inbox).
    rule("GET", "/api/v1/case-notifications", API_CASE_LIST, API_CASE_LIST, |_, _| req("/api/v1/case-notifications")),
    rule("POST", "/api/v1/case-notifications/{id}/read", API_NOTIFICATION_IN, API_NOTIFICATION_OUT, |w, o| {
        req(format!("/api/v1/case-notifications/{}/read", w.notification(o)))
    }),
    rule("GET", "/api/v1/routing-rules", API_SIGNED_IN, API_SIGNED_IN, |_, _| req("/api/v1/routing-rules")),
    // Replaced by the defaults themselves, so that routing elsewhere in the matrix does not change.
    rule("PUT", "/api/v1/routing-rules", API_SYSADMIN, API_SYSADMIN, |_, _| {
        req("/api/v1/routing-rules")
            .json(serde_json::to_value(dangjian_domain::services::routing::default_table()).unwrap())
    }),
    rule("POST", "/api/v1/cases/track/{code}/actions", PUBLIC, PUBLIC, |w, o| {
        req(format!("/api/v1/cases/track/{}/actions", w.case_code(o)))
            .json(json!({"action": "add_info", "note": "补充"}))
    }),
    // Open311 GeoReport v2: public; filing needs a client's key (MATRIX_OPEN311_KEY, seeded).
    rule("GET", "/open311/v2/services.json", PUBLIC, PUBLIC, |_, _| req("/open311/v2/services.json")),
    rule("GET", "/open311/v2/services/{code}", PUBLIC, PUBLIC, |_, _| req("/open311/v2/services/other.json")),
    rule("POST", "/open311/v2/requests.json", PUBLIC, PUBLIC, |_, o| {
        req("/open311/v2/requests.json").form(&[
            ("api_key", MATRIX_OPEN311_KEY),
            ("service_code", "other"),
            ("description", "x"),
            ("attribute[region_code]", o.pick("440305", "110105")),
        ])
    }),
    rule("GET", "/open311/v2/requests.json", PUBLIC, PUBLIC, |w, o| {
        req(format!("/open311/v2/requests.json?service_request_id={}", w.case_code(o)))
    }),
    rule("GET", "/open311/v2/requests/{id}", PUBLIC, PUBLIC, |w, o| {
        req(format!("/open311/v2/requests/{}.json", w.case_code(o)))
    }),
    rule("GET", "/open311/v2/tokens/{token}", PUBLIC, PUBLIC, |w, o| {
        req(format!("/open311/v2/tokens/{}.json", w.case_code(o)))
    }),
    // Open311 clients: the system administrator. Client 2 is the one seeded to be revoked.
    rule("GET", "/api/v1/open311-clients", API_SYSADMIN, API_SYSADMIN, |_, _| req("/api/v1/open311-clients")),
    rule("POST", "/api/v1/open311-clients", API_SYSADMIN, API_SYSADMIN, |w, _| {
        req("/api/v1/open311-clients").json(json!({"name": format!("矩阵客户端{}", w.next())}))
    }),
    rule("POST", "/api/v1/open311-clients/{id}/revoke", API_SYSADMIN, API_SYSADMIN, |_, _| {
        req("/api/v1/open311-clients/2/revoke")
    }),
    rule("GET", "/api/v1/stations", API_READ_IN, API_READ_IN, |_, o| {
        req("/api/v1/stations?per_page=500").listing(o, "甲驿站", "乙驿站")
    }),
    rule("POST", "/api/v1/stations", API_WRITE_IN, API_NEW_OUT, |w, o| req("/api/v1/stations").json(new_station(w, o))),
    rule("GET", "/api/v1/stations/{id}", API_READ_IN, API_OUT, |w, o| {
        req(format!("/api/v1/stations/{}", w.station(o)))
    }),
    rule("PUT", "/api/v1/stations/{id}", API_WRITE_IN, API_OUT, |w, o| {
        req(format!("/api/v1/stations/{}", w.station(o))).json(station_update(o))
    }),
    rule("DELETE", "/api/v1/stations/{id}", API_WRITE_IN, API_OUT, |w, o| {
        req(format!("/api/v1/stations/{}?version=999", w.station(o)))
    }),
    // Pages: the way in, reference data.
    rule("GET", "/", PUBLIC, PUBLIC, |_, _| req("/")),
    rule("GET", "/lang/{code}", PUBLIC, PUBLIC, |_, o| req(format!("/lang/{}?next=%2F", o.pick("en", "zh-CN")))),
    rule("GET", "/static/app.css", PUBLIC, PUBLIC, |_, _| req("/static/app.css")),
    rule("GET", "/static/finder.js", PUBLIC, PUBLIC, |_, _| req("/static/finder.js")),
    rule("GET", "/regions", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| req("/regions")),
    rule("GET", "/regions/{code}", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, o| req(format!("/regions/{}", side(o).0))),
    // Coverage pages: figures over the reader's scope, never naming what is outside it.
    rule("GET", "/coverage", PAGE_READ_IN, PAGE_READ_IN, |_, _| Req {
        lacks: Some("乙链平台".into()),
        ..req("/coverage")
    }),
    rule("GET", "/coverage/platforms/{id}", PAGE_PLATFORM_IN, PAGE_OUT, |w, o| {
        req(format!("/coverage/platforms/{}", w.platform(o)))
    }),
    rule("GET", "/coverage/gaps", PAGE_READ_IN, PAGE_READ_IN, |_, _| Req {
        lacks: Some("乙链平台".into()),
        ..req("/coverage/gaps")
    }),
    rule("GET", "/cases/stats", PAGE_READ_IN, PAGE_READ_IN, |_, o| stats_req("/cases/stats", o)),
    // Unit pages.
    rule("GET", "/entities", PAGE_READ_IN, PAGE_READ_IN, |_, o| req("/entities").listing(o, FA_NAME, FB_NAME)),
    rule("GET", "/entities/new", PAGE_WRITE_IN, PAGE_NEW_FROM_OUT, |w, o| {
        req(format!("/entities/new?parent={}", w.unit(o)))
    }),
    rule("POST", "/entities/new", PAGE_NEW_UNIT_IN, PAGE_NEW_OUT, |w, o| Req {
        body: form(entity_form(&new_entity(w, o))),
        ..req("/entities/new")
    }),
    rule("GET", "/entities/{id}", PAGE_READ_IN, PAGE_OUT, |w, o| req(format!("/entities/{}", w.unit(o)))),
    rule("GET", "/entities/{id}/edit", PAGE_WRITE_IN, PAGE_OUT, |w, o| req(format!("/entities/{}/edit", w.unit(o)))),
    rule("POST", "/entities/{id}/edit", PAGE_WRITE_IN, PAGE_OUT, |w, o| Req {
        body: form(entity_form(&entity_update(o))),
        ..req(format!("/entities/{}/edit", w.unit(o)))
    }),
    // Organization pages.
    rule("GET", "/organizations", PAGE_READ_IN, PAGE_READ_IN, |_, o| {
        req("/organizations").listing(o, "MX-OA", "MX-OB")
    }),
    rule("GET", "/organizations/new", PAGE_WRITE_IN, PAGE_NEW_FROM_OUT, |w, o| {
        req(format!("/organizations/new?unit={}", w.unit(o)))
    }),
    rule("POST", "/organizations/new", PAGE_WRITE_IN, PAGE_NEW_OUT, |w, o| Req {
        body: form(org_form(&new_org(w, o))),
        ..req("/organizations/new")
    }),
    rule("GET", "/organizations/{id}", PAGE_READ_IN, PAGE_OUT, |w, o| req(format!("/organizations/{}", w.org(o)))),
    rule("GET", "/organizations/{id}/edit", PAGE_WRITE_IN, PAGE_OUT, |w, o| {
        req(format!("/organizations/{}/edit", w.org(o)))
    }),
    rule("POST", "/organizations/{id}/edit", PAGE_WRITE_IN, PAGE_OUT, |w, o| Req {
        body: form(org_form(&org_update(o))),
        ..req(format!("/organizations/{}/edit", w.org(o)))
    }),
    // Instructor pages.
    rule("GET", "/instructors", PAGE_READ_IN, PAGE_READ_IN, |_, o| {
        req("/instructors").listing(o, "甲指导员", "乙指导员")
    }),
    rule("GET", "/instructors/new", PAGE_WRITE_IN, PAGE_NEW_FROM_OUT, |w, o| {
        req(format!("/instructors/new?unit={}", w.unit(o)))
    }),
    rule("POST", "/instructors/new", PAGE_WRITE_IN, PAGE_NEW_OUT, |w, o| Req {
        body: form(instructor_form(&new_instructor(w, o))),
        ..req("/instructors/new")
    }),
    rule("GET", "/instructors/{id}", PAGE_READ_IN, PAGE_OUT, |w, o| req(format!("/instructors/{}", w.instructor(o)))),
    rule("GET", "/instructors/{id}/edit", PAGE_WRITE_IN, PAGE_OUT, |w, o| {
        req(format!("/instructors/{}/edit", w.instructor(o)))
    }),
    rule("POST", "/instructors/{id}/edit", PAGE_WRITE_IN, PAGE_OUT, |w, o| Req {
        body: form(instructor_form(&instructor_update(o))),
        ..req(format!("/instructors/{}/edit", w.instructor(o)))
    }),
    rule("POST", "/instructors/{id}/mobile", PAGE_WRITE_IN, PAGE_OUT, |w, o| {
        req(format!("/instructors/{}/mobile", w.instructor(o))).form(&[])
    }),
    // Station pages; the finder is public.
    rule("GET", "/stations", PAGE_READ_IN, PAGE_READ_IN, |_, o| req("/stations").listing(o, "甲驿站", "乙驿站")),
    rule("GET", "/stations/near", PUBLIC, PUBLIC, |_, o| {
        req(format!("/stations/near?lat={}&lng={}&open_now=1", o.pick("22.5", "39.9"), o.pick("113.9", "116.4")))
    }),
    rule("GET", "/stations/new", PAGE_WRITE_IN, PAGE_WRITE_IN, |_, _| req("/stations/new")),
    rule("POST", "/stations/new", PAGE_WRITE_IN, PAGE_NEW_OUT, |w, o| Req {
        body: form(station_form(&new_station(w, o))),
        ..req("/stations/new")
    }),
    rule("GET", "/stations/{id}", PAGE_READ_IN, PAGE_OUT, |w, o| req(format!("/stations/{}", w.station(o)))),
    rule("GET", "/stations/{id}/edit", PAGE_WRITE_IN, PAGE_OUT, |w, o| req(format!("/stations/{}/edit", w.station(o)))),
    rule("POST", "/stations/{id}/edit", PAGE_WRITE_IN, PAGE_OUT, |w, o| Req {
        body: form(station_form(&station_update(o))),
        ..req(format!("/stations/{}/edit", w.station(o)))
    }),
    // Members' rules pages.
    rule("GET", "/dues/calculator", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| {
        req("/dues/calculator?category=gig&previous_quarter=3000,4000,5000")
    }),
    rule("GET", "/development/check", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| req("/development/check")),
    rule("POST", "/development/check", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| {
        req("/development/check").form(&[("birth_date", "2000-01-01"), ("applied_on", "2024-01-01")])
    }),
    // Import.
    rule("GET", "/import", PAGE_IMPORT_IN, PAGE_IMPORT_IN, |_, _| req("/import")),
    rule("POST", "/import", PAGE_IMPORT_IN, PAGE_IMPORT_OUT, |w, o| req("/import").csv(import_csv(w, o))),
    // Signing in and out: open to everyone; a TOTP step without a pending sign-in goes back to the login.
    // Cases: the worker's phone pages are public; the inbox pages are the handling departments'.
    rule("GET", "/report", PUBLIC, PUBLIC, |_, _| req("/report")),
    rule("POST", "/report", PUBLIC, PUBLIC, |_, o| {
        req("/report").form(&[("category", "other"), ("region_code", o.pick("440305", "110105")), ("description", "x")])
    }),
    rule("GET", "/track", PUBLIC, PUBLIC, |w, o| req(format!("/track?code={}", w.case_code(o)))),
    rule("GET", "/track/{code}", PUBLIC, PUBLIC, |w, o| req(format!("/track/{}", w.case_code(o)))),
    rule("POST", "/track/{code}", PUBLIC, PUBLIC, |w, o| {
        req(format!("/track/{}", w.case_code(o))).form(&[("action", "add_info"), ("note", "补充")])
    }),
    rule("GET", "/cases", PAGE_CASE_LIST, PAGE_CASE_LIST, |w, _| Req {
        lacks: Some(w.case_code(Obj::Out).to_owned()),
        ..req("/cases?per_page=500")
    }),
    rule("GET", "/cases/{id}", PAGE_CASE_IN, PAGE_CASE_OUT, |w, o| req(format!("/cases/{}", w.case(o)))),
    rule("POST", "/cases/{id}", PAGE_CASE_IN, PAGE_CASE_OUT, |w, o| {
        req(format!("/cases/{}", w.case(o))).form(&[("version", "999"), ("action", "note"), ("note", "x")])
    }),
    rule("POST", "/cases/{id}/contact", PAGE_CASE_IN, PAGE_CASE_OUT, |w, o| {
        req(format!("/cases/{}/contact", w.case(o))).form(&[])
    }),
    rule("POST", "/cases/notifications/{id}/read", PAGE_NOTIFICATION_IN, PAGE_NOTIFICATION_OUT, |w, o| {
        req(format!("/cases/notifications/{}/read", w.notification(o))).form(&[])
    }),
    // The case rules: the system administrator's. Saved keeping `other` and a catch-all route to social
    // work, which is all the matrix's cases use.
    rule("GET", "/admin/case-settings", PAGE_SYSADMIN, PAGE_SYSADMIN, |_, _| req("/admin/case-settings")),
    rule("POST", "/admin/case-settings", PAGE_SYSADMIN, PAGE_SYSADMIN, |_, _| {
        req("/admin/case-settings").form(&[
            ("cat_code", "other"),
            ("cat_name_zh", "其他"),
            ("cat_name_en", "Other"),
            ("cat_ack_days", "3"),
            ("cat_resolve_days", "20"),
            ("retention_days", "365"),
            ("auto_close_days", "15"),
        ])
    }),
    rule("POST", "/admin/case-routing", PAGE_SYSADMIN, PAGE_SYSADMIN, |_, _| {
        req("/admin/case-routing").form(&[("rule_kind", "social_work")])
    }),
    rule("GET", "/login", PUBLIC, PUBLIC, |_, _| req("/login")),
    rule("POST", "/login", PUBLIC, PUBLIC, |_, _| {
        req("/login").form(&[("username", "matrix-login"), ("password", support::PASSWORD)]).fresh()
    }),
    rule("GET", "/login/totp", "L AAA AAAAA", "L AAA AAAAA", |_, _| req("/login/totp")),
    rule("POST", "/login/totp", "L LLL LLLLL", "L LLL LLLLL", |_, _| {
        req("/login/totp").form(&[("code", "000000")]).fresh()
    }),
    rule("POST", "/logout", "L LLL LLLLL", "L LLL LLLLL", |_, _| req("/logout").form(&[]).fresh()),
    // One's own account.
    rule("GET", "/account", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| req("/account")),
    rule("GET", "/account/password", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| req("/account/password")),
    rule("POST", "/account/password", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| {
        req("/account/password").form(&[("current_password", "not the password"), ("new_password", "x")]).fresh()
    }),
    rule("GET", "/account/totp", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| req("/account/totp")),
    rule("POST", "/account/totp", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| {
        req("/account/totp").form(&[("code", "000000")])
    }),
    // Administrators must keep their second factor.
    rule("POST", "/account/totp/disable", "L FFF AAAAA", "L FFF AAAAA", |_, _| {
        req("/account/totp/disable").form(&[("current_password", "not the password")])
    }),
    rule("POST", "/account/sessions/end", PAGE_SIGNED_IN, PAGE_SIGNED_IN, |_, _| {
        req("/account/sessions/end").form(&[("session", OTHER_SESSION)])
    }),
    // Administration.
    rule("GET", "/admin/users", PAGE_ACCOUNTS_VIEW, PAGE_ACCOUNTS_VIEW, |_, _| req("/admin/users")),
    rule("POST", "/admin/users", PAGE_ACCOUNTS, PAGE_ACCOUNTS, |_, _| req("/admin/users").form(&[])),
    rule("GET", "/admin/users/{id}", PAGE_ACCOUNTS_VIEW, PAGE_ACCOUNTS_VIEW, |w, _| {
        req(format!("/admin/users/{}", w.victim))
    }),
    rule("POST", "/admin/users/{id}/disable", PAGE_ACCOUNTS, PAGE_ACCOUNTS, |w, _| {
        req(format!("/admin/users/{}/disable", w.victim)).form(&[])
    }),
    rule("POST", "/admin/users/{id}/enable", PAGE_ACCOUNTS, PAGE_ACCOUNTS, |w, _| {
        req(format!("/admin/users/{}/enable", w.victim)).form(&[])
    }),
    rule("POST", "/admin/users/{id}/reset-password", PAGE_ACCOUNTS, PAGE_ACCOUNTS, |w, _| {
        req(format!("/admin/users/{}/reset-password", w.victim)).form(&[])
    }),
    rule("POST", "/admin/users/{id}/end-sessions", PAGE_ACCOUNTS, PAGE_ACCOUNTS, |w, _| {
        req(format!("/admin/users/{}/end-sessions", w.victim)).form(&[])
    }),
    rule("POST", "/admin/users/{id}/unlock", PAGE_GRANTS, PAGE_GRANTS, |w, _| {
        req(format!("/admin/users/{}/unlock", w.victim)).form(&[])
    }),
    rule("POST", "/admin/users/{id}/grants", PAGE_GRANTS, PAGE_GRANTS, |w, _| {
        req(format!("/admin/users/{}/grants", w.victim)).form(&[])
    }),
    rule("GET", "/admin/tokens", PAGE_ACCOUNTS_VIEW, PAGE_ACCOUNTS_VIEW, |_, _| req("/admin/tokens")),
    rule("POST", "/admin/tokens", PAGE_ACCOUNTS, PAGE_ACCOUNTS, |_, _| req("/admin/tokens").form(&[])),
    rule("GET", "/admin/tokens/{id}", PAGE_ACCOUNTS_VIEW, PAGE_ACCOUNTS_VIEW, |w, o| {
        req(format!("/admin/tokens/{}", w.token(o)))
    }),
    rule("POST", "/admin/tokens/{id}/revoke", PAGE_ACCOUNTS, PAGE_ACCOUNTS, |w, o| {
        req(format!("/admin/tokens/{}/revoke", w.token(o))).form(&[])
    }),
    rule("POST", "/admin/tokens/{id}/grants", PAGE_GRANTS, PAGE_GRANTS, |w, o| {
        req(format!("/admin/tokens/{}/grants", w.token(o))).form(&[])
    }),
    rule("POST", "/admin/grants/{id}/remove", PAGE_GRANTS, PAGE_GRANTS, |w, o| Req {
        body: form(vec![("user_id".into(), w.victim.to_string())]),
        ..req(format!("/admin/grants/{}/remove", w.grant(o)))
    }),
    rule("GET", "/admin/settings", PAGE_GRANTS, PAGE_GRANTS, |_, _| req("/admin/settings")),
    rule("POST", "/admin/settings", PAGE_GRANTS, PAGE_GRANTS, |_, _| req("/admin/settings").form(&[])),
    rule("GET", "/admin/audit", PAGE_AUDIT, PAGE_AUDIT, |_, _| req("/admin/audit")),
    rule("GET", "/admin/audit/export", PAGE_AUDIT, PAGE_AUDIT, |_, _| req("/admin/audit/export")),
    rule("POST", "/admin/audit/verify", PAGE_AUDIT, PAGE_AUDIT, |_, _| req("/admin/audit/verify").form(&[])),
];

/// Case statistics: inside, the figures; outside, never the region of Beijing's case.
fn stats_req(path: &str, o: Obj) -> Req {
    let r = req(path);
    match o {
        Obj::In => Req {
            contains: Some(if path.starts_with("/api/") { "\"totals\"" } else { "data-testid=\"headline\"" }.into()),
            ..r
        },
        Obj::Out => Req { lacks: Some("北京市".into()), ..r },
    }
}

/// In a form: replaced by the id hash of another live session of the asker (one that may be ended).
const OTHER_SESSION: &str = "{other-session}";

fn expectations(s: &str) -> Vec<Expect> {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'A' => Expect::Allowed,
            'F' => Expect::Forbidden,
            'N' => Expect::NotFound,
            'U' => Expect::Unauthenticated,
            'L' => Expect::ToLogin,
            'R' => Expect::RowsRefused,
            'X' => Expect::ReferenceRefused,
            other => panic!("unknown expectation {other:?}"),
        })
        .collect()
}

/// Every route of the app, as (method, path template): generated from the route tables and the
/// feature registrations (`dangjian_web::features()`).
fn routes() -> BTreeSet<(String, String)> {
    dangjian_web::route_table::all_routes()
}

#[test]
fn every_route_has_exactly_one_rule() {
    let routes = routes();
    let mut ruled = BTreeSet::new();
    for r in RULES {
        assert!(ruled.insert((r.method.to_owned(), r.path.to_owned())), "two rules for {} {}", r.method, r.path);
        for e in [r.inside, r.outside] {
            assert_eq!(expectations(e).len(), askers().len(), "{} {}: one expectation per asker", r.method, r.path);
        }
    }
    let without: Vec<String> = routes.difference(&ruled).map(|(m, p)| format!("{m} {p}")).collect();
    let stale: Vec<String> = ruled.difference(&routes).map(|(m, p)| format!("{m} {p}")).collect();
    assert!(without.is_empty(), "routes without an access rule in tests/authz_matrix.rs: {without:#?}");
    assert!(stale.is_empty(), "rules for routes that do not exist: {stale:#?}");
}

/// One role's principal: a signed-in user (pages) and an API token (the API).
struct Principal {
    who: Who,
    user: Option<SignedIn>,
    token: Option<String>,
}

fn scope_of(role: Role, w: &Seeded) -> Scope {
    match role {
        Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin => Scope::Region { path: "/".into() },
        Role::DepartmentCadre | Role::Instructor => Scope::Region { path: "/44/".into() },
        Role::Regulator => Scope::SectorInRegion { sector: "food_delivery".into(), path: "/44/".into() },
        Role::PlatformCommittee => Scope::Chain { root_id: w.pa },
        Role::BranchSecretary => Scope::Organization { org_id: w.oa },
    }
}

/// The registry records of the world.
struct Seeded {
    pa: i64,
    pb: i64,
    fa: i64,
    fb: i64,
    oa: i64,
    ob: i64,
    ia: i64,
    ib: i64,
    sa: i64,
    sb: i64,
    cases: [(i64, String); 2],
    notifications: [i64; 2],
}

fn unit(uscc: &str, name: &str, kind: &str, parent: Option<&str>, region: &str, sector: &str) -> EntityDraft {
    EntityDraft::parse(&EntityInput {
        uscc: Some(uscc.into()),
        name: Some(name.into()),
        kind: Some(kind.into()),
        sectors: vec![sector.into()],
        parent_uscc: parent.map(Into::into),
        region_code: Some(region.into()),
        workers: Some("10".into()),
        ..Default::default()
    })
    .unwrap()
}

async fn seed(s: &Store) -> Seeded {
    let all = AccessFilter::unrestricted();
    let pa =
        s.create_entity(&unit(PA, "甲链平台", "platform", None, "440305", "food_delivery"), &all).await.unwrap().id;
    let fa =
        s.create_entity(&unit(FA, FA_NAME, "franchisee", Some(PA), "440305", "food_delivery"), &all).await.unwrap().id;
    let pb = s.create_entity(&unit(PB, "乙链平台", "platform", None, "110108", "courier"), &all).await.unwrap().id;
    let fb = s.create_entity(&unit(FB, FB_NAME, "franchisee", Some(PB), "110105", "courier"), &all).await.unwrap().id;
    let org = |code: &str, unit: &str, region: &str| {
        OrganizationDraft::parse(&OrganizationInput {
            code: Some(code.into()),
            name: Some(format!("{code}党委")),
            kind: Some("grassroots_committee".into()),
            unit_codes: vec![unit.into()],
            region_code: Some(region.into()),
            ..Default::default()
        })
        .unwrap()
    };
    let oa = s.create_organization(&org("MX-OA", FA, "440305"), &all).await.unwrap().id;
    let ob = s.create_organization(&org("MX-OB", FB, "110105"), &all).await.unwrap().id;
    let instructor = |name: &str, mobile: &str, region: &str, unit: &str| {
        InstructorDraft::parse(&InstructorInput {
            name: Some(name.into()),
            mobile: Some(mobile.into()),
            region_code: Some(region.into()),
            assignments: vec![AssignmentInput {
                unit_code: Some(unit.into()),
                start_on: Some("2024-01-01".into()),
                ..Default::default()
            }],
            ..Default::default()
        })
        .unwrap()
    };
    let ia = s.create_instructor(&instructor("甲指导员", "13900000001", "440305", FA), &all).await.unwrap().id;
    let ib = s.create_instructor(&instructor("乙指导员", "13900000002", "110105", FB), &all).await.unwrap().id;
    let station = |o: Obj| {
        let v = station_json(o, o.pick("MX-SA", "MX-SB"), o.pick("甲驿站", "乙驿站"));
        StationDraft::parse(&serde_json::from_value::<StationInput>(v).unwrap()).unwrap()
    };
    let sa = s.create_station(&station(Obj::In), &all).await.unwrap().id;
    let sb = s.create_station(&station(Obj::Out), &all).await.unwrap().id;
    let mut cases = [(0, String::new()), (0, String::new())];
    for (i, (dept, region)) in [("GD-SW", "44"), ("BJ-SW", "11")].into_iter().enumerate() {
        s.create_department(dept, dept, "social_work", region).await.unwrap();
        let new = NewCase {
            category: "other".into(),
            region_code: region.into(),
            description: "matrix".into(),
            ..Default::default()
        };
        let settings = dangjian_domain::services::case_settings::CaseSettings::default();
        let done = s.submit_case(&new, &settings, chrono::Utc::now()).await.unwrap();
        // The worker adds to it: a notification to the handling department.
        let step = CaseStep::new(CaseAction::AddInfo).note("matrix", true);
        s.worker_act(&done.tracking_code, &step, &settings, chrono::Utc::now()).await.unwrap();
        cases[i] = (done.id, done.tracking_code);
    }
    let (mut listed, _) = s.case_notifications(&all, false, 10).await.unwrap();
    listed.sort_by_key(|n| n.case_id);
    let notifications = [listed[0].id, listed[1].id];
    // Open311 clients: 1 files in the matrix, 2 is there to be revoked.
    let key_hash = dangjian_security::token::hash_token(MATRIX_OPEN311_KEY);
    s.create_open311_client("matrix", &key_hash, false, "cli:matrix").await.unwrap();
    s.create_open311_client("matrix-revoked", "matrix-revoked-hash", false, "cli:matrix").await.unwrap();
    Seeded { pa, pb, fa, fb, oa, ob, ia, ib, sa, sb, cases, notifications }
}

/// A fresh session of a principal's user.
async fn another_session(store: &Store, p: &SignedIn) -> SignedIn {
    support::session_of(store, p.user_id, &p.username).await
}

/// What came back.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

fn meets(expect: Expect, a: &Answer, r: &Req) -> bool {
    let to_login = a.status.is_redirection() && a.location.as_deref().is_some_and(|l| l.starts_with("/login"));
    match expect {
        Expect::Allowed => {
            let refused = matches!(a.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND);
            let shows = r.contains.as_ref().is_none_or(|c| a.body.contains(c.as_str()));
            let hides = r.lacks.as_ref().is_none_or(|c| !a.body.contains(c.as_str()));
            !refused && !to_login && !a.status.is_server_error() && shows && hides
        }
        Expect::Forbidden => a.status == StatusCode::FORBIDDEN,
        Expect::NotFound => a.status == StatusCode::NOT_FOUND,
        Expect::Unauthenticated => a.status == StatusCode::UNAUTHORIZED,
        Expect::ToLogin => to_login,
        Expect::RowsRefused => {
            a.status == StatusCode::UNPROCESSABLE_ENTITY
                && ["out_of_scope", "不在您的权限范围内", "unknown_parent", "未找到上级单位"]
                    .iter()
                    .any(|m| a.body.contains(m))
        }
        Expect::ReferenceRefused => {
            a.status == StatusCode::UNPROCESSABLE_ENTITY && CHAIN_B_NAMES.iter().all(|name| !a.body.contains(name))
        }
    }
}

async fn ask(http: &reqwest::Client, base: &str, store: &Store, p: &Principal, method: &str, r: &Req) -> Answer {
    let api = r.path.starts_with("/api/") || r.path.starts_with("/healthz");
    let session = match (&p.user, api) {
        (Some(u), false) if r.fresh_session => Some(another_session(store, u).await),
        (Some(u), false) => Some(u.clone()),
        _ => None,
    };
    // Forms carry the session's CSRF token or, before sign-in, a double-submit cookie's.
    let (csrf, cookie) = match &session {
        Some(s) => (s.csrf.clone(), s.cookie()),
        None => ("matrix-anonymous-csrf".to_owned(), "dj_csrf=matrix-anonymous-csrf".to_owned()),
    };
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut b = http.request(method, format!("{base}{}", r.path)).header("cookie", cookie);
    match &r.body {
        Body::None => {}
        Body::Json(v) => b = b.json(v),
        Body::Malformed => b = b.header("content-type", "application/json").body(r#"{"version": ["#),
        Body::BrokenForm => {
            b = b.header("content-type", "multipart/form-data; boundary=XYZ").body("--XYZ\r\nnot a part")
        }
        Body::Csv(text) if api => b = b.body(text.clone()),
        Body::Csv(text) => {
            let part = reqwest::multipart::Part::bytes(text.clone().into_bytes()).file_name("m.csv");
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", csrf)
                .text("kind", "entities")
                .text("dry_run", "1")
                .part("file", part);
            b = b.multipart(form);
        }
        Body::Form(fields) => {
            let mut fields = fields.clone();
            if fields.iter().any(|(_, v)| v == OTHER_SESSION) {
                let other = match &p.user {
                    Some(u) => hash_token(&another_session(store, u).await.session),
                    None => hash_token(&generate_session_id()),
                };
                for (_, v) in fields.iter_mut().filter(|(_, v)| v == OTHER_SESSION) {
                    v.clone_from(&other);
                }
            }
            fields.push(("csrf_token".into(), csrf));
            b = b.form(&fields);
        }
    }
    if let (true, Some(t)) = (api, &p.token) {
        b = b.bearer_auth(t);
    }
    let resp = b.send().await.unwrap();
    let status = resp.status();
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    Answer { status, location, body: resp.text().await.unwrap_or_default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_every_role_inside_and_outside_their_scope() {
    let started = Instant::now();
    let runs: Vec<_> = all_backends().await.into_iter().map(|db| tokio::spawn(run(db))).collect();
    let mut asked = 0;
    for r in runs {
        asked += r.await.unwrap();
    }
    eprintln!("authorization matrix: {} rules, {asked} requests in {:?}", RULES.len(), started.elapsed());
}

/// The world of one backend, its principals, and a server answering over it.
struct Setup {
    w: Arc<World>,
    principals: Arc<Vec<Principal>>,
    base: String,
    http: reqwest::Client,
}

impl Setup {
    fn principal(&self, role: Role) -> &Principal {
        self.principals.iter().find(|p| p.who == Who::Role(role)).expect("every role has a principal")
    }
}

async fn setup(db: &TestDb) -> Setup {
    let store = &db.store;
    let seeded = seed(store).await;
    // Principals: a user with a session and a token per role, each holding one grant.
    let mut principals = vec![Principal { who: Who::Anonymous, user: None, token: None }];
    for role in Role::ALL {
        let grant = Grant { role, scope: scope_of(role, &seeded) };
        let name = format!("m-{}", role.as_str().replace('_', "-"));
        let user = support::sign_in_as(store, &name, std::slice::from_ref(&grant)).await;
        let token = support::token_with_grants(store, &name, std::slice::from_ref(&grant)).await;
        principals.push(Principal { who: Who::Role(role), user: Some(user), token: Some(token) });
    }
    support::user_with_grants(store, "matrix-login", &support::nationwide_cadre()).await;
    // Someone for the administrators to act on: a user with two grants, two tokens.
    let victim = support::user_with_grants(store, "matrix-victim", &support::nationwide_cadre()).await;
    let mut victim_grants = [0; 2];
    for (i, sector) in ["courier", "ride_hailing"].into_iter().enumerate() {
        let g = Grant {
            role: Role::Regulator,
            scope: Scope::SectorInRegion { sector: sector.into(), path: "/44/".into() },
        };
        victim_grants[i] = store.add_grant(Holder::User(victim), &g, None).await.unwrap().id;
    }
    let mut victim_tokens = [0; 2];
    for (i, name) in ["victim-a", "victim-b"].into_iter().enumerate() {
        support::token_with_grants(store, name, &support::nationwide_cadre()).await;
        victim_tokens[i] = store.list_tokens().await.unwrap().iter().find(|t| t.name == name).unwrap().id;
    }
    let w = Arc::new(World {
        pa: seeded.pa,
        pb: seeded.pb,
        fa: seeded.fa,
        fb: seeded.fb,
        oa: seeded.oa,
        ob: seeded.ob,
        ia: seeded.ia,
        ib: seeded.ib,
        sa: seeded.sa,
        sb: seeded.sb,
        cases: seeded.cases.clone(),
        notifications: seeded.notifications,
        victim,
        victim_grants,
        victim_tokens,
        seq: AtomicU32::new(1),
    });
    let principals = Arc::new(principals);
    let loose = Quota::per_minute(1_000_000);
    let state = AppState::new(store.clone(), dangjian_security::field_cipher::Keyring::generate()).with_rate_limits(
        RateLimitConfig { login: loose, anonymous: loose, public: loose, submission: loose, ..Default::default() },
    );
    let base = support::serve_state(state).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Setup { w, principals, base, http }
}

/// The whole matrix on one backend; returns the number of requests made.
async fn run(db: TestDb) -> usize {
    let store = &db.store;
    let Setup { w, principals, base, http } = setup(&db).await;

    // Rule by rule, object by object; the askers of one question at once.
    let mut wrong = Vec::new();
    let mut asked = 0;
    for rule in RULES {
        for (obj, column) in [(Obj::In, rule.inside), (Obj::Out, rule.outside)] {
            let mut tasks = tokio::task::JoinSet::new();
            for (i, expect) in expectations(column).into_iter().enumerate() {
                let (w, principals, http, base, store) =
                    (w.clone(), principals.clone(), http.clone(), base.clone(), store.clone());
                tasks.spawn(async move {
                    let p = &principals[i];
                    let r = (rule.request)(&w, obj);
                    let a = ask(&http, &base, &store, p, rule.method, &r).await;
                    if meets(expect, &a, &r) {
                        return None;
                    }
                    let snippet: String = a.body.chars().take(160).collect();
                    Some(format!(
                        "{} {} as {} ({obj:?}): expected {expect:?}, got {} {} {snippet}",
                        rule.method,
                        r.path,
                        p.who,
                        a.status,
                        a.location.unwrap_or_default()
                    ))
                });
            }
            while let Some(done) = tasks.join_next().await {
                asked += 1;
                wrong.extend(done.unwrap());
            }
        }
    }
    assert!(wrong.is_empty(), "{} answers differ from the rules on {:?}:\n{}", wrong.len(), db.kind, wrong.join("\n"));

    // Refusals and writes left their trace in the audit log.
    let audit = |action: &str, outcome: &str| {
        let f = AuditFilter { action: Some(action.into()), outcome: Some(outcome.into()), ..Default::default() };
        async move { store.search_audit(&f, Paging::new(None, Some(500))).await.unwrap().items }
    };
    assert!(!audit("entity.update", "denied").await.is_empty(), "a refused update is audited");
    assert!(!audit("entity.create", "ok").await.is_empty());
    assert!(!audit("entity.create", "denied").await.is_empty(), "a create outside the scope is audited");
    let imports = audit("import.entities", "ok").await;
    assert!(imports.iter().all(|r| r.detail.as_deref().is_some_and(|d| d.contains("created=1"))), "{imports:?}");
    assert!(!audit("import.entities", "denied").await.is_empty());
    assert!(!audit("export.entities", "ok").await.is_empty());
    db.cleanup().await;
    asked
}

// ---------------------------------------------------------------------------------------------------
// The reference column: a write may point only at records its writer may read.

/// A write naming another record through `field`: asked by each of `askers` with the reference inside
/// the asker's reach (chain A: the write must go through, or stop at the stale version it was given)
/// and outside it (chain B: refused like an unknown record, 422 naming the field, and nothing of the
/// other record in the answer).
struct RefRule {
    method: &'static str,
    path: &'static str,
    field: &'static str,
    askers: &'static [Role],
    request: fn(&World, Obj) -> Req,
}

const fn ref_rule(
    method: &'static str,
    path: &'static str,
    field: &'static str,
    askers: &'static [Role],
    request: fn(&World, Obj) -> Req,
) -> RefRule {
    RefRule { method, path, field, askers, request }
}

/// Roles that write registry records (each reaches chain A: by region, by chain, by organization).
const WRITERS: &[Role] = &[Role::DepartmentCadre, Role::PlatformCommittee, Role::BranchSecretary];
/// Roles that may register units and import (a branch secretary's new unit is outside their organization).
const UNIT_WRITERS: &[Role] = &[Role::DepartmentCadre, Role::PlatformCommittee];

/// Names of chain B's records: an answer refusing a reference to one of them shows none.
const CHAIN_B_NAMES: &[&str] = &["乙链平台", FB_NAME, "MX-OB党委", "乙指导员", "乙驿站"];

fn ref_site(w: &World) -> Value {
    let n = w.next();
    json!({"site_code": format!("MX-R{n}"), "name": format!("参照站{n}"), "kind": "site",
           "sectors": ["food_delivery"], "region_code": "440305", "workers": "5"})
}

fn ref_branch(w: &World) -> Value {
    let n = w.next();
    json!({"code": format!("MX-RO{n}"), "name": format!("参照支部{n}"), "kind": "branch", "region_code": "440305",
           "parent_code": "MX-OA", "unit_codes": [FA]})
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn without(mut v: Value, key: &str) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove(key);
    }
    v
}

/// Every write with a reference field, each field once.
const REF_RULES: &[RefRule] = &[
    // A unit's parent, by id and by code; the issue's re-parenting of an in-scope unit under chain B's platform.
    ref_rule("POST", "/api/v1/entities", "parent_id", UNIT_WRITERS, |w, o| {
        req("/api/v1/entities").json(with(ref_site(w), "parent_id", json!(w.platform(o))))
    }),
    ref_rule("POST", "/api/v1/entities", "parent_uscc", UNIT_WRITERS, |w, o| {
        req("/api/v1/entities").json(with(ref_site(w), "parent_uscc", json!(o.pick(PA, PB))))
    }),
    ref_rule("PUT", "/api/v1/entities/{id}", "parent_uscc", WRITERS, |w, o| {
        req(format!("/api/v1/entities/{}", w.fa)).json(with(
            entity_update(Obj::In),
            "parent_uscc",
            json!(o.pick(PA, PB)),
        ))
    }),
    ref_rule("PUT", "/api/v1/entities/{id}", "parent_id", WRITERS, |w, o| {
        let v = without(entity_update(Obj::In), "parent_uscc");
        req(format!("/api/v1/entities/{}", w.fa)).json(with(v, "parent_id", json!(w.platform(o))))
    }),
    // An organization's higher organization and the units it covers.
    ref_rule("POST", "/api/v1/organizations", "parent_code", WRITERS, |w, o| {
        req("/api/v1/organizations").json(with(ref_branch(w), "parent_code", json!(o.pick("MX-OA", "MX-OB"))))
    }),
    ref_rule("POST", "/api/v1/organizations", "parent_id", WRITERS, |w, o| {
        let v = without(ref_branch(w), "parent_code");
        req("/api/v1/organizations").json(with(v, "parent_id", json!(w.org(o))))
    }),
    ref_rule("POST", "/api/v1/organizations", "units", WRITERS, |w, o| {
        req("/api/v1/organizations").json(with(ref_branch(w), "unit_codes", json!([o.pick(FA, FB)])))
    }),
    ref_rule("POST", "/api/v1/organizations", "units", WRITERS, |w, o| {
        let v = without(ref_branch(w), "unit_codes");
        req("/api/v1/organizations").json(with(v, "unit_ids", json!([w.unit(o)])))
    }),
    ref_rule("PUT", "/api/v1/organizations/{id}", "units", WRITERS, |w, o| {
        req(format!("/api/v1/organizations/{}", w.oa)).json(with(
            org_update(Obj::In),
            "unit_codes",
            json!([o.pick(FA, FB)]),
        ))
    }),
    ref_rule("PUT", "/api/v1/organizations/{id}", "parent_code", WRITERS, |w, o| {
        let v = org_update(Obj::In);
        let v = match o {
            // Keeping no higher organization stays possible; naming chain B's is refused.
            Obj::In => v,
            Obj::Out => with(v, "parent_code", json!("MX-OB")),
        };
        req(format!("/api/v1/organizations/{}", w.oa)).json(v)
    }),
    // An instructor's assignments, by code and by id.
    ref_rule("POST", "/api/v1/instructors", "assignments[0].unit_code", WRITERS, |w, o| {
        let v = new_instructor(w, Obj::In);
        req("/api/v1/instructors").json(with(
            v,
            "assignments",
            json!([{"unit_code": o.pick(FA, FB), "start_on": "2024-01-01"}]),
        ))
    }),
    ref_rule("POST", "/api/v1/instructors", "assignments[0].entity_id", WRITERS, |w, o| {
        let v = new_instructor(w, Obj::In);
        req("/api/v1/instructors").json(with(
            v,
            "assignments",
            json!([{"entity_id": w.unit(o), "start_on": "2024-01-01"}]),
        ))
    }),
    ref_rule("PUT", "/api/v1/instructors/{id}", "assignments[0].unit_code", WRITERS, |w, o| {
        let v = instructor_update(Obj::In);
        let a = json!([{"unit_code": o.pick(FA, FB), "start_on": "2024-01-01"}]);
        req(format!("/api/v1/instructors/{}", w.ia)).json(with(v, "assignments", a))
    }),
    // A station's operator.
    ref_rule("POST", "/api/v1/stations", "operator_code", WRITERS, |w, o| {
        req("/api/v1/stations").json(with(new_station(w, Obj::In), "operator_code", json!(o.pick(FA, FB))))
    }),
    ref_rule("PUT", "/api/v1/stations/{id}", "operator_code", WRITERS, |w, o| {
        req(format!("/api/v1/stations/{}", w.sa)).json(with(
            station_update(Obj::In),
            "operator_code",
            json!(o.pick(FA, FB)),
        ))
    }),
    // Imports name parents and units by code: a located row error.
    ref_rule("POST", "/api/v1/imports/{kind}", "parent_uscc", UNIT_WRITERS, |w, o| {
        let n = w.next();
        let csv = format!(
            "uscc,site_code,name,kind,sector,parent_uscc,region_code,workers,party_members\n\
             ,MX-RI{n},参照导入站{n},site,外卖配送,{},440305,5,0\n",
            o.pick(PA, PB)
        );
        req("/api/v1/imports/entities?dry_run=true&file_name=m.csv").csv(csv)
    }),
    // The pages' forms go through the same writes.
    ref_rule("POST", "/entities/new", "parent_code", UNIT_WRITERS, |w, o| Req {
        body: form(entity_form(&with(ref_site(w), "parent_uscc", json!(o.pick(PA, PB))))),
        ..req("/entities/new")
    }),
    ref_rule("POST", "/organizations/{id}/edit", "units", WRITERS, |w, o| Req {
        body: form(org_form(&with(org_update(Obj::In), "unit_codes", json!([o.pick(FA, FB)])))),
        ..req(format!("/organizations/{}/edit", w.oa))
    }),
    ref_rule("POST", "/stations/new", "operator_code", WRITERS, |w, o| Req {
        body: form(station_form(&with(new_station(w, Obj::In), "operator_code", json!(o.pick(FA, FB))))),
        ..req("/stations/new")
    }),
];

/// Whether an answer about a reference is right: inside, the write went through (or stopped at the
/// stale version); outside, it was refused as an unknown reference naming the field, showing nothing
/// of chain B.
fn reference_answer_ok(o: Obj, field: &str, a: &Answer) -> bool {
    match o {
        Obj::In => {
            matches!(a.status.as_u16(), 200 | 201 | 303 | 409)
                && !a.location.as_deref().is_some_and(|l| l.starts_with("/login"))
        }
        Obj::Out => {
            a.status == StatusCode::UNPROCESSABLE_ENTITY
                && a.body.contains(field)
                && CHAIN_B_NAMES.iter().all(|name| !a.body.contains(name))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_reference_is_to_a_record_the_writer_may_read() {
    for db in all_backends().await {
        let s = setup(&db).await;
        let mut wrong = Vec::new();
        for rule in REF_RULES {
            for role in rule.askers {
                for o in [Obj::In, Obj::Out] {
                    let r = (rule.request)(&s.w, o);
                    let a = ask(&s.http, &s.base, &db.store, s.principal(*role), rule.method, &r).await;
                    if !reference_answer_ok(o, rule.field, &a) {
                        let snippet: String = a.body.chars().take(300).collect();
                        wrong.push(format!(
                            "{} {} [{}] as {} ({o:?}): got {} {snippet}",
                            rule.method,
                            rule.path,
                            rule.field,
                            role.as_str(),
                            a.status
                        ));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{} reference answers wrong on {:?}:\n{}", wrong.len(), db.kind, wrong.join("\n"));
        // Refused references are audited as refusals, like a write out of scope.
        let audit = |action: &str| {
            let f = AuditFilter { action: Some(action.into()), outcome: Some("denied".into()), ..Default::default() };
            let store = db.store.clone();
            async move { store.search_audit(&f, Paging::new(None, Some(500))).await.unwrap().items }
        };
        for action in ["entity.update", "organization.update", "instructor.update", "station.update", "station.create"]
        {
            assert!(!audit(action).await.is_empty(), "a refused reference in {action} is audited as denied");
        }
        let imports = audit("import.entities").await;
        assert!(
            imports.iter().any(|r| r.detail.as_deref().is_some_and(|d| d.contains("out_of_scope=1"))),
            "{imports:?}"
        );
        db.cleanup().await;
    }
}

/// The answer of a request refused before its body is looked at, if the matrix expects a refusal that
/// does not depend on the body: a 403 that the other object's answer shows to depend on it (a branch
/// secretary's new unit lies outside their organization) is not a refused permission.
fn refusal(expect: Expect, other: Expect) -> Option<StatusCode> {
    match expect {
        Expect::Forbidden if matches!(other, Expect::Allowed | Expect::ReferenceRefused | Expect::RowsRefused) => None,
        Expect::Forbidden => Some(StatusCode::FORBIDDEN),
        Expect::NotFound => Some(StatusCode::NOT_FOUND),
        Expect::Unauthenticated => Some(StatusCode::UNAUTHORIZED),
        _ => None,
    }
}

/// Permission before body: every API write the asker may not make is refused (401, 403, 404) however
/// broken its body or its parameters — never answered 400 or 422, which would tell the asker about the
/// record and make the server parse what it should not.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_write_is_refused_whatever_its_body() {
    let Some(db) = all_backends().await.into_iter().next() else { return };
    let s = setup(&db).await;
    let mut wrong = Vec::new();
    let mut asked = 0;
    for rule in RULES.iter().filter(|r| r.path.starts_with("/api/") && r.method != "GET") {
        for (o, column) in [(Obj::In, rule.inside), (Obj::Out, rule.outside)] {
            let sample = (rule.request)(&s.w, o);
            // Broken JSON for a JSON body; for the others (a version or an import's options in the query)
            // parameters of the wrong type.
            let broken = match &sample.body {
                Body::Json(_) => Req { body: Body::Malformed, ..sample.clone() },
                Body::None | Body::Csv(_) => {
                    let path = sample.path.split('?').next().unwrap_or_default();
                    Req { path: format!("{path}?version=abc&dry_run=maybe"), ..sample.clone() }
                }
                Body::Form(_) | Body::Malformed | Body::BrokenForm => continue,
            };
            let other = expectations(o.pick(rule.outside, rule.inside));
            for ((p, expect), other) in s.principals.iter().zip(expectations(column)).zip(other) {
                let Some(status) = refusal(expect, other) else { continue };
                let r = broken.clone();
                let a = ask(&s.http, &s.base, &db.store, p, rule.method, &r).await;
                asked += 1;
                if a.status != status {
                    wrong.push(format!(
                        "{} {} as {} ({o:?}): expected {status}, got {}",
                        rule.method, r.path, p.who, a.status
                    ));
                }
            }
        }
    }
    assert!(asked > 50, "the API's writes were asked ({asked})");
    assert!(wrong.is_empty(), "{} refused writes answered about their body:\n{}", wrong.len(), wrong.join("\n"));
    db.cleanup().await;
}

/// Permission before body on the pages too: every page POST, asked by every signed-in asker the
/// matrix refuses, with a broken multipart body and no CSRF token, gets the refusal (403, or 404 for an
/// object that does not exist for them) — not the 403 of a missing token or the 400 of a broken form.
#[tokio::test]
async fn a_refused_page_post_is_refused_whatever_its_body_and_token() {
    let Some(db) = all_backends().await.into_iter().next() else { return };
    let s = setup(&db).await;
    let mut wrong = Vec::new();
    let mut asked = 0;
    for rule in RULES.iter().filter(|r| !r.path.starts_with("/api/") && r.method == "POST") {
        for (o, column) in [(Obj::In, rule.inside), (Obj::Out, rule.outside)] {
            let sample = (rule.request)(&s.w, o);
            let broken = Req { body: Body::BrokenForm, ..sample.clone() };
            let other = expectations(o.pick(rule.outside, rule.inside));
            for ((p, expect), other) in s.principals.iter().zip(expectations(column)).zip(other) {
                let Some(status) = refusal(expect, other).filter(|s| *s != StatusCode::UNAUTHORIZED) else {
                    continue;
                };
                let a = ask(&s.http, &s.base, &db.store, p, rule.method, &broken).await;
                asked += 1;
                // A refusal by permission is the forbidden or not-found page, never the token's words.
                let token_refusal = a.body.contains("The form has expired") || a.body.contains("表单已过期");
                if a.status != status || (status == StatusCode::FORBIDDEN && token_refusal) {
                    wrong.push(format!(
                        "POST {} as {} ({o:?}): expected {status}, got {}",
                        broken.path, p.who, a.status
                    ));
                }
            }
        }
    }
    assert!(asked > 30, "the page POSTs were asked ({asked})");
    assert!(wrong.is_empty(), "{} refused page POSTs answered about their body:\n{}", wrong.len(), wrong.join("\n"));
    db.cleanup().await;
}
