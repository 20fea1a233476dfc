//! `/api/v1/dues/calculate`: one month's Party dues under the rules in force (the 2008 brackets and
//! their dated versions, `dangjian_domain::members::dues`). For every signed-in role.

use crate::app::{members, Ctx};
use crate::error::{ApiError, ErrorEnvelope};
use crate::i18n::Lang;
pub use crate::views::members::DuesAnswer;
use crate::views::members::{bad_parameters, DuesQuery};
use crate::AppState;
use axum::extract::RawQuery;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Parameters of a calculation. Amounts are yuan with at most two decimals (`4700`, `4700.50`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuesCalculateParams {
    /// `wage`, `gig`, `retiree`, `student`, `unemployed`, `relief` or `farmer`.
    pub category: String,
    /// After-tax monthly income: required for `wage` and `retiree`, unused by the others.
    pub monthly_income: Option<String>,
    /// For `gig` (required there, refused elsewhere): the previous quarter's three monthly incomes,
    /// comma-separated; the base is their average, rounded half-up to the fen.
    pub previous_quarter: Option<String>,
    /// For `farmer`: the amount chosen within the rules' range (0.20–1.00), default the least.
    pub farmer_amount: Option<String>,
    /// The day whose rules apply (`YYYY-MM-DD`), default today in China.
    pub on: Option<String>,
}

/// One month's dues: the base, the rate, the amount (half-up to the fen) and the rule applied. Every
/// bad parameter is a 400 naming it (`field`, and each in `details`).
#[utoipa::path(get, path = "/api/v1/dues/calculate", tag = "members", params(DuesCalculateParams),
    responses((status = 200, body = DuesAnswer), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
async fn calculate(cx: Ctx, lang: Lang, RawQuery(raw): RawQuery) -> Result<Json<DuesAnswer>, ApiError> {
    let rules = members::begin(&cx).await?;
    let query = DuesQuery::new(raw.as_deref().unwrap_or_default());
    let outcome = rules.dues(&query.params()).map_err(|e| bad_parameters(&e))?;
    Ok(Json(DuesAnswer::new(&outcome, lang)))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(calculate))
}
