//! The demo's worker services: departments that handle cases (a social work department in every
//! provincial-level unit, so a case filed anywhere has a home, and the line departments of a few demo
//! districts), worker stations for the finder, and a handful of cases at every stage of their life, so
//! the inbox and the statistics have something to show. Stations and departments come from
//! `crates/cli/demo/*.psv`; each kind is loaded only into an empty table.

use crate::demo::{cells, opt, parsed, records};
use anyhow::{anyhow, Context};
use chrono::{DateTime, Duration, Utc};
use dangjian_domain::services::case_settings::CaseSettings;
use dangjian_domain::services::cases::CaseAction;
use dangjian_domain::services::stations::{StationDraft, StationInput};
use dangjian_domain::RegionLevel;
use dangjian_store::access::AccessFilter;
use dangjian_store::cases::{CaseStep, NewCase};
use dangjian_store::regions::RegionFilter;
use dangjian_store::stations::StationFilter;
use dangjian_store::{Paging, Store};

const STATIONS: &str = include_str!("../demo/stations.psv");
const DEPARTMENTS: &str = include_str!("../demo/departments.psv");

/// The demo stations, parsed and checked like an upload.
pub fn stations() -> anyhow::Result<Vec<(usize, StationDraft)>> {
    records(STATIONS)
        .map(|(line, c)| {
            let [code, name, operator, address, region, lat, lng, amenities, hours, phone] = <[&str; 10]>::try_from(c)
                .map_err(|c| anyhow!("stations.psv line {line}: {} cells, not 10", c.len()))?;
            let input = StationInput {
                code: opt(code),
                name: opt(name),
                operator_department: opt(operator),
                address: opt(address),
                region_code: opt(region),
                latitude: opt(lat),
                longitude: opt(lng),
                amenities: amenities.split(',').map(str::to_owned).collect(),
                opening_hours: opt(hours),
                contact_phone: opt(phone),
                ..Default::default()
            };
            Ok((line, parsed("stations.psv", line, StationDraft::parse(&input))?))
        })
        .collect()
}

/// The social work department's name for a provincial-level unit: 省/市 take 委, the others 党委.
fn social_work_name(province: &str) -> String {
    if province.ends_with('省') || province.ends_with('市') {
        format!("{province}委社会工作部")
    } else {
        format!("{province}党委社会工作部")
    }
}

/// What loading the demo's services did.
#[derive(Debug, Clone, Default)]
pub struct ServicesReport {
    pub departments: usize,
    pub stations: usize,
    pub cases: usize,
}

pub async fn load(store: &Store) -> anyhow::Result<ServicesReport> {
    let mut report = ServicesReport::default();
    let all = AccessFilter::unrestricted();
    if store.departments().await?.is_empty() {
        let filter = RegionFilter { level: Some(RegionLevel::Province), ..Default::default() };
        let provinces = store.list_regions(&filter, Paging::new(Some(1), Some(100))).await?.items;
        for p in &provinces {
            store
                .create_department(&format!("SW-{}", p.code), &social_work_name(&p.name), "social_work", &p.code)
                .await
                .with_context(|| format!("the social work department of {}", p.name))?;
        }
        report.departments = provinces.len();
        for (line, c) in records(DEPARTMENTS) {
            let [code, name, kind, region] = cells::<4>("departments.psv", line, &c)?;
            store
                .create_department(code, name, kind, region)
                .await
                .with_context(|| format!("departments.psv line {line}"))?;
            report.departments += 1;
        }
    }
    if store.list_stations(&StationFilter::default(), Paging::new(Some(1), Some(1)), &all).await?.total == 0 {
        let rows = stations()?;
        store.import_stations(&rows, false, &all).await.map_err(|e| anyhow!("stations.psv: {e}"))?;
        report.stations = rows.len();
    }
    if store.case_inbox(&all, &Default::default(), Paging::new(Some(1), Some(1))).await?.total == 0 {
        report.cases = demo_cases(store, Utc::now()).await?;
    }
    Ok(report)
}

/// One demo case: what, where, when it was filed (days before now) and what happened since.
struct DemoCase {
    category: &'static str,
    sector: Option<&'static str>,
    region: &'static str,
    description: &'static str,
    contact: Option<&'static str>,
    days_ago: i64,
    /// Handler steps (day offsets after filing) and, at the end, the worker's rating.
    steps: &'static [(i64, CaseAction, &'static str)],
    rating: Option<i64>,
}

const CASES: &[DemoCase] = &[
    DemoCase {
        category: "wage_arrears",
        sector: Some("food_delivery"),
        region: "110105",
        description: "站点拖欠两个月配送费，站长说平台还没结算。",
        contact: Some("13800000001"),
        days_ago: 1,
        steps: &[],
        rating: None,
    },
    DemoCase {
        category: "algorithmic_dispatch",
        sector: Some("food_delivery"),
        region: "110105",
        description: "暴雨天系统仍按正常时限派单，超时被扣款。",
        contact: None,
        days_ago: 3,
        steps: &[(0, CaseAction::Acknowledge, "已受理，正在向平台调取派单记录")],
        rating: None,
    },
    DemoCase {
        category: "rest_facilities",
        sector: Some("courier"),
        region: "440305",
        description: "科技园附近没有可以歇脚喝水的地方。",
        contact: None,
        days_ago: 12,
        steps: &[
            (1, CaseAction::Acknowledge, "已受理"),
            (6, CaseAction::Resolve, "已在科技南十二路开设粤海暖蜂驿站，24小时开放饮水和充电。"),
        ],
        rating: Some(5),
    },
    DemoCase {
        category: "occupational_injury",
        sector: Some("ride_hailing"),
        region: "310115",
        description: "送客途中被追尾受伤，不清楚职业伤害保障怎么申请。",
        contact: Some("13900000002"),
        days_ago: 20,
        steps: &[
            (1, CaseAction::Acknowledge, "已受理，已联系平台保险专员"),
            (9, CaseAction::Resolve, "已协助提交职业伤害保障申请，理赔款已到账。"),
        ],
        rating: Some(4),
    },
    DemoCase {
        category: "social_insurance",
        sector: Some("live_streaming"),
        region: "330106",
        description: "签约公司不给缴社保，说我们是合作关系。",
        contact: None,
        days_ago: 15,
        steps: &[(2, CaseAction::Acknowledge, "已受理"), (12, CaseAction::Resolve, "已约谈公司，按规定补缴。")],
        rating: None,
    },
    DemoCase {
        category: "wage_arrears",
        sector: Some("courier"),
        region: "440305",
        description: "快递网点关门，老板失联，欠三个月工资。",
        contact: Some("13700000003"),
        days_ago: 9,
        steps: &[],
        rating: None,
    },
    DemoCase {
        category: "traffic_safety",
        sector: Some("food_delivery"),
        region: "510107",
        description: "人民南路路口没有非机动车等候区，午高峰很危险。",
        contact: None,
        days_ago: 30,
        steps: &[
            (1, CaseAction::Acknowledge, "已受理，转交交管部门核实"),
            (14, CaseAction::Resolve, "已增设非机动车等候区并延长绿灯时间。"),
        ],
        rating: Some(3),
    },
];

/// Files the demo cases at their times and plays their steps, as the department's cadre and the
/// worker would; cases left overdue are escalated by the server's deadline job once it runs.
async fn demo_cases(store: &Store, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let settings = CaseSettings::default();
    let all = AccessFilter::unrestricted();
    for c in CASES {
        let filed_at = now - Duration::days(c.days_ago);
        let new = NewCase {
            category: c.category.into(),
            sector: c.sector.map(Into::into),
            region_code: c.region.into(),
            description: c.description.into(),
            contact: c.contact.map(Into::into),
            anonymous: c.contact.is_none(),
            ..Default::default()
        };
        let done = store.submit_case(&new, &settings, filed_at).await.context("a demo case")?;
        let mut version = store.case(done.id, &all, dangjian_store::Disclosure::Masked).await?.version;
        for (day, action, note) in c.steps {
            let step = CaseStep::new(*action).note(note, true);
            let at = filed_at + Duration::days(*day) + Duration::hours(2);
            version = store.act_on_case(done.id, version, &step, "demo", &all, &settings, at).await?.version;
        }
        if let Some(r) = c.rating {
            let step = CaseStep { rating: Some(r), ..CaseStep::new(CaseAction::Rate) };
            store.worker_act(&done.tracking_code, &step, &settings, now - Duration::hours(1)).await?;
        }
    }
    Ok(CASES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stations_parse() {
        let rows = stations();
        assert!(rows.as_ref().is_ok_and(|r| r.len() == 8), "{rows:?}");
    }

    #[test]
    fn social_work_departments_are_named_as_in_use() {
        assert_eq!(social_work_name("广东省"), "广东省委社会工作部");
        assert_eq!(social_work_name("北京市"), "北京市委社会工作部");
        assert_eq!(social_work_name("新疆生产建设兵团"), "新疆生产建设兵团党委社会工作部");
    }
}
