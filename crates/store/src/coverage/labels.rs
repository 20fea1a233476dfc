//! Names and codes for the lines of roll-ups and gap lists, looked up for the lines shown only.

use super::{id_list, CHUNK};
use crate::error::StoreResult;
use crate::Store;
use sqlx::Row;
use std::collections::HashMap;

/// A unit's or an organization's name and code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Label {
    pub name: String,
    pub code: String,
}

impl Store {
    /// Names and codes (USCC or site code) of units.
    pub async fn unit_labels(&self, ids: &[i64]) -> StoreResult<HashMap<i64, Label>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT id, name, COALESCE(uscc, site_code) AS code FROM entities WHERE id IN ({})",
                id_list(chunk)
            );
            for r in sqlx::query(&sql).fetch_all(&self.pool).await? {
                out.insert(r.try_get("id")?, Label { name: r.try_get("name")?, code: r.try_get("code")? });
            }
        }
        Ok(out)
    }

    /// Names and codes of organizations.
    pub async fn organization_labels(&self, ids: &[i64]) -> StoreResult<HashMap<i64, Label>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!("SELECT id, name, code FROM organizations WHERE id IN ({})", id_list(chunk));
            for r in sqlx::query(&sql).fetch_all(&self.pool).await? {
                out.insert(r.try_get("id")?, Label { name: r.try_get("name")?, code: r.try_get("code")? });
            }
        }
        Ok(out)
    }

    /// Names of regions by code.
    pub async fn region_names(&self, codes: &[String]) -> StoreResult<HashMap<String, String>> {
        let mut out = HashMap::new();
        for chunk in codes.chunks(CHUNK) {
            let mut sql = String::from("SELECT code, name FROM regions WHERE code IN (");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("${}", i + 1));
            }
            sql.push(')');
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(c.clone());
            }
            for r in q.fetch_all(&self.pool).await? {
                out.insert(r.try_get("code")?, r.try_get("name")?);
            }
        }
        Ok(out)
    }
}
