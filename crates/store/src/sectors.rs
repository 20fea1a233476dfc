//! Sectors: the seven built-in ones, and any an administrator adds.

use crate::error::{is_unique_violation, StoreError, StoreResult};
use crate::Store;
use dangjian_domain::entity::parse_required_text;
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors, SectorCode, SectorStage, BUILTIN_SECTORS};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Sector {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub stage: SectorStage,
    pub builtin: bool,
    pub version: i64,
}

/// A sector as it arrives from outside.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SectorInput {
    pub code: Option<String>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub stage: Option<String>,
}

fn sector_from_row(r: &AnyRow) -> StoreResult<Sector> {
    let stage: String = r.try_get("stage")?;
    Ok(Sector {
        code: r.try_get("code")?,
        name_zh: r.try_get("name_zh")?,
        name_en: r.try_get("name_en")?,
        stage: SectorStage::parse(&stage).unwrap_or(SectorStage::Exploratory),
        builtin: r.try_get::<i64, _>("builtin")? != 0,
        version: r.try_get("version")?,
    })
}

pub(crate) async fn load_builtin_sectors(store: &Store) -> StoreResult<()> {
    let mut tx = store.pool.begin().await?;
    for (i, s) in BUILTIN_SECTORS.iter().enumerate() {
        sqlx::query(
            "INSERT INTO sectors (code, name_zh, name_en, stage, builtin, position) VALUES ($1, $2, $3, $4, 1, $5) \
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(s.code)
        .bind(s.name_zh)
        .bind(s.name_en)
        .bind(s.stage.as_str())
        .bind(i as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

struct ValidSector {
    name_zh: String,
    name_en: String,
    stage: SectorStage,
}

fn validate(input: &SectorInput) -> Result<ValidSector, FieldErrors> {
    let mut errs = FieldErrors::default();
    let name_zh = errs.take(parse_required_text(input.name_zh.as_deref(), "name_zh", 50));
    let name_en = errs.take(parse_required_text(input.name_en.as_deref(), "name_en", 100));
    let stage = match input.stage.as_deref() {
        Some(s) => errs.take(SectorStage::parse(s)),
        None => Some(SectorStage::Exploratory),
    };
    match (name_zh, name_en, stage) {
        (Some(name_zh), Some(name_en), Some(stage)) if errs.is_empty() => Ok(ValidSector { name_zh, name_en, stage }),
        _ => Err(errs),
    }
}

fn duplicate_name(e: sqlx::Error) -> StoreError {
    if is_unique_violation(&e) {
        FieldError::new("name_zh", "duplicate", Message::new("problem.duplicate.sector_code_name")).into()
    } else {
        e.into()
    }
}

impl Store {
    pub async fn list_sectors(&self) -> StoreResult<Vec<Sector>> {
        let rows =
            sqlx::query("SELECT code, name_zh, name_en, stage, builtin, version FROM sectors ORDER BY position, code")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(sector_from_row).collect()
    }

    pub async fn sector(&self, code: &str) -> StoreResult<Sector> {
        let row = sqlx::query("SELECT code, name_zh, name_en, stage, builtin, version FROM sectors WHERE code = $1")
            .bind(code.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(sector_from_row).transpose()?.ok_or(StoreError::NotFound)
    }

    pub async fn create_sector(&self, input: &SectorInput) -> StoreResult<Sector> {
        let mut errs = FieldErrors::default();
        let code = match input.code.as_deref() {
            Some(c) => errs.take(SectorCode::parse(c).map_err(|e| e.on_field("code"))),
            None => {
                errs.push(FieldError::new("code", "required", Message::new("problem.required")));
                None
            }
        };
        let valid = match validate(input) {
            Ok(v) => Some(v),
            Err(e) => {
                errs.0.extend(e.0);
                None
            }
        };
        let (Some(code), Some(v)) = (code, valid) else {
            return Err(StoreError::Invalid(errs));
        };
        sqlx::query(
            "INSERT INTO sectors (code, name_zh, name_en, stage, builtin, position) \
             VALUES ($1, $2, $3, $4, 0, (SELECT COALESCE(MAX(position), 0) + 1 FROM sectors))",
        )
        .bind(code.as_str().to_owned())
        .bind(v.name_zh)
        .bind(v.name_en)
        .bind(v.stage.as_str())
        .execute(&self.pool)
        .await
        .map_err(duplicate_name)?;
        self.sector(code.as_str()).await
    }

    pub async fn update_sector(&self, code: &str, input: &SectorInput, version: i64) -> StoreResult<Sector> {
        let current = self.sector(code).await?;
        let v = validate(input)?;
        let n = sqlx::query(
            "UPDATE sectors SET name_zh = $1, name_en = $2, stage = $3, version = version + 1 WHERE code = $4 AND version = $5",
        )
        .bind(v.name_zh)
        .bind(v.name_en)
        .bind(v.stage.as_str())
        .bind(code.to_owned())
        .bind(version)
        .execute(&self.pool)
        .await
        .map_err(duplicate_name)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::StaleVersion { current: current.version });
        }
        self.sector(code).await
    }

    /// Deletes an added sector that no unit uses; the built-in seven stay.
    pub async fn delete_sector(&self, code: &str) -> StoreResult<()> {
        let s = self.sector(code).await?;
        if s.builtin {
            return Err(StoreError::Conflict {
                code: "builtin_sector",
                message: Message::new("conflict.builtin_sector"),
            });
        }
        let used: i64 = sqlx::query("SELECT COUNT(*) AS n FROM entity_sectors WHERE sector_code = $1")
            .bind(code.to_owned())
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        if used > 0 {
            return Err(StoreError::Conflict {
                code: "sector_in_use",
                message: Message::new("conflict.sector_in_use").arg("used", used),
            });
        }
        sqlx::query("DELETE FROM sectors WHERE code = $1").bind(code.to_owned()).execute(&self.pool).await?;
        Ok(())
    }

    /// Resolves sector names as given in input (code, Chinese or English name) to codes.
    pub async fn resolve_sectors(&self, names: &[String], field: &str) -> StoreResult<Vec<String>> {
        let all = self.list_sectors().await?;
        resolve_sector_names(&all, names, field).map_err(StoreError::Invalid)
    }
}

/// Resolves each name to a sector code against a list of sectors, reporting every unknown one.
pub fn resolve_sector_names(all: &[Sector], names: &[String], field: &str) -> Result<Vec<String>, FieldErrors> {
    let mut errs = FieldErrors::default();
    let mut codes = Vec::new();
    for n in names {
        let n = n.trim();
        match all.iter().find(|s| s.code == n || s.name_zh == n || s.name_en.eq_ignore_ascii_case(n)) {
            Some(s) if !codes.contains(&s.code) => codes.push(s.code.clone()),
            Some(_) => {}
            None => errs.push(FieldError::new(
                field,
                "unknown_sector",
                Message::new("problem.unknown_sector.n_sector").arg("n", n),
            )),
        }
    }
    codes.sort();
    errs.into_result().map(|_| codes)
}
