//! Imports and exports of spreadsheets (`crate::transfer` is the pipeline): the commands the API
//! (`/api/v1/imports/{kind}`, `/api/v1/exports/{kind}`), the import page and `dangjian import` /
//! `dangjian export` share. An import is audited as `import.<kind>` with its counts (`ok`; `denied` when
//! rows fell outside the importer's scopes; `failed`), an export as `export.<kind>` with its format and
//! how much personal data it carried.

use super::permission;
use super::{AppError, AppResult, Ctx};
use crate::transfer::{disclosure_for, export_file, import_file, ExportFormat, ImportFailure};
use dangjian_domain::access::Action;
use dangjian_ingest::Kind;
use dangjian_store::{AccessFilter, Disclosure, ImportSummary};

impl From<ImportFailure> for AppError {
    fn from(e: ImportFailure) -> Self {
        match e {
            ImportFailure::Store(e) => Self::Store(e),
            e => Self::Import(e),
        }
    }
}

/// The import form (a refusal audited as `import.form`): whether the actor may import at all.
pub async fn open_form(cx: &Ctx) -> AppResult<()> {
    permission::require(&cx.state, &cx.actor, Action::Import, "import.form").await?;
    Ok(())
}

/// May the actor import a file of `kind`? (A refusal is audited as `import.<kind>`.)
pub async fn begin_import(cx: &Ctx, kind: Kind) -> AppResult<Importing> {
    let access =
        permission::require(&cx.state, &cx.actor, Action::Import, &format!("import.{}", kind.as_str())).await?;
    Ok(Importing { cx: cx.clone(), access, kind })
}

/// May the actor import a file whose kind comes with it (the import page's upload: a refusal is
/// audited as `import.upload`)?
pub async fn begin_upload(cx: &Ctx) -> AppResult<Upload> {
    let access = permission::require(&cx.state, &cx.actor, Action::Import, "import.upload").await?;
    Ok(Upload { cx: cx.clone(), access })
}

/// A permitted upload, waiting to learn its kind.
#[must_use]
pub struct Upload {
    cx: Ctx,
    access: AccessFilter,
}

impl Upload {
    /// The import of a file of `kind`.
    pub fn of(self, kind: Kind) -> Importing {
        Importing { cx: self.cx, access: self.access, kind }
    }
}

/// A permitted import, waiting for its file.
#[must_use]
pub struct Importing {
    cx: Ctx,
    access: AccessFilter,
    kind: Kind,
}

impl Importing {
    /// Imports the file `name` (`bytes`) whole or not at all — every row must lie inside the importer's
    /// scopes — or only checks it (`dry_run`); located errors are said in `lang`. A rejected file is
    /// [`AppError::Import`] with every error.
    pub async fn run(self, name: &str, bytes: &[u8], dry_run: bool, lang: &str) -> AppResult<ImportSummary> {
        let (s, actor) = (&self.cx.state, &self.cx.actor);
        let result = import_file(&s.store, self.kind, name, bytes, dry_run, lang, &self.access).await;
        permission::audit_import(s, actor, self.kind.as_str(), dry_run, &result).await;
        Ok(result?)
    }
}

/// May the actor export the records of `kind`? (A refusal is audited as `export.<kind>`.)
pub async fn begin_export(cx: &Ctx, kind: Kind) -> AppResult<Exporting> {
    let access =
        permission::require(&cx.state, &cx.actor, Action::Export, &format!("export.{}", kind.as_str())).await?;
    Ok(Exporting { cx: cx.clone(), access, kind })
}

/// A permitted export, waiting for its format.
#[must_use]
pub struct Exporting {
    cx: Ctx,
    access: AccessFilter,
    kind: Kind,
}

impl Exporting {
    /// The most personal data this exporter's file may carry: in full only when every grant that lets
    /// them export also lets them read personal data ([`disclosure_for`]); the command line's operator
    /// in full.
    pub fn allowed_disclosure(&self) -> Disclosure {
        let actor = &self.cx.actor;
        match () {
            _ if actor.is_operator() => Disclosure::Full,
            _ if actor.is_authenticated() => disclosure_for(&actor.grants),
            _ => Disclosure::Masked,
        }
    }

    /// Every record of the kind in the exporter's scopes as a file in `format`, with personal data as
    /// `wanted`, within [`Exporting::allowed_disclosure`].
    pub async fn run(self, format: ExportFormat, wanted: Disclosure) -> AppResult<Vec<u8>> {
        let disclosure = match self.allowed_disclosure() {
            Disclosure::Full => wanted,
            masked => masked,
        };
        let (s, actor) = (&self.cx.state, &self.cx.actor);
        let result = export_file(&s.store, self.kind, format, disclosure, &self.access).await;
        let detail = format!("format={} disclosure={disclosure:?}", format.extension());
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        let action = format!("export.{}", self.kind.as_str());
        permission::audit(s, actor, &action, None, outcome, Some(detail)).await;
        Ok(result?)
    }
}

/// May the actor export a report — the coverage gaps, the case statistics — whose rows the report's
/// own reading gathers? (A refusal is audited as `audit_action`, `export.gaps` or `export.case_stats`.)
pub async fn begin_report(cx: &Ctx, audit_action: &'static str) -> AppResult<ReportExport> {
    permission::require(&cx.state, &cx.actor, Action::Export, audit_action).await?;
    Ok(ReportExport { cx: cx.clone(), audit_action })
}

/// A permitted export of a report, audited once its file is made.
#[must_use]
pub struct ReportExport {
    cx: Ctx,
    audit_action: &'static str,
}

impl ReportExport {
    /// Records the export (`ok`) with what it held (`detail`: the filter, the number of rows), before
    /// the file leaves.
    pub async fn finish(self, detail: String) {
        permission::audit(&self.cx.state, &self.cx.actor, self.audit_action, None, "ok", Some(detail)).await;
    }
}
