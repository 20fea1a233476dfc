//! `/admin/settings`: the security policy (security administrator) — login-failure lockout, session
//! timeouts, the password switches for MLPS-assessed deployments, the second factor for everyone,
//! audit retention, `Secure` cookies. Values outside their bounds are refused field by field.

use crate::app::{admin, Ctx};
use crate::auth::config::{SecurityConfig, SETTING_KEYS};
use crate::pages::form::{FormBody, FormData, Problems};
use crate::pages::lists::PageQuery;
use crate::pages::{Failed, PageCtx};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dangjian_domain::access::Action;
use dangjian_domain::Message;
use dangjian_domain::{FieldError, FieldErrors};
use minijinja::context;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a setting holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// A whole number within bounds; `optional` allows blank (off).
    Number {
        min: i64,
        max: i64,
        optional: bool,
    },
    Switch,
}

/// Each key with its kind; the bounds are those [`SecurityConfig::from_settings`] accepts.
pub fn kind_of(key: &str) -> Kind {
    match key {
        "lockout_threshold" => Kind::Number { min: 1, max: 100, optional: false },
        "lockout_minutes" | "idle_timeout_minutes" => Kind::Number { min: 1, max: 24 * 60, optional: false },
        "absolute_timeout_hours" => Kind::Number { min: 1, max: 24 * 30, optional: false },
        "password_max_age_days" => Kind::Number { min: 1, max: 3650, optional: true },
        "audit_retention_days" => Kind::Number { min: 180, max: 3650 * 3, optional: false },
        _ => Kind::Switch,
    }
}

/// The stored text of each setting, from a submitted form; every value out of bounds is a field error.
pub fn validate(data: &FormData) -> Result<Vec<(&'static str, String)>, FieldErrors> {
    let mut out = Vec::new();
    let mut errs = FieldErrors::default();
    for key in SETTING_KEYS {
        match kind_of(key) {
            Kind::Switch => out.push((key, (data.get(key).is_some()).to_string())),
            Kind::Number { min, max, optional } => match data.get(key) {
                None if optional => out.push((key, String::new())),
                None => errs.push(FieldError::new(key, "required", Message::new("problem.required.enter_number"))),
                Some(v) => match v.parse::<i64>() {
                    Ok(n) if (min..=max).contains(&n) => out.push((key, n.to_string())),
                    _ => errs.push(FieldError::new(
                        key,
                        "out_of_range",
                        Message::new("problem.out_of_range.enter_whole_number").arg("min", min).arg("max", max),
                    )),
                },
            },
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

/// The current value of each setting as the form shows it.
fn current_values(c: &SecurityConfig) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    m.insert("lockout_threshold", c.lockout_threshold.to_string());
    m.insert("lockout_minutes", c.lockout_minutes.to_string());
    m.insert("idle_timeout_minutes", c.idle_timeout_minutes.to_string());
    m.insert("absolute_timeout_hours", c.absolute_timeout_hours.to_string());
    m.insert("password_composition", c.password_composition.to_string());
    m.insert("password_max_age_days", c.password_max_age_days.map(|d| d.to_string()).unwrap_or_default());
    m.insert("totp_required_for_all", c.totp_required_for_all.to_string());
    m.insert("audit_retention_days", c.audit_retention_days.to_string());
    m.insert("secure_cookies", c.secure_cookies.to_string());
    m
}

#[derive(Debug, Serialize)]
struct Row {
    key: &'static str,
    kind: Kind,
    value: String,
}

fn render(
    ctx: &PageCtx,
    status: StatusCode,
    values: &BTreeMap<&'static str, String>,
    problems: Problems,
    done: bool,
) -> Response {
    let rows: Vec<Row> = SETTING_KEYS
        .iter()
        .map(|k| Row { key: k, kind: kind_of(k), value: values.get(k).cloned().unwrap_or_default() })
        .collect();
    ctx.render_status(status, "admin/settings.html", context! { rows, problems, done })
}

pub async fn form(cx: Ctx, ctx: PageCtx, q: PageQuery) -> Result<Response, Failed> {
    admin::require(&cx, &[Action::ManageGrants], "settings.read").await.map_err(ctx.app_err())?;
    let c = cx.state.security_config().await;
    Ok(render(&ctx, StatusCode::OK, &current_values(&c), Problems::default(), q.get("done").is_some()))
}

pub async fn save(cx: Ctx, ctx: PageCtx, body: FormBody) -> Result<Response, Failed> {
    let pending = admin::begin_security_settings(&cx).await.map_err(ctx.app_err())?;
    let data = body.read().await?;
    let before = current_values(&cx.state.security_config().await);
    let values = match validate(&data) {
        Ok(v) => v,
        Err(errs) => {
            let problems = Problems::from_errors(&errs, &ctx, str::to_owned);
            let mut shown = before.clone();
            for k in SETTING_KEYS {
                shown.insert(
                    k,
                    match kind_of(k) {
                        Kind::Switch => data.get(k).is_some().to_string(),
                        Kind::Number { .. } => data.text(k),
                    },
                );
            }
            return Ok(render(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &shown, problems, false));
        }
    };
    pending.save(&values, &before).await.map_err(ctx.app_err())?;
    Ok(Redirect::to("/admin/settings?done=saved").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData::from_pairs(pairs)
    }

    #[test]
    fn accepted_values_are_the_ones_the_config_reads() {
        let f = form(&[
            ("lockout_threshold", "3"),
            ("lockout_minutes", "30"),
            ("idle_timeout_minutes", "20"),
            ("absolute_timeout_hours", "8"),
            ("password_composition", "on"),
            ("password_max_age_days", "90"),
            ("audit_retention_days", "365"),
        ]);
        let values = validate(&f).unwrap_or_default();
        let map: HashMap<String, String> = values.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let c = SecurityConfig::from_settings(&map);
        assert_eq!(
            (c.lockout_threshold, c.lockout_minutes, c.idle_timeout_minutes, c.absolute_timeout_hours),
            (3, 30, 20, 8)
        );
        assert!(c.password_composition && !c.totp_required_for_all && !c.secure_cookies);
        assert_eq!((c.password_max_age_days, c.audit_retention_days), (Some(90), 365));
        assert_eq!(current_values(&c).get("password_max_age_days").map(String::as_str), Some("90"));
    }

    #[test]
    fn out_of_bounds_values_are_refused_by_field() {
        let f = form(&[
            ("lockout_threshold", "0"),
            ("lockout_minutes", "15"),
            ("idle_timeout_minutes", "abc"),
            ("absolute_timeout_hours", "12"),
            ("audit_retention_days", "30"),
        ]);
        let errs = validate(&f).err().map(|e| e.0).unwrap_or_default();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["lockout_threshold", "idle_timeout_minutes", "audit_retention_days"]);
        let blank_age = form(&[
            ("lockout_threshold", "5"),
            ("lockout_minutes", "15"),
            ("idle_timeout_minutes", "30"),
            ("absolute_timeout_hours", "12"),
            ("audit_retention_days", "180"),
        ]);
        let v = validate(&blank_age).unwrap_or_default();
        assert!(v.contains(&("password_max_age_days", String::new())), "blank means never");
    }
}
