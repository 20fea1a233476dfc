//! The members' rules over HTTP, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL: the dues calculator
//! (`GET /api/v1/dues/calculate`) against worked examples and its parameters' problems, the
//! development checker (`POST /api/v1/development/check`) with its violations and its bodies' problems,
//! and the two pages in both languages. For every signed-in role; anonymous gets 401 or the login page.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use dangjian_store::testing::{all_backends, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::SignedIn;

struct App {
    base: String,
    /// Sends a nationwide cadre's API token.
    http: reqwest::Client,
    /// Nobody signed in; redirects are not followed.
    anon: reqwest::Client,
    /// A signed-in session of the same role, for the pages.
    user: SignedIn,
    db: TestDb,
}

async fn apps() -> Vec<App> {
    let mut out = Vec::new();
    for db in all_backends().await {
        let grants = support::nationwide_cadre();
        let token = support::token_with_grants(&db.store, "members test", &grants).await;
        let user = support::sign_in_as(&db.store, "secretary", &grants).await;
        let base = support::serve(db.store.clone()).await;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
        let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        out.push(App { base, http, anon, user, db });
    }
    out
}

impl App {
    async fn dues(&self, query: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}/api/v1/dues/calculate?{query}", self.base))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn check_raw(&self, body: &str, lang: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/development/check", self.base))
            .header("accept-language", lang)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn check(&self, body: &Value) -> (StatusCode, Value) {
        self.check_raw(&body.to_string(), "en").await
    }

    async fn page(&self, path: &str, lang: Option<&str>) -> (StatusCode, String) {
        let cookie = lang.map_or_else(|| self.user.cookie(), |l| self.user.cookie_with_lang(l));
        let r = self.anon.get(format!("{}{path}", self.base)).header("cookie", cookie).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)], csrf: bool) -> (StatusCode, String) {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if csrf {
            form.push(("csrf_token", &self.user.csrf));
        }
        let r = self
            .anon
            .post(format!("{}{path}", self.base))
            .header("cookie", self.user.cookie_with_lang("en"))
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }
}

/// DOMAIN.md "Party dues": worked examples at every bracket edge, gig averages, retirees and the fixed
/// amounts, answered with exact decimal strings.
#[tokio::test]
async fn dues_match_the_worked_examples() {
    let table = [
        ("category=wage&monthly_income=3000", Some("3000.00"), Some("0.005"), "15.00", "dues.wage.0-3000"),
        ("category=wage&monthly_income=3000.00", Some("3000.00"), Some("0.005"), "15.00", "dues.wage.0-3000"),
        ("category=wage&monthly_income=3000.01", Some("3000.01"), Some("0.01"), "30.00", "dues.wage.3000-5000"),
        ("category=wage&monthly_income=4700", Some("4700.00"), Some("0.01"), "47.00", "dues.wage.3000-5000"),
        ("category=wage&monthly_income=5000", Some("5000.00"), Some("0.01"), "50.00", "dues.wage.3000-5000"),
        ("category=wage&monthly_income=5000.01", Some("5000.01"), Some("0.015"), "75.00", "dues.wage.5000-10000"),
        ("category=wage&monthly_income=10000", Some("10000.00"), Some("0.015"), "150.00", "dues.wage.5000-10000"),
        ("category=wage&monthly_income=10000.01", Some("10000.01"), Some("0.02"), "200.00", "dues.wage.10000+"),
        ("category=gig&previous_quarter=2800,3200,3000", Some("3000.00"), Some("0.005"), "15.00", "dues.gig.0-3000"),
        (
            "category=gig&previous_quarter=4000,6000,8000",
            Some("6000.00"),
            Some("0.015"),
            "90.00",
            "dues.gig.5000-10000",
        ),
        ("category=gig&previous_quarter=0,0,31000", Some("10333.33"), Some("0.02"), "206.67", "dues.gig.10000+"),
        ("category=retiree&monthly_income=5000", Some("5000.00"), Some("0.005"), "25.00", "dues.retiree.0-5000"),
        ("category=retiree&monthly_income=6000", Some("6000.00"), Some("0.01"), "60.00", "dues.retiree.5000+"),
        ("category=student", None, None, "0.20", "dues.fixed.student"),
        ("category=unemployed&monthly_income=0", None, None, "0.20", "dues.fixed.unemployed"),
        ("category=relief", None, None, "0.20", "dues.fixed.relief"),
        ("category=farmer", None, None, "0.20", "dues.farmer"),
        ("category=farmer&farmer_amount=1.00", None, None, "1.00", "dues.farmer"),
    ];
    for app in apps().await {
        for (query, base, rate, amount, rule) in table {
            let (s, v) = app.dues(query).await;
            assert_eq!(s, StatusCode::OK, "{query}: {v}");
            assert_eq!(v["base"].as_str(), base, "{query}: {v}");
            assert_eq!(v["rate"].as_str(), rate, "{query}: {v}");
            assert_eq!(v["amount"], amount, "{query}: {v}");
            assert_eq!(v["rule"], rule, "{query}: {v}");
            assert_eq!(v["rule_version"], "2008-04-01", "{query}: {v}");
        }
        let (_, v) = app.dues("category=wage&monthly_income=4700").await;
        assert!(v["rule_text"].as_str().unwrap().contains("up to and including 5000.00 yuan, 1%"), "{v}");
        app.db.cleanup().await;
    }
}

/// Every bad parameter is a 400 naming it.
#[tokio::test]
async fn bad_dues_parameters_are_400_naming_the_parameter() {
    let table = [
        ("category=wage&monthly_income=abc", "monthly_income", "invalid_amount"),
        ("category=wage&monthly_income=-5", "monthly_income", "negative"),
        ("category=wage&monthly_income=4700.123", "monthly_income", "too_many_decimals"),
        ("category=wage", "monthly_income", "required"),
        ("category=gig&previous_quarter=3000,4000", "previous_quarter", "three_months"),
        ("category=gig&previous_quarter=1,2,3,4", "previous_quarter", "three_months"),
        ("category=gig&previous_quarter=1,x,3", "previous_quarter", "invalid_amount"),
        ("category=gig", "previous_quarter", "required"),
        ("category=worker&monthly_income=1", "category", "invalid_category"),
        ("monthly_income=1", "category", "required"),
        ("category=farmer&farmer_amount=1.5", "farmer_amount", "out_of_range"),
        ("category=wage&monthly_income=1&on=2008-03-31", "on", "no_rules"),
        ("category=wage&monthly_income=1&on=someday", "on", "invalid_date"),
    ];
    for app in apps().await {
        for (query, field, code) in table {
            let (s, v) = app.dues(query).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {v}");
            assert_eq!(v["error"]["code"], "invalid_parameter", "{query}: {v}");
            assert_eq!(v["error"]["field"], field, "{query}: {v}");
            assert_eq!(v["error"]["details"][0]["code"], code, "{query}: {v}");
        }
        app.db.cleanup().await;
    }
}

fn good_record() -> Value {
    json!({
        "birth_date": "2002-01-01", "applied_on": "2022-01-10", "talked_on": "2022-02-01",
        "activist_on": "2022-03-01", "assessments": ["2022-09-01", "2023-03-01"], "target_on": "2023-03-01",
        "review_done_on": "2023-05-01", "training_hours": 24,
        "introducers": [{"full_member": true}, {"full_member": true}],
        "vote": {"present": 6, "eligible": 10, "for": 6},
        "admitted_on": "2023-06-01", "approved_on": "2023-08-01", "full_on": "2024-06-01"
    })
}

/// DOMAIN.md "Member development": the checker over HTTP — a good record breaks nothing; a bad one
/// names each rule with its dates, in the request's language.
#[tokio::test]
async fn the_development_checker_names_rules_and_dates() {
    for app in apps().await {
        let (s, v) = app.check(&good_record()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v, json!({"violations": []}));

        let mut bad = good_record();
        bad["target_on"] = json!("2023-01-15");
        bad["assessments"] = json!(["2022-08-01", "2023-01-10"]);
        bad["vote"] = json!({"present": 5, "eligible": 10, "for": 5});
        bad["introducers"] = json!([{"full_member": true}, {"full_member": false}]);
        bad["approved_on"] = json!("2023-09-02");
        let (s, v) = app.check(&bad).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let rules: Vec<&str> =
            v["violations"].as_array().unwrap().iter().map(|x| x["rule"].as_str().unwrap()).collect();
        assert_eq!(
            rules,
            [
                "development.min_activist_months",
                "development.two_full_member_introducers",
                "development.vote_quorum",
                "development.vote_majority",
                "development.approval_within_three_months"
            ],
            "{v}"
        );
        let first = &v["violations"][0];
        assert_eq!(first["dates"], json!(["2022-03-01", "2023-01-15"]));
        assert!(first["message"].as_str().unwrap().contains("earliest 2023-03-01"), "{first}");

        let (_, zh) = app.check_raw(&bad.to_string(), "zh-CN").await;
        assert!(zh["violations"][0]["message"].as_str().unwrap().contains("培养教育"), "{zh}");
        app.db.cleanup().await;
    }
}

/// A body without the required dates, or with a date that is not one, is 422 naming each field; a
/// body that is not JSON is 400.
#[tokio::test]
async fn bad_development_bodies_name_their_fields() {
    for app in apps().await {
        let (s, v) = app.check(&json!({})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields: Vec<&str> =
            v["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["birth_date", "applied_on"], "{v}");

        let (s, v) = app
            .check(&json!({"birth_date": "2000-02-30", "applied_on": "2020-01-01", "assessments": ["2020-07-01", "later"]}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let fields: Vec<&str> =
            v["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["birth_date", "assessments[1]"], "{v}");
        assert_eq!(v["error"]["details"][0]["code"], "invalid_date");

        let (s, v) = app.check(&json!({"birth_date": "2000-01-01", "applied_on": "2020-01-01", "vote": {"present": 3, "eligible": 2, "for": 1}})).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("vote.present")), "{v}");

        let (s, v) =
            app.check(&json!({"birth_date": "2000-01-01", "applied_on": "2020-01-01", "training_hours": "many"})).await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("training_hours")),
            "{v}"
        );

        let (s, v) = app.check_raw("{\"birth_date\": ", "en").await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")), "{v}");
        app.db.cleanup().await;
    }
}

/// Signed in only: anonymous gets 401 from the API and the login page from the pages.
#[tokio::test]
async fn anonymous_is_refused() {
    for app in apps().await {
        let r = app.anon.get(format!("{}/api/v1/dues/calculate?category=student", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r =
            app.anon.post(format!("{}/api/v1/development/check", app.base)).json(&good_record()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        for path in ["/dues/calculator", "/development/check"] {
            let r = app.anon.get(format!("{}{path}", app.base)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
            assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"), "{path}");
        }
        app.db.cleanup().await;
    }
}

/// The pages: Chinese by default, English on request, the result in words; the development form goes
/// through the CSRF check.
#[tokio::test]
async fn the_pages_calculate_and_check() {
    for app in apps().await {
        let (s, page) = app.page("/dues/calculator", None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("党费计算器") && page.contains("href=\"/dues/calculator\""), "{page}");
        let (s, page) = app.page("/dues/calculator?category=wage&monthly_income=4700", Some("en")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("data-testid=\"dues-amount\">47.00<"), "{page}");
        assert!(page.contains("1%") && page.contains("dues.wage.3000-5000"), "{page}");
        let (s, page) = app.page("/dues/calculator?category=wage&monthly_income=abc", Some("en")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(page.contains("is not an amount"), "{page}");

        let (s, page) = app.page("/development/check", None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("发展党员程序检查"), "{page}");
        let form = [
            ("birth_date", "2002-01-01"),
            ("applied_on", "2022-01-10"),
            ("talked_on", "2022-03-01"),
            ("introducer_1", "full"),
        ];
        let (s, page) = app.post_form("/development/check", &form, true).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("data-rule=\"development.talk_within_month\""), "{page}");
        assert!(page.contains("applied 2022-01-10, talked 2022-03-01"), "{page}");
        let (s, page) = app.post_form("/development/check", &[("birth_date", "2002-01-01")], true).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("href=\"#f-applied_on\""), "{page}");
        let (s, _) = app.post_form("/development/check", &form, false).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        app.db.cleanup().await;
    }
}
