//! Needs and rights cases in the store, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL: routing to the
//! nearest department of the right kind, working-day deadlines in China time, escalation driven by a
//! fixed clock, the worker's anonymous path by tracking code, and erasure after retention.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use dangjian_domain::access::Scope;
use dangjian_domain::services::cases::{CaseAction, CaseStatus};
use dangjian_domain::services::routing::RoutingRule;
use dangjian_domain::services::workdays::WorkCalendar;
use dangjian_store::cases::{CaseStep, NewCase};
use dangjian_store::testing::all_backends;
use dangjian_store::{AccessFilter, Disclosure, Paging, Store, StoreError};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn cal() -> WorkCalendar {
    WorkCalendar::default()
}

fn case(category: &str, sector: Option<&str>, region: &str) -> NewCase {
    NewCase {
        category: category.into(),
        sector: sector.map(Into::into),
        region_code: region.into(),
        description: "三个月工资未发".into(),
        ..Default::default()
    }
}

fn guangdong() -> AccessFilter {
    AccessFilter::new([Scope::Region { path: "/44/".into() }])
}

async fn departments(s: &Store) {
    s.create_department("GD-SW", "广东省委社会工作部", "social_work", "44").await.unwrap();
    s.create_department("SZ-HR", "深圳市人社局", "human_resources", "4403").await.unwrap();
    s.create_department("NS-HR", "南山区人社局", "human_resources", "440305").await.unwrap();
    s.create_department("NS-POST", "南山区邮政管理局", "postal", "440305").await.unwrap();
}

const FRIDAY: &str = "2026-11-27T08:00:00Z"; // 16:00 in Beijing

#[tokio::test]
async fn routing_goes_to_the_nearest_department_of_the_kind() {
    for db in all_backends().await {
        let s = &db.store;
        s.create_department("GD-SW", "广东省委社会工作部", "social_work", "44").await.unwrap();
        s.create_department("SZ-HR", "深圳市人社局", "human_resources", "4403").await.unwrap();
        s.create_department("NS-POST", "南山区邮政管理局", "postal", "440305").await.unwrap();
        let now = t(FRIDAY);
        // Wage arrears → human resources; none in the township or county, the city's.
        let a = s.submit_case(&case("wage_arrears", Some("courier"), "440305001"), &cal(), now).await.unwrap();
        assert_eq!(a.department_name, "深圳市人社局");
        // Dispatch penalties of a courier → the postal administration of the county.
        let b = s.submit_case(&case("algorithmic_dispatch", Some("courier"), "440305"), &cal(), now).await.unwrap();
        assert_eq!(b.department_name, "南山区邮政管理局");
        // Food delivery → market regulation, of which there is none: the social work department.
        let c =
            s.submit_case(&case("algorithmic_dispatch", Some("food_delivery"), "440305"), &cal(), now).await.unwrap();
        assert_eq!(c.department_name, "广东省委社会工作部");
        // An edited table wins over the defaults.
        s.replace_routing_table(&[RoutingRule {
            category: None,
            sector: None,
            level: None,
            department_kind: "social_work".into(),
        }])
        .await
        .unwrap();
        assert_eq!(s.routing_table().await.unwrap().len(), 1);
        let d = s.submit_case(&case("wage_arrears", None, "440305"), &cal(), now).await.unwrap();
        assert_eq!(d.department_name, "广东省委社会工作部");
        let bad = s
            .replace_routing_table(&[RoutingRule {
                category: None,
                sector: None,
                level: None,
                department_kind: "x".into(),
            }])
            .await;
        assert!(matches!(&bad, Err(StoreError::Invalid(e)) if e.0[0].field == "department_kind"), "{bad:?}");
        // Errors name their field.
        let mut wrong = case("nonsense", None, "999999");
        wrong.description = "x".repeat(4001);
        match s.submit_case(&wrong, &cal(), now).await {
            Err(StoreError::Invalid(e)) => {
                let fields: Vec<_> = e.0.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, vec!["category", "description"]);
            }
            other => panic!("{other:?}"),
        }
        let e = s.submit_case(&case("other", None, "999999"), &cal(), now).await;
        assert!(matches!(&e, Err(StoreError::Invalid(e)) if e.0[0].field == "region_code"), "{e:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn deadlines_count_working_days_in_china_time() {
    for db in all_backends().await {
        let s = &db.store;
        departments(s).await;
        // Friday 16:00 in Beijing: acknowledge by the end of Monday, resolve in 10 working days.
        let a = s.submit_case(&case("wage_arrears", None, "440305"), &cal(), t(FRIDAY)).await.unwrap();
        assert_eq!(a.ack_due, "2026-11-30T16:00:00Z");
        assert_eq!(a.resolve_due, "2026-12-11T16:00:00Z");
        // Thursday 23:30 in Beijing (15:30 UTC) is still Thursday: due at the end of Friday.
        let b = s.submit_case(&case("wage_arrears", None, "440305"), &cal(), t("2026-11-26T15:30:00Z")).await.unwrap();
        assert_eq!(b.ack_due, "2026-11-27T16:00:00Z");
        // Thursday 16:30 UTC is Friday 00:30 in Beijing: the end of Monday.
        let c = s.submit_case(&case("wage_arrears", None, "440305"), &cal(), t("2026-11-26T16:30:00Z")).await.unwrap();
        assert_eq!(c.ack_due, "2026-11-30T16:00:00Z");
        // Holidays from the configured calendar are skipped too.
        let holidays =
            WorkCalendar { holidays: WorkCalendar::parse_days("2026-11-30").unwrap(), workdays: Default::default() };
        let d = s.submit_case(&case("wage_arrears", None, "440305"), &holidays, t(FRIDAY)).await.unwrap();
        assert_eq!(d.ack_due, "2026-12-01T16:00:00Z");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn overdue_cases_escalate_one_level_up_once() {
    for db in all_backends().await {
        let s = &db.store;
        departments(s).await;
        let sub = s.submit_case(&case("wage_arrears", None, "440305"), &cal(), t(FRIDAY)).await.unwrap();
        assert_eq!(sub.department_name, "南山区人社局");
        // Before the deadline nothing moves.
        assert!(s.escalate_overdue(&cal(), t("2026-11-30T15:59:59Z")).await.unwrap().is_empty());
        let later = t("2026-11-30T17:00:00Z");
        assert_eq!(s.escalate_overdue(&cal(), later).await.unwrap(), vec![sub.id]);
        // Run again (a restart, another process): already escalated, nothing more.
        assert!(s.escalate_overdue(&cal(), later).await.unwrap().is_empty());
        let c = s.case(sub.id, &guangdong(), Disclosure::Masked).await.unwrap();
        assert_eq!(c.department_name, "深圳市人社局");
        assert_eq!((c.escalation_level, c.status), (1, CaseStatus::Submitted));
        // Tuesday 01:00 in Beijing + 1 working day: the end of Wednesday.
        assert_eq!(c.ack_due, "2026-12-02T16:00:00Z");
        let last = c.events.last().unwrap();
        assert_eq!(
            (last.action.as_str(), last.actor.as_str(), last.at.as_str()),
            ("escalate", "system", "2026-11-30T17:00:00Z")
        );
        assert!(last.public);
        // Overdue again at the city, but there is no human resources department above: it stays.
        assert!(s.escalate_overdue(&cal(), t("2026-12-10T00:00:00Z")).await.unwrap().is_empty());
        // An acknowledged case escalates on its resolution deadline, not before.
        let other = s.submit_case(&case("wage_arrears", None, "440305"), &cal(), t(FRIDAY)).await.unwrap();
        let v = s.case(other.id, &guangdong(), Disclosure::Masked).await.unwrap().version;
        s.act_on_case(
            other.id,
            v,
            &CaseStep::new(CaseAction::Acknowledge),
            "cadre",
            &guangdong(),
            &cal(),
            t("2026-11-30T01:00:00Z"),
        )
        .await
        .unwrap();
        assert!(s.escalate_overdue(&cal(), t("2026-12-05T00:00:00Z")).await.unwrap().is_empty());
        assert_eq!(s.escalate_overdue(&cal(), t("2026-12-11T16:00:01Z")).await.unwrap(), vec![other.id]);
        let o = s.case(other.id, &guangdong(), Disclosure::Masked).await.unwrap();
        assert_eq!((o.department_name.as_str(), o.status), ("深圳市人社局", CaseStatus::Acknowledged));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn anonymous_submit_track_resolve_rate() {
    for db in all_backends().await {
        let s = &db.store;
        departments(s).await;
        let now = t(FRIDAY);
        // Anonymous: a contact typed anyway is not kept.
        let anon =
            NewCase { anonymous: true, contact: Some("13812341234".into()), ..case("wage_arrears", None, "440305") };
        let a = s.submit_case(&anon, &cal(), now).await.unwrap();
        let tracked = s.track_case(&a.tracking_code.to_lowercase().replace('-', " ")).await.unwrap();
        assert_eq!((tracked.status, tracked.contact.as_deref()), (CaseStatus::Submitted, None));
        assert_eq!(tracked.events.len(), 1);

        // With a contact: encrypted at rest, masked on the tracking page and in the inbox.
        let named = NewCase { contact: Some(" 13812341234 ".into()), ..case("wage_arrears", None, "440305") };
        let n = s.submit_case(&named, &cal(), now).await.unwrap();
        let stored: String =
            sqlx::query_scalar("SELECT contact FROM cases WHERE id = $1").bind(n.id).fetch_one(s.pool()).await.unwrap();
        assert!(stored.starts_with("v1.") && !stored.contains("1234"), "{stored}");
        assert_eq!(s.track_case(&n.tracking_code).await.unwrap().contact.as_deref(), Some("138****1234"));
        let full = s.case(n.id, &guangdong(), Disclosure::Full).await.unwrap();
        assert_eq!(full.contact.as_deref(), Some("13812341234"));
        let inbox = s.case_inbox(&guangdong(), Some(CaseStatus::Submitted), Paging::default()).await.unwrap();
        assert_eq!(inbox.total, 2);
        assert!(inbox.items.iter().all(|c| c.contact.as_deref() != Some("13812341234")));
        // Outside the department's region: nothing.
        let beijing = AccessFilter::new([Scope::Region { path: "/11/".into() }]);
        assert_eq!(s.case_inbox(&beijing, None, Paging::default()).await.unwrap().total, 0);
        assert!(matches!(s.case(a.id, &beijing, Disclosure::Masked).await, Err(StoreError::NotFound)));
        let chain = AccessFilter::new([Scope::Chain { root_id: 1 }]);
        assert_eq!(s.case_inbox(&chain, None, Paging::default()).await.unwrap().total, 0);

        // Rating before resolution is refused; the worker adds information.
        let early = s
            .worker_act(&a.tracking_code, &CaseStep { rating: Some(5), ..CaseStep::new(CaseAction::Rate) }, &cal(), now)
            .await;
        assert!(matches!(&early, Err(StoreError::Invalid(e)) if e.0[0].field == "action"), "{early:?}");
        s.worker_act(&a.tracking_code, &CaseStep::new(CaseAction::AddInfo).note("站点在南山区", false), &cal(), now)
            .await
            .unwrap();

        // The department works it: acknowledge, internal note, public note, assign, resolve.
        let g = guangdong();
        let later = t("2026-11-30T02:00:00Z");
        let mut v = s.case(a.id, &g, Disclosure::Masked).await.unwrap().version;
        for step in [
            CaseStep::new(CaseAction::Acknowledge),
            CaseStep::new(CaseAction::Note).note("内部：已联系平台", false),
            CaseStep { assignee: Some("张三".into()), ..CaseStep::new(CaseAction::Assign) },
            CaseStep::new(CaseAction::Note).note("已约谈平台", true),
            CaseStep::new(CaseAction::Resolve).note("工资已补发", true),
        ] {
            v = s.act_on_case(a.id, v, &step, "cadre", &g, &cal(), later).await.unwrap().version;
        }
        let stale = s
            .act_on_case(a.id, v - 1, &CaseStep::new(CaseAction::Note).note("x", false), "cadre", &g, &cal(), later)
            .await;
        assert!(matches!(stale, Err(StoreError::StaleVersion { .. })), "{stale:?}");
        let again = s.act_on_case(a.id, v, &CaseStep::new(CaseAction::Acknowledge), "cadre", &g, &cal(), later).await;
        assert!(matches!(again, Err(StoreError::Invalid(_))), "{again:?}");

        let seen = s.track_case(&a.tracking_code).await.unwrap();
        assert_eq!(seen.status, CaseStatus::Resolved);
        let notes: Vec<_> = seen.events.iter().filter_map(|e| e.note.clone()).collect();
        assert_eq!(notes, vec!["站点在南山区", "已约谈平台", "工资已补发"]);
        assert!(seen.events.iter().all(|e| e.action != "assign"));
        let actions: Vec<_> = seen.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, vec!["submit", "add_info", "acknowledge", "note", "resolve"]);

        let bad = s
            .worker_act(
                &a.tracking_code,
                &CaseStep { rating: Some(6), ..CaseStep::new(CaseAction::Rate) },
                &cal(),
                later,
            )
            .await;
        assert!(matches!(&bad, Err(StoreError::Invalid(e)) if e.0[0].field == "rating"), "{bad:?}");
        let rated = s
            .worker_act(
                &a.tracking_code,
                &CaseStep { rating: Some(5), ..CaseStep::new(CaseAction::Rate) },
                &cal(),
                later,
            )
            .await
            .unwrap();
        assert_eq!((rated.status, rated.rating), (CaseStatus::Closed, Some(5)));
        assert_eq!(rated.closed_at.as_deref(), Some("2026-11-30T02:00:00Z"));
        let full = s.case(a.id, &g, Disclosure::Masked).await.unwrap();
        assert_eq!(full.events.len(), 8);
        assert_eq!(full.assignee.as_deref(), Some("张三"));
        // A worker cannot act as a department, nor the reverse.
        assert!(s.worker_act(&n.tracking_code, &CaseStep::new(CaseAction::Resolve), &cal(), later).await.is_err());
        assert!(s.track_case("NOPE-NOPE0").await.is_err());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn personal_fields_are_erased_after_retention() {
    for db in all_backends().await {
        let s = &db.store;
        departments(s).await;
        let g = guangdong();
        let named = NewCase { contact: Some("13812341234".into()), ..case("wage_arrears", None, "440305") };
        let closed = s.submit_case(&named, &cal(), t(FRIDAY)).await.unwrap();
        let open = s.submit_case(&named, &cal(), t(FRIDAY)).await.unwrap();
        let at = t("2026-11-30T02:00:00Z");
        let v = s.case(closed.id, &g, Disclosure::Masked).await.unwrap().version;
        let v = s
            .act_on_case(
                closed.id,
                v,
                &CaseStep::new(CaseAction::Resolve).note("已解决", true),
                "cadre",
                &g,
                &cal(),
                at,
            )
            .await
            .unwrap()
            .version;
        assert!(v > 1);
        s.worker_act(
            &closed.tracking_code,
            &CaseStep { rating: Some(4), ..CaseStep::new(CaseAction::Rate) },
            &cal(),
            at,
        )
        .await
        .unwrap();
        // Not yet past the retention period.
        assert_eq!(s.erase_expired_cases(30, t("2026-12-29T00:00:00Z")).await.unwrap(), 0);
        assert_eq!(s.erase_expired_cases(30, t("2027-01-01T00:00:00Z")).await.unwrap(), 1);
        assert_eq!(s.erase_expired_cases(30, t("2027-01-01T00:00:00Z")).await.unwrap(), 0);
        let c = s.case(closed.id, &g, Disclosure::Full).await.unwrap();
        assert_eq!((c.description.as_str(), c.contact.as_deref()), ("", None));
        assert!(c.events.iter().all(|e| e.note.is_none()));
        // The statistics stay.
        assert_eq!((c.category.as_str(), c.rating, c.status), ("wage_arrears", Some(4), CaseStatus::Closed));
        assert_eq!(c.resolved_at.as_deref(), Some("2026-11-30T02:00:00Z"));
        assert_eq!(c.erased_at.as_deref(), Some("2027-01-01T00:00:00Z"));
        let o = s.case(open.id, &g, Disclosure::Full).await.unwrap();
        assert_eq!(o.contact.as_deref(), Some("13812341234"));
        db.cleanup().await;
    }
}
