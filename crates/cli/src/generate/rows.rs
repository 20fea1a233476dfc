//! The generated rows: platform chains, Party organizations and instructors, deterministic for a seed.
//!
//! Everything comes from one seeded ChaCha8 stream consumed in a fixed order, and ids are assigned here
//! (1, 2, … per table), so the same seed and profile give the same rows on any backend. Rows are handed
//! out in batches in an order that keeps every reference valid when written in turn: a unit before
//! its sectors and organizations, an organization before the organizations it leads.

use super::geography::Geography;
use crate::codes::generated_uscc;
use chrono::{Datelike, Days, Months, NaiveDate};
use dangjian_domain::{EntityKind, OrgKind};
use dangjian_store::bulk::{Rows, Table, Value, ENTITIES};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const ENTITY_SECTORS: Table = Table { name: "entity_sectors", columns: &["entity_id", "sector_code"] };
pub const ORGANIZATIONS: Table = Table {
    name: "organizations",
    columns: &[
        "id",
        "code",
        "name",
        "kind",
        "parent_id",
        "region_code",
        "established_on",
        "dissolved_on",
        "term_start",
        "term_end",
        "secretary",
        "created_at",
        "updated_at",
    ],
};
pub const ORGANIZATION_UNITS: Table =
    Table { name: "organization_units", columns: &["organization_id", "entity_id", "via_chain"] };
pub const INSTRUCTORS: Table = Table {
    name: "instructors",
    columns: &["id", "name", "mobile", "mobile_idx", "dispatching_org", "region_code", "created_at", "updated_at"],
};
pub const ASSIGNMENTS: Table =
    Table { name: "instructor_assignments", columns: &["id", "instructor_id", "entity_id", "start_on", "end_on"] };

/// Tables in the order their batches are written (each refers only to tables before it, or to itself
/// with smaller ids).
const TABLE_ORDER: [Table; 6] = [ENTITIES, ENTITY_SECTORS, ORGANIZATIONS, ORGANIZATION_UNITS, INSTRUCTORS, ASSIGNMENTS];

/// Rows gathered before a batch goes to the writer.
const BATCH_ROWS: usize = 5000;

/// The day the dataset describes ("as of"); nothing is established after it. Fixed, so that a seed
/// gives the same data whenever it runs.
pub const AS_OF: (i32, u32, u32) = (2026, 11, 1);
/// Units are established from this day on.
const EPOCH: (i32, u32, u32) = (2015, 1, 1);
/// `created_at` / `updated_at` of every generated row (fixed for the same reason as [`AS_OF`]).
const GENERATED_AT: &str = "2026-11-01T00:00:00Z";

/// How big a dataset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub platforms: usize,
    /// Franchisees and partners.
    pub middles: usize,
    pub sites: usize,
    pub instructors: usize,
}

impl Shape {
    pub fn units(&self) -> usize {
        self.platforms + self.middles + self.sites
    }

    /// Roughly how many rows the shape makes in all tables (for the progress bar).
    pub fn estimated_rows(&self) -> u64 {
        (self.units() as f64 * 2.55 + self.instructors as f64 * 2.6) as u64
    }
}

/// A sector the generator knows: its code in `sectors`, what its platforms, franchisees or partners and
/// sites are called, its share of platforms and the share of franchisees in its middle tier.
struct SectorStyle {
    code: &'static str,
    platform_suffix: &'static str,
    middle_phrase: &'static str,
    site_noun: &'static str,
    platform_share: f64,
    franchisee_share: f64,
}

const SECTORS: [SectorStyle; 7] = [
    SectorStyle {
        code: "courier",
        platform_suffix: "快递有限公司",
        middle_phrase: "快递服务",
        site_noun: "网点",
        platform_share: 0.15,
        franchisee_share: 0.85,
    },
    SectorStyle {
        code: "food_delivery",
        platform_suffix: "网络科技有限公司",
        middle_phrase: "配送服务",
        site_noun: "站",
        platform_share: 0.12,
        franchisee_share: 0.1,
    },
    SectorStyle {
        code: "ride_hailing",
        platform_suffix: "出行科技有限公司",
        middle_phrase: "汽车服务",
        site_noun: "服务站",
        platform_share: 0.3,
        franchisee_share: 0.05,
    },
    SectorStyle {
        code: "road_freight",
        platform_suffix: "智慧物流有限公司",
        middle_phrase: "道路运输",
        site_noun: "货运站",
        platform_share: 0.2,
        franchisee_share: 0.1,
    },
    SectorStyle {
        code: "live_streaming",
        platform_suffix: "文化传媒有限公司",
        middle_phrase: "文化传播",
        site_noun: "直播基地",
        platform_share: 0.1,
        franchisee_share: 0.0,
    },
    SectorStyle {
        code: "social_commerce",
        platform_suffix: "电子商务有限公司",
        middle_phrase: "商贸",
        site_noun: "服务点",
        platform_share: 0.07,
        franchisee_share: 0.3,
    },
    SectorStyle {
        code: "housekeeping",
        platform_suffix: "家政服务有限公司",
        middle_phrase: "家政服务",
        site_noun: "服务站",
        platform_share: 0.06,
        franchisee_share: 0.6,
    },
];

/// The sector codes the generator writes (they must exist in `sectors`).
pub fn sector_codes() -> impl Iterator<Item = &'static str> {
    SECTORS.iter().map(|s| s.code)
}

const NAME_FIRST: [&str; 31] = [
    "速", "达", "飞", "优", "易", "快", "顺", "通", "美", "乐", "安", "鑫", "恒", "捷", "云", "星", "众", "惠", "途",
    "驰", "远", "蜂", "鸟", "骑", "驿", "邦", "盛", "和", "悦", "聚", "佳",
];
const NAME_SECOND: [&str; 29] = [
    "达", "运", "享", "送", "行", "递", "迅", "帮", "家", "购", "路", "程", "邮", "畅", "拓", "宇", "联", "信", "诚",
    "丰", "讯", "领", "航", "汇", "品", "川", "禾", "晟", "嘉",
];
const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",
    "蒋", "蔡",
];
const GIVEN: [&str; 40] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞",
    "平", "刚", "桂", "英", "华", "建", "国", "志", "红", "海", "文", "斌", "玲", "辉", "宁", "鹏", "晨", "阳", "燕",
    "立", "新",
];
const ROADS: [&str; 16] = [
    "人民路",
    "建设路",
    "解放路",
    "中山路",
    "和平路",
    "新华路",
    "朝阳路",
    "光明路",
    "文化路",
    "育才路",
    "工业大道",
    "科技路",
    "滨河路",
    "长江路",
    "黄河路",
    "幸福路",
];
const DISPATCHERS: [&str; 3] = ["委社会工作部", "委组织部", "新就业群体综合党委"];

/// Shares that shape the data and its deliberate gaps.
const CLOSED_MIDDLES: f64 = 0.03;
const CLOSED_SITES: f64 = 0.06;
const SITES_DIRECT_UNDER_PLATFORM: f64 = 0.04;
const SECOND_SECTOR: f64 = 0.1;
/// Units with ≥3 formal members that have their own organization (the rest are the "≥3 members, no
/// organization" gap).
const OWN_ORG_MIDDLE: f64 = 0.9;
const OWN_ORG_SITE: f64 = 0.85;
/// Organizations at a franchisee, partner or platform that also cover some sites of their chain.
const COVERS_CHAIN: f64 = 0.35;
/// Groups of 1–2-member units of a county that form a joint branch (the rest stay uncovered).
const JOINT: f64 = 0.75;
/// A few joint branches exceed five units (the "joint branch over 5 units" gap).
const JOINT_OVERSIZED: f64 = 0.01;
const FLOATING_BRANCH: f64 = 0.02;
const NO_TERM_RECORDED: f64 = 0.05;
const TERM_LAPSED: f64 = 0.25;
const NO_SECRETARY: f64 = 0.08;
const ASSIGNMENT_ENDED: f64 = 0.3;

/// What a unit became, as the later phases need it.
#[derive(Debug, Clone, Copy)]
struct Unit {
    kind: EntityKind,
    parent: Option<u32>,
    /// Index of the platform at the top of its chain.
    root: u32,
    /// Which platform that is (0-based), for names and site codes.
    platform: u32,
    sector: u8,
    /// What tells it apart in its name: a site's number under its operator, a company's trade name.
    label: u32,
    place: u32,
    members: u32,
    established: u32,
    closed: Option<u32>,
    /// Its organization, if it is a home unit (index into `orgs`).
    org: Option<u32>,
    covered: bool,
}

/// What was generated, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub platforms: u64,
    pub franchisees: u64,
    pub partners: u64,
    pub sites: u64,
    pub closed_units: u64,
    pub grassroots_committees: u64,
    pub general_branches: u64,
    pub branches: u64,
    pub joint_branches: u64,
    pub floating_branches: u64,
    pub organization_units: u64,
    pub expired_terms: u64,
    pub instructors: u64,
    pub assignments: u64,
    pub ended_assignments: u64,
}

impl Tally {
    pub fn units(&self) -> u64 {
        self.platforms + self.franchisees + self.partners + self.sites
    }

    pub fn organizations(&self) -> u64 {
        self.grassroots_committees
            + self.general_branches
            + self.branches
            + self.joint_branches
            + self.floating_branches
    }
}

/// Encrypts a mobile number for storage: (ciphertext, blind index).
pub type Sealer<'a> = &'a (dyn Fn(&str) -> anyhow::Result<(String, String)> + Send + Sync);

/// Collects rows per table and hands them out in [`TABLE_ORDER`] once enough have gathered.
struct Sink<'a> {
    pending: Vec<Rows>,
    gathered: usize,
    emit: &'a mut dyn FnMut(Rows) -> anyhow::Result<()>,
}

impl Sink<'_> {
    fn push<const N: usize>(&mut self, table: usize, row: [Value; N]) -> anyhow::Result<()> {
        self.pending[table].push(row);
        self.gathered += 1;
        if self.gathered >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        for (i, rows) in self.pending.iter_mut().enumerate() {
            if !rows.is_empty() {
                let full = std::mem::replace(rows, Rows::with_capacity(TABLE_ORDER[i], BATCH_ROWS));
                (self.emit)(full)?;
            }
        }
        self.gathered = 0;
        Ok(())
    }
}

const T_ENTITIES: usize = 0;
const T_SECTORS: usize = 1;
const T_ORGS: usize = 2;
const T_ORG_UNITS: usize = 3;
const T_INSTRUCTORS: usize = 4;
const T_ASSIGNMENTS: usize = 5;

/// Day numbers (days since [`EPOCH`]) as ISO text, computed once.
struct Calendar {
    epoch: NaiveDate,
    texts: Vec<String>,
}

impl Calendar {
    fn new() -> Self {
        let epoch = ymd(EPOCH);
        // Terms run up to five years past the as-of day.
        let span = (ymd(AS_OF) - epoch).num_days() as usize + 6 * 366;
        let texts = (0..span)
            .map(|d| {
                let date = epoch + Days::new(d as u64);
                format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
            })
            .collect();
        Self { epoch, texts }
    }

    fn text(&self, day: u32) -> String {
        self.texts.get(day as usize).cloned().unwrap_or_else(|| self.date(day).format("%Y-%m-%d").to_string())
    }

    fn date(&self, day: u32) -> NaiveDate {
        self.epoch + Days::new(u64::from(day))
    }

    fn day(&self, date: NaiveDate) -> u32 {
        (date - self.epoch).num_days().max(0) as u32
    }

    /// The day before the same date `years` later: the last day of a term starting on `day`.
    fn term_end(&self, day: u32, years: u32) -> u32 {
        let start = self.date(day);
        let next = start.checked_add_months(Months::new(12 * years)).unwrap_or(start);
        self.day(next).saturating_sub(1)
    }
}

fn ymd((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// The generator: a seeded stream, the places, and what it made so far.
pub struct Generator<'a> {
    rng: ChaCha8Rng,
    geo: &'a Geography,
    shape: Shape,
    calendar: Calendar,
    as_of: u32,
    units: Vec<Unit>,
    /// Kind and home unit of each organization made so far.
    orgs: Vec<OrgKind>,
    uscc_serial: u64,
    tally: Tally,
}

impl<'a> Generator<'a> {
    pub fn new(seed: u64, shape: Shape, geo: &'a Geography) -> Self {
        let calendar = Calendar::new();
        let as_of = calendar.day(ymd(AS_OF));
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            geo,
            shape,
            calendar,
            as_of,
            units: Vec::with_capacity(shape.units()),
            orgs: Vec::new(),
            uscc_serial: 0,
            tally: Tally::default(),
        }
    }

    /// Generates everything, handing batches of rows to `emit` in an order safe to write in turn.
    pub fn run(mut self, seal: Sealer<'_>, emit: &mut dyn FnMut(Rows) -> anyhow::Result<()>) -> anyhow::Result<Tally> {
        let mut sink = Sink {
            pending: TABLE_ORDER.iter().map(|t| Rows::with_capacity(*t, BATCH_ROWS)).collect(),
            gathered: 0,
            emit,
        };
        self.chains(&mut sink)?;
        self.organizations(&mut sink)?;
        self.instructors(seal, &mut sink)?;
        sink.flush()?;
        Ok(self.tally)
    }

    // ---- the platform chains ------------------------------------------------------------------

    fn chains(&mut self, sink: &mut Sink) -> anyhow::Result<()> {
        let shape = self.shape;
        let weights: Vec<f64> = (0..shape.platforms).map(|p| 1.0 / ((p + 1) as f64).powf(0.8)).collect();
        let middles = allocate(shape.middles, &weights);
        let sites = allocate(shape.sites, &weights);
        let sectors = self.platform_sectors(shape.platforms);
        for p in 0..shape.platforms {
            self.chain(p, sectors[p], middles[p], sites[p], sink)?;
        }
        Ok(())
    }

    /// Each sector's platforms by its share; the first seven (the biggest) one per sector.
    fn platform_sectors(&mut self, platforms: usize) -> Vec<usize> {
        let shares: Vec<f64> = SECTORS.iter().map(|s| s.platform_share).collect();
        let rest = platforms.saturating_sub(SECTORS.len());
        let mut out: Vec<usize> = (0..SECTORS.len().min(platforms)).collect();
        let mut tail: Vec<usize> =
            allocate(rest, &shares).iter().enumerate().flat_map(|(s, &n)| std::iter::repeat_n(s, n)).collect();
        tail.shuffle(&mut self.rng);
        out.extend(tail);
        out
    }

    fn next_uscc(&mut self, place: u32) -> anyhow::Result<String> {
        self.uscc_serial += 1;
        let county = &self.geo.places[place as usize].code;
        generated_uscc(county, 'G', self.uscc_serial)
            .map(|u| u.to_string())
            .map_err(|e| anyhow::anyhow!("generated an invalid USCC: {}", e.message))
    }

    fn address(&mut self, place: u32) -> String {
        let road = ROADS[self.rng.random_range(0..ROADS.len())];
        format!("{}{road}{}号", self.geo.places[place as usize].name, self.rng.random_range(1..=999))
    }

    fn person(&mut self) -> String {
        let surname = SURNAMES[self.rng.random_range(0..SURNAMES.len())];
        let first = GIVEN[self.rng.random_range(0..GIVEN.len())];
        if self.rng.random_bool(0.6) {
            format!("{surname}{first}{}", GIVEN[self.rng.random_range(0..GIVEN.len())])
        } else {
            format!("{surname}{first}")
        }
    }

    /// A day in `[from, to]`, early days likelier (most units of a chain are not brand new).
    fn early_day_between(&mut self, from: u32, to: u32) -> u32 {
        if to <= from {
            return from;
        }
        from + ((to - from) as f64 * self.rng.random::<f64>().powf(1.6)) as u32
    }

    /// The name of unit `u`, rebuilt from what is kept of it (names are not kept: a million of them
    /// would double the generator's memory).
    fn unit_name(&self, u: u32) -> String {
        let unit = self.units[u as usize];
        let style = &SECTORS[unit.sector as usize];
        let brand = brand(unit.platform as usize);
        match unit.kind {
            EntityKind::Platform => format!("{brand}{}", style.platform_suffix),
            EntityKind::Franchisee => format!(
                "{}{}{brand}{}有限公司",
                self.geo.county_of(unit.place).name,
                trade_name(unit.label),
                style.middle_phrase
            ),
            EntityKind::Partner => {
                format!(
                    "{}{}{}有限公司",
                    self.geo.county_of(unit.place).name,
                    trade_name(unit.label),
                    style.middle_phrase
                )
            }
            EntityKind::Site => {
                format!("{brand}{}{}号{}", self.geo.places[unit.place as usize].name, unit.label, style.site_noun)
            }
        }
    }

    /// A day in `[from, to]` (or `from` when the range is empty).
    fn day_between(&mut self, from: u32, to: u32) -> u32 {
        if to <= from {
            from
        } else {
            self.rng.random_range(from..=to)
        }
    }

    fn chain(&mut self, p: usize, sector: usize, middles: usize, sites: usize, sink: &mut Sink) -> anyhow::Result<()> {
        let root = self.units.len() as u32;

        // The platform: a big employer with a grassroots committee's worth of members.
        let place = self.geo.pick_place(&mut self.rng);
        let members = self.rng.random_range(150..=2500);
        let established = self.rng.random_range(0..5 * 365);
        let second_sector = self
            .rng
            .random_bool(SECOND_SECTOR)
            .then(|| (sector + self.rng.random_range(1..SECTORS.len())) % SECTORS.len());
        let platform = Unit {
            kind: EntityKind::Platform,
            parent: None,
            root,
            platform: p as u32,
            sector: sector as u8,
            label: 0,
            place,
            members,
            established,
            closed: None,
            org: None,
            covered: false,
        };
        let probationary = self.rng.random_range(5..=40);
        let workers = members * self.rng.random_range(8..=30) + probationary;
        self.write_unit(sink, platform, workers, probationary, &[Some(sector), second_sector])?;

        // Sites go to the franchisees and partners unevenly (Pareto weights); a few hang under the platform.
        let direct = if middles == 0 { sites } else { (sites as f64 * SITES_DIRECT_UNDER_PLATFORM).round() as usize };
        let mut per_middle = vec![0usize; middles];
        if middles > 0 {
            let weights: Vec<f64> =
                (0..middles).map(|_| (1.0 - self.rng.random::<f64>()).max(1e-9).powf(-0.6)).collect();
            let bounds: Vec<f64> = weights
                .iter()
                .scan(0.0, |acc, w| {
                    *acc += w;
                    Some(*acc)
                })
                .collect();
            let total = bounds.last().copied().unwrap_or(1.0);
            for _ in 0..sites - direct {
                let x = self.rng.random::<f64>() * total;
                let i = bounds.partition_point(|&b| b <= x).min(middles - 1);
                per_middle[i] += 1;
            }
        }
        for &count in &per_middle {
            let middle = self.middle(sink, root, sector, count)?;
            for n in 1..=count {
                self.site(sink, middle, root, sector, n)?;
            }
        }
        for n in 1..=direct {
            self.site(sink, root, root, sector, n)?;
        }
        Ok(())
    }

    fn middle(&mut self, sink: &mut Sink, root: u32, sector: usize, sites: usize) -> anyhow::Result<u32> {
        let style = &SECTORS[sector];
        let kind =
            if self.rng.random_bool(style.franchisee_share) { EntityKind::Franchisee } else { EntityKind::Partner };
        let place = self.geo.pick_place(&mut self.rng);
        let platform_est = self.units[root as usize].established;
        let established = self.early_day_between(platform_est + 30, self.as_of - 60);
        let members = match self.rng.random::<f64>() {
            x if x < 0.25 => 0,
            x if x < 0.45 => self.rng.random_range(1..=2),
            x if x < 0.85 => self.rng.random_range(3..=20),
            x if x < 0.95 => self.rng.random_range(21..=50),
            x if x < 0.985 => self.rng.random_range(51..=99),
            _ => self.rng.random_range(100..=400),
        };
        let probationary = if members > 0 && self.rng.random_bool(0.1) { self.rng.random_range(1..=5) } else { 0 };
        let workers = (members * 3 + probationary)
            .max(20 + sites as u32 * self.rng.random_range(4..=20) + self.rng.random_range(0..200));
        let closed = self.rng.random_bool(CLOSED_MIDDLES).then(|| self.day_between(established + 30, self.as_of - 1));
        let platform = self.units[root as usize].platform;
        let label = self.rng.random_range(0..(NAME_FIRST.len() * NAME_SECOND.len()) as u32);
        let unit = Unit {
            kind,
            parent: Some(root),
            root,
            platform,
            sector: sector as u8,
            label,
            place,
            members,
            established,
            closed,
            org: None,
            covered: false,
        };
        self.write_unit(sink, unit, workers, probationary, &[Some(sector), None])?;
        Ok((self.units.len() - 1) as u32)
    }

    fn site(&mut self, sink: &mut Sink, parent: u32, root: u32, sector: usize, n: usize) -> anyhow::Result<()> {
        let up = self.units[parent as usize];
        let place = if self.rng.random_bool(0.85) {
            self.geo.pick_place_near(up.place, &mut self.rng)
        } else {
            self.geo.pick_place(&mut self.rng)
        };
        let members = match self.rng.random::<f64>() {
            x if x < 0.56 => 0,
            x if x < 0.73 => 1,
            x if x < 0.83 => 2,
            x if x < 0.955 => self.rng.random_range(3..=6),
            x if x < 0.99 => self.rng.random_range(7..=20),
            _ => self.rng.random_range(21..=60),
        };
        let probationary = u32::from(self.rng.random_bool(0.05));
        let workers = (members + probationary + self.rng.random_range(2..=15))
            .max(5 + (self.rng.random::<f64>().powi(2) * 200.0) as u32);
        // A site opens after its operator and closes with it.
        let latest = up.closed.map_or(self.as_of - 20, |c| c.saturating_sub(1));
        let established = self.early_day_between(up.established + 15, latest);
        let closed = match up.closed {
            Some(c) => Some(c.max(established)),
            None => self.rng.random_bool(CLOSED_SITES).then(|| self.day_between(established + 30, self.as_of - 1)),
        };
        let platform = up.platform;
        let unit = Unit {
            kind: EntityKind::Site,
            parent: Some(parent),
            root,
            platform,
            sector: sector as u8,
            label: n as u32,
            place,
            members,
            established,
            closed,
            org: None,
            covered: false,
        };
        self.write_unit(sink, unit, workers, probationary, &[Some(sector), None])
    }

    #[allow(clippy::too_many_arguments)]
    fn write_unit(
        &mut self,
        sink: &mut Sink,
        unit: Unit,
        workers: u32,
        probationary: u32,
        sectors: &[Option<usize>],
    ) -> anyhow::Result<()> {
        let id = self.units.len() as i64 + 1;
        // Most sites are known by their platform's site code; the others and every company by USCC.
        let (uscc, site_code) = if unit.kind == EntityKind::Site && self.rng.random_bool(0.6) {
            (None, Some(format!("P{:03}-{id:07}", unit.platform)))
        } else {
            (Some(self.next_uscc(unit.place)?), None)
        };
        let address = self.address(unit.place);
        self.units.push(unit);
        let name = self.unit_name(id as u32 - 1);
        let row = [
            Value::Int(id),
            uscc.into(),
            site_code.into(),
            name.into(),
            unit.kind.as_str().into(),
            unit.parent.map(|p| i64::from(p) + 1).into(),
            Value::Int(i64::from(unit.root) + 1),
            self.geo.places[unit.place as usize].code.as_str().into(),
            address.into(),
            Value::Int(i64::from(workers)),
            Value::Int(i64::from(unit.members)),
            Value::Int(i64::from(probationary)),
            self.calendar.text(unit.established).into(),
            unit.closed.map(|d| self.calendar.text(d)).into(),
            GENERATED_AT.into(),
            GENERATED_AT.into(),
        ];
        sink.push(T_ENTITIES, row)?;
        for s in sectors.iter().flatten() {
            sink.push(T_SECTORS, [Value::Int(id), SECTORS[*s].code.into()])?;
        }
        match unit.kind {
            EntityKind::Platform => self.tally.platforms += 1,
            EntityKind::Franchisee => self.tally.franchisees += 1,
            EntityKind::Partner => self.tally.partners += 1,
            EntityKind::Site => self.tally.sites += 1,
        }
        self.tally.closed_units += u64::from(unit.closed.is_some());
        Ok(())
    }

    // ---- Party organizations ------------------------------------------------------------------

    fn organizations(&mut self, sink: &mut Sink) -> anyhow::Result<()> {
        // Home-unit organizations, in unit order: a platform's committee comes before the organizations
        // of its chain it may lead, a franchisee's before its sites'.
        for u in 0..self.units.len() as u32 {
            let unit = self.units[u as usize];
            let share = match unit.kind {
                EntityKind::Platform => 1.0,
                EntityKind::Franchisee | EntityKind::Partner => OWN_ORG_MIDDLE,
                EntityKind::Site => OWN_ORG_SITE,
            };
            if unit.members < 3 || unit.covered || !self.rng.random_bool(share) {
                continue;
            }
            let Some(org) = self.home_org(sink, u)? else { continue };
            if matches!(unit.kind, EntityKind::Franchisee | EntityKind::Partner) && self.rng.random_bool(COVERS_CHAIN) {
                self.cover_sites_below(sink, u, org)?;
            }
            if unit.kind != EntityKind::Site && unit.members >= 20 && self.rng.random_bool(FLOATING_BRANCH) {
                self.floating_branch(sink, u, org)?;
            }
        }
        self.joint_branches(sink)
    }

    fn org_kind_for(members: u32) -> OrgKind {
        match members {
            100.. => OrgKind::GrassrootsCommittee,
            51..=99 => OrgKind::GeneralBranch,
            _ => OrgKind::Branch,
        }
    }

    /// The organization of `u`'s own: led by its operator's or its platform's organization when they may
    /// lead it, else (like most) by a local committee outside the registry.
    fn home_org(&mut self, sink: &mut Sink, u: u32) -> anyhow::Result<Option<u32>> {
        let unit = self.units[u as usize];
        let kind = Self::org_kind_for(unit.members);
        let Some((established, dissolved)) = self.org_dates(unit)? else { return Ok(None) };
        let root_org = self.units[unit.root as usize].org.filter(|_| u != unit.root);
        let leader = match unit.kind {
            EntityKind::Platform => None,
            EntityKind::Franchisee | EntityKind::Partner => root_org.filter(|_| self.rng.random_bool(0.5)),
            EntityKind::Site => self
                .parent_org_of_site(u)
                .filter(|&o| self.orgs[o as usize].may_lead(kind) && self.rng.random_bool(0.7))
                .or_else(|| root_org.filter(|_| self.rng.random_bool(0.25))),
        };
        let leader = leader.filter(|&o| self.orgs[o as usize].may_lead(kind));
        let unit_name = self.unit_name(u);
        let name = match kind {
            OrgKind::GrassrootsCommittee => format!("中共{unit_name}委员会"),
            OrgKind::GeneralBranch => format!("中共{unit_name}总支部委员会"),
            _ if unit.members >= 7 => format!("中共{unit_name}支部委员会"),
            _ => format!("{unit_name}党支部"),
        };
        let region = self.geo.places[unit.place as usize].code.clone();
        let org = self.write_org(sink, kind, name, leader, region, established, dissolved, &[u])?;
        self.units[u as usize].org = Some(org);
        self.units[u as usize].covered = true;
        Ok(Some(org))
    }

    /// The organization of a site's operator (its parent in the chain).
    fn parent_org_of_site(&self, u: u32) -> Option<u32> {
        self.units[u as usize].parent.and_then(|p| self.units[p as usize].org)
    }

    /// Established after its home unit, dissolved when the unit closed; `None` when the unit is too new
    /// or closed too soon to have had one.
    fn org_dates(&mut self, unit: Unit) -> anyhow::Result<Option<(u32, Option<u32>)>> {
        let established = unit.established + self.rng.random_range(30..=600);
        let end = unit.closed.unwrap_or(self.as_of);
        if established >= end {
            return Ok(None);
        }
        let dissolved = unit.closed.filter(|_| self.rng.random_bool(0.7));
        Ok(Some((established, dissolved)))
    }

    /// Marks up to four sites below `u` (operating, 1–2 or no members, not yet covered) as covered by
    /// `org` through the chain.
    fn cover_sites_below(&mut self, sink: &mut Sink, u: u32, org: u32) -> anyhow::Result<()> {
        let below: Vec<u32> = ((u + 1)..self.units.len() as u32)
            .take_while(|&i| self.units[i as usize].parent == Some(u))
            .filter(|&i| {
                let s = self.units[i as usize];
                s.kind == EntityKind::Site && s.members <= 2 && s.closed.is_none() && !s.covered
            })
            .collect();
        let wanted = self.rng.random_range(1..=4).min(below.len());
        for site in below.choose_multiple(&mut self.rng, wanted).copied().collect::<Vec<_>>() {
            sink.push(T_ORG_UNITS, [Value::Int(i64::from(org) + 1), Value::Int(i64::from(site) + 1), Value::Int(1)])?;
            self.tally.organization_units += 1;
            self.units[site as usize].covered = true;
        }
        Ok(())
    }

    fn floating_branch(&mut self, sink: &mut Sink, u: u32, home_org: u32) -> anyhow::Result<()> {
        let unit = self.units[u as usize];
        let Some((established, dissolved)) = self.org_dates(unit)? else { return Ok(()) };
        let leader = Some(home_org).filter(|&o| self.orgs[o as usize].may_lead(OrgKind::FloatingBranch));
        let name = format!("{}流动党员党支部", self.unit_name(u));
        let region = self.geo.places[unit.place as usize].code.clone();
        self.write_org(sink, OrgKind::FloatingBranch, name, leader, region, established, dissolved, &[u])?;
        Ok(())
    }

    /// Joint branches of neighbouring units: operating units with 1–2 formal members and no coverage,
    /// grouped by county in twos to fives; some groups are left without one (the gap lists' work).
    fn joint_branches(&mut self, sink: &mut Sink) -> anyhow::Result<()> {
        let mut candidates: Vec<(u32, u32)> = (0..self.units.len() as u32)
            .filter(|&i| {
                let u = self.units[i as usize];
                (1..=2).contains(&u.members) && u.closed.is_none() && !u.covered && u.kind != EntityKind::Platform
            })
            .map(|i| (self.geo.places[self.units[i as usize].place as usize].county, i))
            .collect();
        candidates.sort_unstable();
        let mut per_county_seq = 0u32;
        let mut start = 0;
        while start < candidates.len() {
            let county = candidates[start].0;
            let end = start + candidates[start..].partition_point(|c| c.0 == county);
            let mut group: Vec<u32> = candidates[start..end].iter().map(|c| c.1).collect();
            group.shuffle(&mut self.rng);
            per_county_seq = if start == 0 || candidates[start - 1].0 != county { 0 } else { per_county_seq };
            let mut rest = group.as_slice();
            while rest.len() >= 2 {
                let max = if self.rng.random_bool(JOINT_OVERSIZED) { 7 } else { 5 };
                let size = self.rng.random_range(2..=max).min(rest.len());
                let (members, tail) = rest.split_at(size);
                rest = tail;
                if !self.rng.random_bool(JOINT) {
                    continue;
                }
                let newest = members.iter().map(|&m| self.units[m as usize].established).max().unwrap_or(0);
                let established = newest + self.rng.random_range(10..=400);
                if established >= self.as_of {
                    continue;
                }
                per_county_seq += 1;
                let first_place = self.units[members[0] as usize].place;
                let county_name = &self.geo.county_of(first_place).name;
                let name = format!("中共{county_name}新就业群体第{per_county_seq}联合支部委员会");
                let region = self.geo.county_code_of(first_place).to_owned();
                self.write_org(sink, OrgKind::JointBranch, name, None, region, established, None, members)?;
                for &m in members {
                    self.units[m as usize].covered = true;
                }
            }
            start = end;
        }
        Ok(())
    }

    /// Elections every term (five years for a committee; three for branches elected before 2022, five
    /// after); a share of organizations has not held the last one, so their term has expired.
    fn term(&mut self, kind: OrgKind, established: u32) -> Option<(u32, u32)> {
        if self.rng.random_bool(NO_TERM_RECORDED) {
            return None;
        }
        let rules_of_2022 = self.calendar.day(ymd((2022, 1, 1)));
        let years = |start: u32| if kind == OrgKind::GrassrootsCommittee || start >= rules_of_2022 { 5 } else { 3 };
        let mut previous = None;
        let mut start = established;
        let mut end = self.calendar.term_end(start, years(start));
        while end < self.as_of {
            previous = Some((start, end));
            start = end + 1;
            end = self.calendar.term_end(start, years(start));
        }
        match previous {
            Some(p) if self.rng.random_bool(TERM_LAPSED) => Some(p),
            _ => Some((start, end)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn write_org(
        &mut self,
        sink: &mut Sink,
        kind: OrgKind,
        name: String,
        leader: Option<u32>,
        region: String,
        established: u32,
        dissolved: Option<u32>,
        units: &[u32],
    ) -> anyhow::Result<u32> {
        let index = self.orgs.len() as u32;
        let id = i64::from(index) + 1;
        let abbreviation = match kind {
            OrgKind::GrassrootsCommittee => "DW",
            OrgKind::GeneralBranch => "ZZB",
            OrgKind::Branch => "ZB",
            OrgKind::JointBranch => "LHZB",
            OrgKind::FloatingBranch => "LDZB",
        };
        let code = format!("{}-{abbreviation}-{id:07}", &region[..region.len().min(6)]);
        let term = self.term(kind, established);
        if term.is_some_and(|(_, end)| end < self.as_of) && dissolved.is_none() {
            self.tally.expired_terms += 1;
        }
        let secretary = (!self.rng.random_bool(NO_SECRETARY)).then(|| self.person());
        let row = [
            Value::Int(id),
            code.into(),
            name.into(),
            kind.as_str().into(),
            leader.map(|o| i64::from(o) + 1).into(),
            region.into(),
            self.calendar.text(established).into(),
            dissolved.map(|d| self.calendar.text(d)).into(),
            term.map(|t| self.calendar.text(t.0)).into(),
            term.map(|t| self.calendar.text(t.1)).into(),
            secretary.into(),
            GENERATED_AT.into(),
            GENERATED_AT.into(),
        ];
        sink.push(T_ORGS, row)?;
        for &u in units {
            sink.push(T_ORG_UNITS, [Value::Int(id), Value::Int(i64::from(u) + 1), Value::Int(0)])?;
        }
        self.tally.organization_units += units.len() as u64;
        match kind {
            OrgKind::GrassrootsCommittee => self.tally.grassroots_committees += 1,
            OrgKind::GeneralBranch => self.tally.general_branches += 1,
            OrgKind::Branch => self.tally.branches += 1,
            OrgKind::JointBranch => self.tally.joint_branches += 1,
            OrgKind::FloatingBranch => self.tally.floating_branches += 1,
        }
        self.orgs.push(kind);
        Ok(index)
    }

    // ---- instructors ----------------------------------------------------------------------------

    /// Instructors sent to units without coverage of their own (1–2-member units outside a joint
    /// branch, ≥3-member units without an organization, now and then a unit without members), each to
    /// one to three units of one county; some assignments have ended.
    fn instructors(&mut self, seal: Sealer<'_>, sink: &mut Sink) -> anyhow::Result<()> {
        let mut pool: Vec<(u32, u32)> = Vec::new();
        for i in 0..self.units.len() as u32 {
            let u = self.units[i as usize];
            if u.covered || u.closed.is_some() || u.kind == EntityKind::Platform {
                continue;
            }
            if u.members > 0 || self.rng.random_bool(0.05) {
                pool.push((self.geo.places[u.place as usize].county, i));
            }
        }
        pool.sort_unstable();
        if pool.is_empty() {
            return Ok(());
        }
        let since = self.calendar.day(ymd((2019, 1, 1)));
        let mut assignment_id = 0i64;
        for i in 0..self.shape.instructors {
            let (county, _) = pool[self.rng.random_range(0..pool.len())];
            let from = pool.partition_point(|c| c.0 < county);
            let to = pool.partition_point(|c| c.0 <= county);
            let wanted = match self.rng.random::<f64>() {
                x if x < 0.5 => 1,
                x if x < 0.85 => 2,
                _ => 3,
            };
            let picks: Vec<u32> =
                pool[from..to].choose_multiple(&mut self.rng, wanted.min(to - from)).map(|c| c.1).collect();
            let id = i as i64 + 1;
            let name = self.person();
            let mobile = fictional_mobile(i as u64);
            let (stored, index) = seal(&mobile)?;
            let first_place = self.units[picks[0] as usize].place;
            let county_name = self.geo.county_of(first_place).name.clone();
            let dispatcher = format!("{county_name}{}", DISPATCHERS[self.rng.random_range(0..DISPATCHERS.len())]);
            let region = self.geo.county_code_of(first_place).to_owned();
            sink.push(
                T_INSTRUCTORS,
                [
                    Value::Int(id),
                    name.into(),
                    stored.into(),
                    index.into(),
                    dispatcher.into(),
                    region.into(),
                    GENERATED_AT.into(),
                    GENERATED_AT.into(),
                ],
            )?;
            self.tally.instructors += 1;
            for unit in picks {
                let established = self.units[unit as usize].established;
                let start = self.day_between(since.max(established + 10), self.as_of - 1);
                if start >= self.as_of {
                    continue;
                }
                let end = self
                    .rng
                    .random_bool(ASSIGNMENT_ENDED)
                    .then(|| start + self.rng.random_range(60..=900))
                    .filter(|&e| e < self.as_of);
                assignment_id += 1;
                sink.push(
                    T_ASSIGNMENTS,
                    [
                        Value::Int(assignment_id),
                        Value::Int(id),
                        Value::Int(i64::from(unit) + 1),
                        self.calendar.text(start).into(),
                        end.map(|e| self.calendar.text(e)).into(),
                    ],
                )?;
                self.tally.assignments += 1;
                self.tally.ended_assignments += u64::from(end.is_some());
            }
        }
        Ok(())
    }
}

/// Trade name number `i` (below 31 × 29): two characters.
fn trade_name(i: u32) -> String {
    let i = i as usize % (NAME_FIRST.len() * NAME_SECOND.len());
    format!("{}{}", NAME_FIRST[i / NAME_SECOND.len()], NAME_SECOND[i % NAME_SECOND.len()])
}

/// Brand of platform `p`: two characters, distinct for every `p` below 31 × 29.
fn brand(p: usize) -> String {
    let i = (p * 37 + 11) % (NAME_FIRST.len() * NAME_SECOND.len());
    format!("{}{}", NAME_FIRST[i / NAME_SECOND.len()], NAME_SECOND[i % NAME_SECOND.len()])
}

/// A fictional mobile number of the 138 range, distinct for every `n` below 10^8 (an affine map with a
/// multiplier prime to 10 is a bijection modulo 10^8).
pub fn fictional_mobile(n: u64) -> String {
    format!("138{:08}", (n * 7_919_993 + 1_234_567) % 100_000_000)
}

/// Splits `total` in proportion to `weights` (largest remainder), so the parts add up exactly.
pub fn allocate(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut parts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    let short = total.saturating_sub(parts.iter().sum());
    for &i in order.iter().cycle().take(short) {
        parts[i] += 1;
    }
    parts
}
