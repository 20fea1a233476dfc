//! Administrative regions: the NBS 2023 statistical division codes (data/regions/, see its SOURCE.md)
//! plus the XPCC as a provincial-level unit holding its cities.

use crate::error::{StoreError, StoreResult};
use crate::{Page, Paging, Store};
use dangjian_domain::region::{region_path, XPCC_CITIES_PREFECTURE};
use dangjian_domain::Message;
use dangjian_domain::{FieldError, RegionCode, RegionLevel, SearchTerm, XPCC_CODE};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

const PROVINCES: &str = include_str!("../../../data/regions/provinces.csv");
const CITIES: &str = include_str!("../../../data/regions/cities.csv");
const AREAS: &str = include_str!("../../../data/regions/areas.csv");
const STREETS: &str = include_str!("../../../data/regions/streets.csv");

/// The XPCC's name as a provincial-level unit.
pub const XPCC_NAME: &str = "新疆生产建设兵团";

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<String>,
    /// Materialized path, e.g. `/11/1101/110105/`.
    pub path: String,
    pub version: i64,
}

/// Sizes of the reference files (for naming test templates).
#[cfg(feature = "testing")]
pub(crate) fn reference_fingerprint() -> [usize; 4] {
    [PROVINCES.len(), CITIES.len(), AREAS.len(), STREETS.len()]
}

/// One reference row before insertion: code, name, level, parent.
struct RefRow {
    code: String,
    name: String,
    level: RegionLevel,
    parent: Option<String>,
}

fn parse_reference(text: &str, level: RegionLevel, parent_col: Option<usize>) -> Vec<RefRow> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    rdr.records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            let code = r.get(0)?.to_owned();
            let name = r.get(1)?.to_owned();
            let parent = match parent_col {
                Some(c) => Some(r.get(c)?.to_owned()),
                None => None,
            };
            Some(RefRow { code, name, level, parent })
        })
        .collect()
}

/// All reference regions in parent-before-child order, with the XPCC placed as its own province.
fn reference_rows() -> Vec<RefRow> {
    let mut rows = parse_reference(PROVINCES, RegionLevel::Province, None);
    rows.push(RefRow { code: XPCC_CODE.into(), name: XPCC_NAME.into(), level: RegionLevel::Province, parent: None });
    let mut cities = parse_reference(CITIES, RegionLevel::Prefecture, Some(2));
    for c in &mut cities {
        if c.code == XPCC_CITIES_PREFECTURE {
            c.parent = Some(XPCC_CODE.into());
        }
    }
    rows.extend(cities);
    rows.extend(parse_reference(AREAS, RegionLevel::County, Some(2)));
    rows.extend(parse_reference(STREETS, RegionLevel::Township, Some(2)));
    rows
}

/// Loads the reference regions into an empty table, in one transaction. A table that already holds
/// regions is left as it is (administrators may have edited it).
pub(crate) async fn load_reference_regions(store: &Store) -> StoreResult<()> {
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM regions").fetch_one(&store.pool).await?.try_get("n")?;
    if count > 0 {
        return Ok(());
    }
    let rows = reference_rows();
    let mut paths: std::collections::HashMap<String, String> = std::collections::HashMap::with_capacity(rows.len());
    let mut tx = store.pool.begin().await?;
    for chunk in rows.chunks(400) {
        let mut sql = String::from("INSERT INTO regions (code, name, level, parent_code, path) VALUES ");
        for i in 0..chunk.len() {
            let b = i * 5;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("(${},${},${},${},${})", b + 1, b + 2, b + 3, b + 4, b + 5));
        }
        let mut q = sqlx::query(&sql);
        for r in chunk {
            let path = region_path(r.parent.as_ref().and_then(|p| paths.get(p)).map(String::as_str), &r.code);
            paths.insert(r.code.clone(), path.clone());
            q = q.bind(r.code.clone()).bind(r.name.clone()).bind(r.level.as_str()).bind(r.parent.clone()).bind(path);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn region_from_row(r: &AnyRow) -> StoreResult<Region> {
    let level: String = r.try_get("level")?;
    Ok(Region {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        level: RegionLevel::parse(&level).unwrap_or(RegionLevel::Township),
        parent_code: r.try_get("parent_code")?,
        path: r.try_get("path")?,
        version: r.try_get("version")?,
    })
}

const REGION_COLUMNS: &str = "code, name, level, parent_code, path, version";

/// Filters for listing regions.
#[derive(Debug, Clone, Default)]
pub struct RegionFilter {
    /// Direct children of this region; `Some("")` or the absence of every filter lists provinces.
    pub parent: Option<String>,
    /// Everything below this region (its subtree, without itself).
    pub within: Option<String>,
    pub level: Option<RegionLevel>,
    /// Name or code contains.
    pub q: Option<SearchTerm>,
}

impl Store {
    pub async fn region(&self, code: &str) -> StoreResult<Region> {
        let row = sqlx::query(&format!("SELECT {REGION_COLUMNS} FROM regions WHERE code = $1"))
            .bind(code.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(region_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    /// The region and its ancestors, from the province down.
    pub async fn region_lineage(&self, code: &str) -> StoreResult<Vec<Region>> {
        let region = self.region(code).await?;
        let codes: Vec<&str> = region.path.split('/').filter(|s| !s.is_empty()).collect();
        let mut out = Vec::with_capacity(codes.len());
        for c in codes {
            out.push(self.region(c).await?);
        }
        Ok(out)
    }

    /// Regions whose name or code contains `text`, best first: the exact name, then counties before
    /// other levels and provinces last, then by code; at most 50. For places people type by name.
    pub async fn regions_named(&self, text: &str) -> StoreResult<Vec<Region>> {
        // A blank, over-long or unprintable text names no region.
        let Ok(Some(q)) = SearchTerm::parse(text, "q") else { return Ok(Vec::new()) };
        let filter = RegionFilter { q: Some(q), ..Default::default() };
        let mut found = self.list_regions(&filter, Paging::new(Some(1), Some(50))).await?.items;
        found.sort_by_key(|r| {
            (r.name != text, r.level != RegionLevel::County, r.level == RegionLevel::Province, r.code.clone())
        });
        Ok(found)
    }

    /// The region's name with its ancestors', from the province down (`广东省深圳市南山区`).
    pub async fn region_full_name(&self, code: &str) -> StoreResult<String> {
        Ok(self.region_lineage(code).await?.into_iter().map(|r| r.name).collect())
    }

    /// Every region, ordered by code (for generators that need the whole tree at once).
    pub async fn all_regions(&self) -> StoreResult<Vec<Region>> {
        let rows =
            sqlx::query(&format!("SELECT {REGION_COLUMNS} FROM regions ORDER BY code")).fetch_all(&self.pool).await?;
        rows.iter().map(region_from_row).collect()
    }

    pub async fn list_regions(&self, filter: &RegionFilter, paging: Paging) -> StoreResult<Page<Region>> {
        let mut conds: Vec<String> = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let no_filter =
            filter.parent.is_none() && filter.within.is_none() && filter.level.is_none() && filter.q.is_none();
        match filter.parent.as_deref() {
            Some("") => conds.push("parent_code IS NULL".into()),
            Some(p) => {
                binds.push(p.to_owned());
                conds.push(format!("parent_code = ${}", binds.len()));
            }
            None if no_filter => conds.push("parent_code IS NULL".into()),
            None => {}
        }
        if let Some(w) = &filter.within {
            let path = self.region(w).await?.path;
            binds.push(format!("{path}%"));
            conds.push(format!("path LIKE ${}", binds.len()));
            binds.push(path);
            conds.push(format!("path <> ${}", binds.len()));
        }
        if let Some(l) = filter.level {
            binds.push(l.as_str().to_owned());
            conds.push(format!("level = ${}", binds.len()));
        }
        if let Some(q) = &filter.q {
            binds.push(q.contains_pattern());
            conds.push(format!("(name LIKE ${n} ESCAPE '\\' OR code LIKE ${n} ESCAPE '\\')", n = binds.len()));
        }
        let where_sql = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let count_sql = format!("SELECT COUNT(*) AS n FROM regions {where_sql}");
        let mut cq = sqlx::query(&count_sql);
        for b in &binds {
            cq = cq.bind(b.clone());
        }
        let total: i64 = cq.fetch_one(&self.pool).await?.try_get("n")?;
        let list_sql = format!(
            "SELECT {REGION_COLUMNS} FROM regions {where_sql} ORDER BY code LIMIT {} OFFSET {}",
            paging.per_page,
            paging.offset()
        );
        let mut lq = sqlx::query(&list_sql);
        for b in &binds {
            lq = lq.bind(b.clone());
        }
        let items = lq.fetch_all(&self.pool).await?.iter().map(region_from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
    }

    /// Number of direct children of each of `codes` (for tree browsers).
    pub async fn region_child_counts(&self, codes: &[String]) -> StoreResult<std::collections::HashMap<String, i64>> {
        let mut out = std::collections::HashMap::new();
        for chunk in codes.chunks(500) {
            let sql = format!(
                "SELECT parent_code, COUNT(*) AS n FROM regions WHERE parent_code IN ({}) GROUP BY parent_code",
                Store::placeholders(chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(c.clone());
            }
            for r in q.fetch_all(&self.pool).await? {
                out.insert(r.try_get::<String, _>("parent_code")?, r.try_get::<i64, _>("n")?);
            }
        }
        Ok(out)
    }

    /// Adds a region under an existing parent (a new township, say). The code's length must match the
    /// level below the parent.
    pub async fn create_region(&self, code: &str, name: &str, parent_code: Option<&str>) -> StoreResult<Region> {
        let code = RegionCode::parse(code)?;
        let name = dangjian_domain::entity::parse_required_text(Some(name), "name", 100)?;
        let parent = match parent_code.filter(|p| !p.is_empty()) {
            Some(p) => Some(self.region(p).await.map_err(|e| {
                match e {
                    StoreError::NotFound => FieldError::new(
                        "parent_code",
                        "unknown_region",
                        Message::new("problem.unknown_region.no_such_parent"),
                    )
                    .into(),
                    e => e,
                }
            })?),
            None => None,
        };
        let expected = match &parent {
            None => RegionLevel::Province,
            Some(p) => match p.level {
                RegionLevel::Province => RegionLevel::Prefecture,
                RegionLevel::Prefecture => RegionLevel::County,
                _ => RegionLevel::Township,
            },
        };
        if code.level() != expected || parent.as_ref().is_some_and(|p| p.level == RegionLevel::Township) {
            return Err(FieldError::new(
                "code",
                "level_mismatch",
                Message::new("problem.level_mismatch")
                    .arg_msg("level", Message::dynamic(format!("region_level.{}", expected.as_str()))),
            )
            .into());
        }
        let path = region_path(parent.as_ref().map(|p| p.path.as_str()), code.as_str());
        let res = sqlx::query("INSERT INTO regions (code, name, level, parent_code, path) VALUES ($1, $2, $3, $4, $5)")
            .bind(code.as_str().to_owned())
            .bind(name)
            .bind(expected.as_str())
            .bind(parent.map(|p| p.code))
            .bind(path)
            .execute(&self.pool)
            .await;
        match res {
            Err(e) if crate::error::is_unique_violation(&e) => {
                Err(FieldError::new("code", "duplicate", Message::new("problem.duplicate.region_code_exists")).into())
            }
            Err(e) => Err(e.into()),
            Ok(_) => {
                self.forget_region_tree().await;
                self.region(code.as_str()).await
            }
        }
    }

    /// Renames a region (optimistic concurrency on `version`).
    pub async fn rename_region(&self, code: &str, name: &str, version: i64) -> StoreResult<Region> {
        let name = dangjian_domain::entity::parse_required_text(Some(name), "name", 100)?;
        let current = self.region(code).await?;
        let n = sqlx::query("UPDATE regions SET name = $1, version = version + 1 WHERE code = $2 AND version = $3")
            .bind(name)
            .bind(code.to_owned())
            .bind(version)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::StaleVersion { current: current.version });
        }
        self.region(code).await
    }

    /// Deletes a region nothing refers to.
    pub async fn delete_region(&self, code: &str) -> StoreResult<()> {
        self.region(code).await?;
        let used: i64 = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM regions WHERE parent_code = $1) + (SELECT COUNT(*) FROM entities WHERE region_code = $2) \
             + (SELECT COUNT(*) FROM organizations WHERE region_code = $3) + (SELECT COUNT(*) FROM instructors WHERE region_code = $4) AS n",
        )
        .bind(code.to_owned())
        .bind(code.to_owned())
        .bind(code.to_owned())
        .bind(code.to_owned())
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        if used > 0 {
            return Err(StoreError::Conflict {
                code: "region_in_use",
                message: Message::new("conflict.region_in_use"),
            });
        }
        sqlx::query("DELETE FROM regions WHERE code = $1").bind(code.to_owned()).execute(&self.pool).await?;
        self.forget_region_tree().await;
        Ok(())
    }

    /// The path of a region (for subtree filters), or a field error naming `field` if it does not exist.
    pub async fn region_path_of(&self, code: &str, field: &str) -> StoreResult<String> {
        match self.region(code).await {
            Ok(r) => Ok(r.path),
            Err(StoreError::NotFound) => Err(unknown_region(code, field).into()),
            Err(e) => Err(e),
        }
    }
}

pub(crate) fn unknown_region(code: &str, field: &str) -> FieldError {
    FieldError::new(field, "unknown_region", Message::new("problem.unknown_region.no_region_code").arg("code", code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_counts() {
        let rows = reference_rows();
        let count = |l: RegionLevel| rows.iter().filter(|r| r.level == l).count();
        assert_eq!(count(RegionLevel::Province), 32);
        assert_eq!(count(RegionLevel::Prefecture), 342);
        assert_eq!(count(RegionLevel::County), 2978);
        assert_eq!(count(RegionLevel::Township), 41352);
        let xpcc_cities = rows.iter().find(|r| r.code == XPCC_CITIES_PREFECTURE).and_then(|r| r.parent.clone());
        assert_eq!(xpcc_cities.as_deref(), Some(XPCC_CODE));
    }
}
