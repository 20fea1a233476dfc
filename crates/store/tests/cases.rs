//! Needs and rights cases in the store, on SQLite and (with DANGJIAN_TEST_PG) PostgreSQL: routing to the
//! nearest department of the right kind, working-day deadlines in China time, escalation driven by a
//! fixed clock, the worker's anonymous path by tracking code, and erasure after retention.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use dangjian_domain::access::Scope;
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::{CaseAction, CaseStatus};
use dangjian_domain::services::routing::RoutingRule;
use dangjian_domain::services::workdays::WorkCalendar;
use dangjian_store::cases::{CaseStep, InboxFilter, NewCase};
use dangjian_store::testing::all_backends;
use dangjian_store::{AccessFilter, Disclosure, Paging, Store, StoreError};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn cal() -> CaseSettings {
    CaseSettings::default()
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
        let holidays = CaseSettings {
            calendar: WorkCalendar {
                holidays: WorkCalendar::parse_days("2026-11-30").unwrap(),
                workdays: Default::default(),
            },
            ..CaseSettings::default()
        };
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
        // The inbox lists it as overdue from then on, not before; and by its category.
        let ids = |f: InboxFilter| async move {
            s.case_inbox(&guangdong(), &f, Paging::default())
                .await
                .unwrap()
                .items
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(InboxFilter { overdue_at: Some(later), ..Default::default() }).await, vec![sub.id]);
        assert!(ids(InboxFilter { overdue_at: Some(t("2026-11-30T15:59:59Z")), ..Default::default() })
            .await
            .is_empty());
        assert!(ids(InboxFilter { category: Some("legal_aid".into()), ..Default::default() }).await.is_empty());
        assert_eq!(
            ids(InboxFilter { category: Some("wage_arrears".into()), ..Default::default() }).await,
            vec![sub.id]
        );
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
        // What happened is said by the action, in the reader's language; no English note for everyone.
        assert_eq!((last.note.as_deref(), last.department_id), (None, Some(c.department_id)));
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
        let inbox =
            s.case_inbox(&guangdong(), &InboxFilter::status(CaseStatus::Submitted), Paging::default()).await.unwrap();
        assert_eq!(inbox.total, 2);
        assert!(inbox.items.iter().all(|c| c.contact.as_deref() != Some("13812341234")));
        // Outside the department's region: nothing.
        let beijing = AccessFilter::new([Scope::Region { path: "/11/".into() }]);
        assert_eq!(s.case_inbox(&beijing, &InboxFilter::default(), Paging::default()).await.unwrap().total, 0);
        assert!(matches!(s.case(a.id, &beijing, Disclosure::Masked).await, Err(StoreError::NotFound)));
        let chain = AccessFilter::new([Scope::Chain { root_id: 1 }]);
        assert_eq!(s.case_inbox(&chain, &InboxFilter::default(), Paging::default()).await.unwrap().total, 0);

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
        // A handler's name with a right-to-left override is refused, naming the field.
        let rlo = CaseStep { assignee: Some("张\u{202E}三".into()), ..CaseStep::new(CaseAction::Assign) };
        let refused = s.act_on_case(a.id, v, &rlo, "cadre", &g, &cal(), later).await;
        assert!(matches!(&refused, Err(StoreError::Invalid(e)) if e.0[0].field == "assignee"), "{refused:?}");
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

/// A handler's step at `at` on case `id`, whatever its version.
async fn handle(s: &Store, id: i64, step: CaseStep, at: &str) {
    let v = s.case(id, &guangdong(), Disclosure::Masked).await.unwrap().version;
    s.act_on_case(id, v, &step, "cadre", &guangdong(), &cal(), t(at)).await.unwrap();
}

#[tokio::test]
async fn configured_categories_and_holidays_apply_to_new_and_existing_cases() {
    for db in all_backends().await {
        let s = &db.store;
        departments(s).await;
        assert_eq!(s.case_settings().await.unwrap(), CaseSettings::default());
        let old = s.submit_case(&case("wage_arrears", None, "440305"), &cal(), t(FRIDAY)).await.unwrap();
        // An administrator adds a category, drops wage arrears and marks Monday a holiday.
        let mut settings = CaseSettings::default();
        settings.categories.retain(|c| c.code != "wage_arrears");
        settings.categories.push(dangjian_domain::services::cases::Category {
            code: "platform_fees".into(),
            name_zh: "平台收费".into(),
            name_en: "Platform fees".into(),
            ack_days: 2,
            resolve_days: 5,
        });
        settings.calendar.holidays = WorkCalendar::parse_days("2026-11-30").unwrap();
        s.set_case_settings(&settings, None).await.unwrap();
        let stored = s.case_settings().await.unwrap();
        assert_eq!(stored, settings);
        // New cases: the new category with its deadlines past the holiday; the dropped one is refused.
        let fees = s.submit_case(&case("platform_fees", None, "440305"), &stored, t(FRIDAY)).await.unwrap();
        assert_eq!(fees.ack_due, "2026-12-02T16:00:00Z");
        match s.submit_case(&case("wage_arrears", None, "440305"), &stored, t(FRIDAY)).await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "category"),
            other => panic!("{other:?}"),
        }
        // A case of the dropped category keeps moving, on the deadlines of `other` (3 working days).
        handle(s, old.id, CaseStep::new(CaseAction::Acknowledge), "2026-11-27T09:00:00Z").await;
        let v = s.case(old.id, &guangdong(), Disclosure::Masked).await.unwrap().version;
        let transferred =
            CaseStep { department_id: Some(fees_department(s).await), ..CaseStep::new(CaseAction::Transfer) };
        let c = s.act_on_case(old.id, v, &transferred, "cadre", &guangdong(), &stored, t(FRIDAY)).await.unwrap();
        assert_eq!(c.ack_due, "2026-12-03T16:00:00Z");
        // Bad settings are refused whole, naming the field, and the stored ones stay.
        let bad = CaseSettings { retention_days: 1, ..settings.clone() };
        match s.set_case_settings(&bad, None).await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "retention_days"),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.case_settings().await.unwrap(), settings);
        db.cleanup().await;
    }
}

async fn fees_department(s: &Store) -> i64 {
    s.departments().await.unwrap().into_iter().find(|d| d.code == "NS-POST").unwrap().id
}

#[tokio::test]
async fn resolved_cases_never_rated_close_by_themselves() {
    for db in all_backends().await {
        let s = &db.store;
        departments(s).await;
        let settings = CaseSettings { auto_close_days: 15, ..CaseSettings::default() };
        let quiet = s.submit_case(&case("wage_arrears", None, "440305"), &settings, t(FRIDAY)).await.unwrap();
        let rated = s.submit_case(&case("wage_arrears", None, "440305"), &settings, t(FRIDAY)).await.unwrap();
        let open = s.submit_case(&case("wage_arrears", None, "440305"), &settings, t(FRIDAY)).await.unwrap();
        for id in [quiet.id, rated.id] {
            handle(s, id, CaseStep::new(CaseAction::Resolve).note("已协调发放", true), "2026-11-28T00:00:00Z").await;
        }
        s.worker_act(
            &rated.tracking_code,
            &CaseStep { rating: Some(5), ..CaseStep::new(CaseAction::Rate) },
            &settings,
            t("2026-11-29T00:00:00Z"),
        )
        .await
        .unwrap();
        assert!(s.close_unrated(&settings, t("2026-12-12T23:59:59Z")).await.unwrap().is_empty());
        assert_eq!(s.close_unrated(&settings, t("2026-12-13T00:00:01Z")).await.unwrap(), vec![quiet.id]);
        assert!(s.close_unrated(&settings, t("2026-12-14T00:00:00Z")).await.unwrap().is_empty());
        let c = s.track_case(&quiet.tracking_code).await.unwrap();
        assert_eq!(
            (c.status, c.rating, c.closed_at.as_deref()),
            (CaseStatus::Closed, None, Some("2026-12-13T00:00:01Z"))
        );
        assert_eq!(c.events.last().map(|e| (e.action.as_str(), e.actor.as_str())), Some(("auto_close", "system")));
        let r = s.track_case(&rated.tracking_code).await.unwrap();
        assert_eq!((r.rating, r.closed_at.as_deref()), (Some(5), Some("2026-11-29T00:00:00Z")));
        assert_eq!(s.track_case(&open.tracking_code).await.unwrap().status, CaseStatus::Submitted);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn departments_are_notified_of_escalations_transfers_and_the_workers_steps() {
    use dangjian_store::cases::NotificationKind as K;
    for db in all_backends().await {
        let s = &db.store;
        departments(s).await;
        let nanshan = AccessFilter::new([Scope::Region { path: "/44/4403/440305/".into() }]);
        let beijing = AccessFilter::new([Scope::Region { path: "/11/".into() }]);
        let a = s.submit_case(&case("wage_arrears", None, "440305"), &cal(), t(FRIDAY)).await.unwrap();
        let b = s.submit_case(&case("wage_arrears", None, "440305"), &cal(), t(FRIDAY)).await.unwrap();
        assert_eq!(s.case_notifications(&guangdong(), false, 50).await.unwrap().1, 0);
        // `a` is overdue: the city gets it, and Nanshan hears it went up.
        assert_eq!(s.escalate_overdue(&cal(), t("2026-11-30T17:00:00Z")).await.unwrap(), vec![a.id, b.id]);
        // `b` is then passed down to Nanshan's postal administration; the worker adds to it and, once
        // resolved, reopens it.
        let post = fees_department(s).await;
        handle(
            s,
            b.id,
            CaseStep { department_id: Some(post), ..CaseStep::new(CaseAction::Transfer) },
            "2026-12-01T00:00:00Z",
        )
        .await;
        s.worker_act(
            &b.tracking_code,
            &CaseStep::new(CaseAction::AddInfo).note("补充：工资条", true),
            &cal(),
            t("2026-12-01T01:00:00Z"),
        )
        .await
        .unwrap();
        handle(s, b.id, CaseStep::new(CaseAction::Resolve), "2026-12-01T02:00:00Z").await;
        s.worker_act(
            &b.tracking_code,
            &CaseStep::new(CaseAction::Reopen).note("仍未发放", true),
            &cal(),
            t("2026-12-01T03:00:00Z"),
        )
        .await
        .unwrap();
        let (all, unread) = s.case_notifications(&guangdong(), false, 50).await.unwrap();
        let seen: Vec<(K, i64, &str)> = all.iter().map(|n| (n.kind, n.case_id, n.department_name.as_str())).collect();
        assert_eq!(
            seen,
            [
                (K::WorkerReopened, b.id, "南山区邮政管理局"),
                (K::WorkerInfo, b.id, "南山区邮政管理局"),
                (K::TransferredIn, b.id, "南山区邮政管理局"),
                (K::EscalatedOut, b.id, "南山区人社局"),
                (K::EscalatedIn, b.id, "深圳市人社局"),
                (K::EscalatedOut, a.id, "南山区人社局"),
                (K::EscalatedIn, a.id, "深圳市人社局"),
            ]
        );
        assert_eq!(unread, 7);
        // Nanshan sees only its own departments' five; Beijing none, and cannot mark them read.
        let (mine, _) = s.case_notifications(&nanshan, true, 50).await.unwrap();
        assert_eq!(mine.len(), 5);
        assert!(s.case_notifications(&beijing, false, 50).await.unwrap().0.is_empty());
        assert!(matches!(
            s.mark_notification_read(mine[0].id, &beijing, "someone", "2026-12-02T00:00:00Z").await,
            Err(StoreError::NotFound)
        ));
        s.mark_notification_read(mine[0].id, &nanshan, "cadre", "2026-12-02T00:00:00Z").await.unwrap();
        s.mark_notification_read(mine[0].id, &nanshan, "later", "2026-12-03T00:00:00Z").await.unwrap();
        let (unread_list, unread) = s.case_notifications(&nanshan, true, 50).await.unwrap();
        assert_eq!((unread_list.len(), unread), (4, 4));
        let (all, _) = s.case_notifications(&nanshan, false, 1).await.unwrap();
        assert_eq!(
            (all[0].read_by.as_deref(), all[0].read_at.as_deref()),
            (Some("cadre"), Some("2026-12-02T00:00:00Z"))
        );
        db.cleanup().await;
    }
}
