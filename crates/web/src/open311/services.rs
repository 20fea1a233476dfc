//! GeoReport v2 services: one per case category (`service_code` = category code), each with the same
//! attributes — the region (required: no location is taken), the worker's sector, the platform
//! concerned and whether to file anonymously.

use super::{strip_json, Locale, Open311Error, TAG};
use crate::i18n::Lang;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use dangjian_domain::services::cases::Category;
use dangjian_domain::BUILTIN_SECTORS;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A service as `services.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// Always true: every service has attributes (at least the region).
    pub metadata: bool,
    /// Always `realtime`: a case is filed and routed at once.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    pub keywords: String,
    pub group: String,
}

/// One choice of a list attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

/// An attribute of a service definition, sent back as `attribute[code]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServiceAttribute {
    /// Always true: each is a question for the worker (none is informational only).
    pub variable: bool,
    pub code: String,
    /// `string`, `number` or `singlevaluelist`.
    pub datatype: String,
    pub required: bool,
    pub datatype_description: String,
    pub order: u32,
    pub description: String,
    /// The choices of a `singlevaluelist`; empty otherwise.
    pub values: Vec<AttributeValue>,
}

/// A service definition (`services/{code}.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<ServiceAttribute>,
}

/// The categories a case may be filed under, in order: the configured ones ([`Store::case_settings`]).
///
/// [`Store::case_settings`]: dangjian_store::Store::case_settings
pub async fn categories(s: &AppState, lang: Lang) -> Result<Vec<Category>, Open311Error> {
    let settings = s.store.case_settings().await.map_err(|e| Open311Error::from_store(e, lang, str::to_owned))?;
    Ok(settings.categories)
}

/// The group a category is listed under.
fn group(code: &str, lang: Lang) -> String {
    match code {
        "wage_arrears" | "occupational_injury" | "social_insurance" | "algorithmic_dispatch" | "legal_aid" => {
            lang.t("open311.labour_rights", &[])
        }
        "traffic_safety" => lang.t("open311.traffic_safety", &[]),
        "rest_facilities" | "housing_schooling" => lang.t("open311.daily_needs", &[]),
        _ => lang.t("open311.other", &[]),
    }
}

/// The service of a category, in `lang`.
pub fn service(c: &Category, lang: Lang) -> Service {
    Service {
        service_code: c.code.clone(),
        service_name: lang.pick(&c.name_zh, &c.name_en),
        description: lang.t(
            "open311.service_description",
            &[
                ("name", lang.pick(&c.name_zh, &c.name_en)),
                ("ack_days", c.ack_days.to_string()),
                ("resolve_days", c.resolve_days.to_string()),
            ],
        ),
        metadata: true,
        kind: "realtime".into(),
        keywords: format!("{}, {}, {}", c.code, c.name_zh, c.name_en),
        group: group(&c.code, lang),
    }
}

/// The attributes every service asks for, in `lang`.
pub fn definition(c: &Category, lang: Lang) -> ServiceDefinition {
    let attr = |code: &str, datatype: &str, required: bool, order: u32, kind: &str, what: &str| ServiceAttribute {
        variable: true,
        code: code.into(),
        datatype: datatype.into(),
        required,
        datatype_description: lang.t(kind, &[]),
        order,
        description: lang.t(what, &[]),
        values: Vec::new(),
    };
    let yes_no = vec![
        AttributeValue { key: "false".into(), name: lang.t("open311.leave_my_contact", &[]) },
        AttributeValue { key: "true".into(), name: lang.t("open311.anonymous", &[]) },
    ];
    let sectors = BUILTIN_SECTORS
        .iter()
        .map(|s| AttributeValue { key: s.code.into(), name: lang.pick(s.name_zh, s.name_en) })
        .collect();
    ServiceDefinition {
        service_code: c.code.clone(),
        attributes: vec![
            attr(
                "region_code",
                "string",
                true,
                1,
                "open311.attribute.region_code.datatype",
                "open311.attribute.region_code.description",
            ),
            ServiceAttribute {
                values: sectors,
                ..attr(
                    "sector",
                    "singlevaluelist",
                    false,
                    2,
                    "open311.attribute.sector.datatype",
                    "open311.attribute.sector.description",
                )
            },
            attr(
                "platform_id",
                "number",
                false,
                3,
                "open311.attribute.platform_id.datatype",
                "open311.attribute.platform_id.description",
            ),
            ServiceAttribute {
                values: yes_no,
                ..attr(
                    "anonymous",
                    "singlevaluelist",
                    false,
                    4,
                    "open311.attribute.anonymous.datatype",
                    "open311.attribute.anonymous.description",
                )
            },
        ],
    }
}

/// The services: one per case category, in the request's language (`?locale=`, else
/// `Accept-Language`).
#[utoipa::path(get, path = "/open311/v2/services.json", tag = TAG, security(()),
    params(("locale" = Option<String>, Query, description = "`zh-CN` (default) or `en`"),
        ("jurisdiction_id" = Option<String>, Query, description = "Ignored: one jurisdiction")),
    responses((status = 200, body = Vec<Service>), (status = 429, body = Vec<super::Open311ErrorItem>)))]
async fn list_services(State(s): State<AppState>, Locale(lang): Locale) -> Result<Json<Vec<Service>>, Open311Error> {
    Ok(Json(categories(&s, lang).await?.iter().map(|c| service(c, lang)).collect()))
}

/// A service definition with its attributes. The segment is `{service_code}.json`.
#[utoipa::path(get, path = "/open311/v2/services/{code}", tag = TAG, security(()),
    params(("code" = String, Path, description = "The service code followed by `.json`, e.g. `wage_arrears.json`"),
        ("locale" = Option<String>, Query, description = "`zh-CN` (default) or `en`")),
    responses((status = 200, body = ServiceDefinition), (status = 404, body = Vec<super::Open311ErrorItem>),
        (status = 429, body = Vec<super::Open311ErrorItem>)))]
async fn service_definition(
    State(s): State<AppState>,
    Locale(lang): Locale,
    Path(segment): Path<String>,
) -> Result<Json<ServiceDefinition>, Open311Error> {
    let code = strip_json(&segment).ok_or_else(|| Open311Error::not_found("service_code", lang))?;
    let c = categories(&s, lang)
        .await?
        .into_iter()
        .find(|c| c.code == code)
        .ok_or_else(|| Open311Error::not_found("service_code", lang))?;
    Ok(Json(definition(&c, lang)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_services)).routes(routes!(service_definition))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dangjian_domain::services::cases::default_categories;

    #[test]
    fn one_service_per_category_with_the_four_attributes() {
        let cats = default_categories();
        let wage = cats.iter().find(|c| c.code == "wage_arrears").cloned().unwrap_or_else(|| cats[0].clone());
        let s = service(&wage, Lang::En);
        assert_eq!((s.service_name.as_str(), s.kind.as_str(), s.metadata), ("Wage arrears", "realtime", true));
        assert_eq!(s.group, "Labour rights");
        assert_eq!(service(&wage, Lang::Zh).service_name, "欠薪");
        let d = definition(&wage, Lang::En);
        let codes: Vec<&str> = d.attributes.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, ["region_code", "sector", "platform_id", "anonymous"]);
        assert!(d.attributes[0].required && !d.attributes[1].required);
        assert_eq!(d.attributes[1].values.len(), 7);
        let orders: Vec<u32> = d.attributes.iter().map(|a| a.order).collect();
        assert_eq!(orders, [1, 2, 3, 4]);
    }
}
