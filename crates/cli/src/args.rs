//! The command line, declared once with clap's derive API; `dangjian help <command>` prints it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Party-building registry for the platform economy and new employment groups.
#[derive(Debug, Parser)]
#[command(name = "dangjian", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Language of messages and import errors.
    #[arg(long, global = true, value_enum, env = "DANGJIAN_LANG", default_value = "zh")]
    pub lang: Lang,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Creates (or reuses) an embedded SQLite database with a demo dataset and serves it.
    Demo(DemoArgs),
    /// Serves the web application and the JSON API over an existing, migrated database.
    Serve(ServeArgs),
    /// Creates or upgrades the schema; a new database also gets the regions and sectors.
    Migrate(DbArgs),
    /// Imports a CSV or XLSX file whole or not at all; every error is printed as FILE:ROW:COLUMN: message.
    Import(ImportArgs),
    /// Exports every record of a kind as CSV or XLSX (Chinese headers, stable order).
    Export(ExportArgs),
    /// Measures import throughput on generated data (writes into the database: use a scratch one).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Fills a migrated, empty database with a deterministic, realistic dataset (units, organizations,
    /// instructors) over the real regions.
    Generate(GenerateArgs),
    /// Accounts: add one with a one-off password, grant roles.
    #[command(subcommand)]
    User(UserCommand),
    /// Keys for personal data at rest.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The coverage rules: organization thresholds and terms, each with the date it applies from.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Open311 GeoReport v2 clients and their API keys.
    #[command(subcommand)]
    Open311(Open311Command),
}

#[derive(Debug, Subcommand)]
pub enum Open311Command {
    /// Adds a client and prints its id, name and API key (shown this once; only its hash is stored).
    AddClient {
        #[command(flatten)]
        db: DbArgs,
        /// Who the client is.
        name: String,
        /// Answer this client with mySociety's extended statuses (in_progress, fixed) instead of open/closed.
        #[arg(long)]
        extended_statuses: bool,
    },
    /// Lists the clients (never a key).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revokes a client: its key opens nothing from now on; the cases it filed stay.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Prints the rules in force as JSON.
    Show {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Replaces the rules with those of a JSON file (as printed by `rules show`), checked whole first.
    Set {
        #[command(flatten)]
        db: DbArgs,
        file: PathBuf,
    },
}

/// A role and a scope: `ROLE=SCOPE`, e.g. `department_cadre=region:110105`, `platform_committee=chain:<USCC>`,
/// `regulator=sector:courier@33`, `branch_secretary=org:<code>`, `system_admin=nation`.
#[derive(Debug, Clone)]
pub struct GrantArg {
    pub role: dangjian_domain::access::Role,
    pub scope: String,
}

impl std::str::FromStr for GrantArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (role, scope) = s.split_once('=').ok_or_else(|| format!("'{s}': use ROLE=SCOPE"))?;
        let role = dangjian_domain::access::Role::parse(role).ok_or_else(|| format!("'{role}' is not a role"))?;
        Ok(Self { role, scope: scope.to_owned() })
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds an account and prints its one-off password (to be changed at first login).
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// ROLE=SCOPE, repeatable.
        #[arg(long = "grant", value_name = "ROLE=SCOPE")]
        grants: Vec<GrantArg>,
    },
    /// Adds a grant to an account.
    Grant {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long = "grant", value_name = "ROLE=SCOPE")]
        grant: GrantArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Writes a new key file (readable by its owner only) for DANGJIAN_KEY_FILE.
    Init {
        /// The file to create; an existing file is never overwritten.
        file: PathBuf,
    },
    /// Adds a new active key to a key file (the old keys stay, to read what they encrypted).
    AddKey {
        /// The key file to extend (rewritten in place, readable by its owner only).
        file: PathBuf,
        /// Switch the algorithm of new encryptions too.
        #[arg(long, value_enum)]
        algorithm: Option<AlgorithmArg>,
    },
    /// Re-encrypts every stored value under the active key of DANGJIAN_KEY_FILE / DANGJIAN_FIELD_KEYS, in
    /// small transactions, while the server keeps serving.
    Rotate {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// The cipher of personal data at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// SM4-GCM (GB/T 32907, RFC 8998), the default.
    Sm4Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
}

impl AlgorithmArg {
    pub fn algorithm(self) -> dangjian_security::field_cipher::Algorithm {
        match self {
            Self::Sm4Gcm => dangjian_security::field_cipher::Algorithm::Sm4Gcm,
            Self::Aes256Gcm => dangjian_security::field_cipher::Algorithm::Aes256Gcm,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Proves the hash chain of the audit log, or names the first broken record (exit 1).
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Deletes records older than the retention period (setting `audit_retention_days`, at least 180),
    /// keeping the chain verifiable. The server also does this once a day.
    Purge {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Language of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// 简体中文
    Zh,
    /// English
    En,
}

impl Lang {
    /// The code the crates below take (`zh` or `en`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::En => "en",
        }
    }

    /// The text of catalogue `key` in this language, `{name}` placeholders filled from `args`.
    pub fn t(self, key: &str, args: &[(&str, String)]) -> String {
        dangjian_i18n::text(self.code(), key, args)
    }

    /// A message in this language.
    pub fn say(self, m: &dangjian_i18n::Message) -> String {
        m.render(self.code())
    }
}

/// Where the database is.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "DANGJIAN_DB", value_name = "URL")]
    pub db: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder of the demo database (DIR/dangjian.db), created if missing.
    #[arg(long, value_name = "DIR", default_value = "./demo-data", conflicts_with = "db")]
    pub data_dir: PathBuf,
    /// Use this database instead of the embedded one (sqlite://PATH or postgres://...).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Units of the platform chains: platforms, franchisees, partners, sites.
    Entities,
    /// Party organizations.
    Organizations,
    /// Party-building instructors and their assignments.
    Instructors,
    /// Worker stations (暖心驿站).
    Stations,
}

impl KindArg {
    pub fn kind(self) -> dangjian_ingest::Kind {
        match self {
            Self::Entities => dangjian_ingest::Kind::Entities,
            Self::Organizations => dangjian_ingest::Kind::Organizations,
            Self::Instructors => dangjian_ingest::Kind::Instructors,
            Self::Stations => dangjian_ingest::Kind::Stations,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(value_enum)]
    pub kind: KindArg,
    /// CSV (UTF-8, UTF-16 or GBK) or XLSX file, headers in English or Chinese.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check everything and report what would happen, without writing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Csv,
    Xlsx,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(value_enum)]
    pub kind: KindArg,
    /// File format; by default taken from the output file's extension (csv otherwise).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Output file; `-` writes to standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Personal data (instructors' mobile numbers) in full rather than masked; the export is audited.
    #[arg(long)]
    pub full_personal_data: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Generates valid entity rows as a CSV file, imports it, then imports it again (idempotent).
    Import(BenchImportArgs),
    /// Times the coverage engine against the straightforward SQL on a loaded database (writes to one
    /// unit and restores it: use a scratch database).
    Coverage(BenchCoverageArgs),
    /// Times the nearest-station finder on random stations in memory against a brute-force scan
    /// (no database).
    Stations(BenchStationsArgs),
    /// Times filing cases through the store and over HTTP (in-process server), concurrency 1 and 8, with
    /// and without a contact (writes cases: use a scratch database).
    Cases(BenchCasesArgs),
    /// Times every GET route of the page and API route tables over HTTP (in-process server), signed in
    /// as a nation, province, county and platform-chain cadre and the administrators, on a database
    /// loaded with `generate` (adds benchmark users, sessions, a department and a case: use a scratch
    /// database).
    Pages(BenchPagesArgs),
    /// Times the unit list's text search through its index and through the LIKE scan, checking that both
    /// find the same units (reads only).
    Search(BenchSearchArgs),
    /// Times the case statistics (nation, province, city, one category in one quarter) by the in-memory
    /// index against the earlier single SQL query, on cases it generates in bulk (use a scratch database).
    CaseStats(BenchCaseStatsArgs),
}

#[derive(Debug, Args)]
pub struct BenchPagesArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Timed requests per URL and principal (after one warm-up request).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub runs: u32,
    /// Only routes whose path template contains this text.
    #[arg(long)]
    pub only: Option<String>,
    /// Principals to sign in as (comma separated): nation, province, county, chain, admins, anonymous.
    #[arg(long, value_delimiter = ',', default_value = "nation,province,county,chain,admins,anonymous")]
    pub principals: Vec<String>,
    /// Also write the results as JSON lines to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
    /// After the timings, a mixed load for this many seconds with `wrk` (Debian package `wrk`): 90% reads
    /// of the timed dashboard, list and unit URLs as their principals, 10% case filings. 0: none.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=3_600))]
    pub load_seconds: u32,
    /// Concurrent connections of the mixed load.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub load_connections: u32,
}

#[derive(Debug, Args)]
pub struct BenchSearchArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Timed runs per term through the index.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub runs: u32,
    /// Timed runs per term through the LIKE scan (each reads every unit).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=1_000))]
    pub scan_runs: u32,
}

#[derive(Debug, Args)]
pub struct BenchCaseStatsArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Cases to generate (an earlier run's cases, if exactly as many, are reused).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(1_000..=10_000_000))]
    pub cases: u32,
    /// Timed runs per view of the in-memory statistics.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub runs: u32,
    /// Timed runs per view of the earlier SQL query (seconds each at national scale).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub sql_runs: u32,
}

#[derive(Debug, Args)]
pub struct BenchCasesArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Cases filed per variant (six variants).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
    pub cases: u32,
    /// Run even though the database already has departments (and so probably real cases).
    #[arg(long)]
    pub allow_nonempty: bool,
}

#[derive(Debug, Args)]
pub struct BenchStationsArgs {
    /// Stations to generate.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=5_000_000))]
    pub stations: u32,
    /// Timed queries per variant (random points over China).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
    pub queries: u32,
    /// Results per query.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct BenchCoverageArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Timed runs per view (the straightforward SQL runs once per view).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub runs: u32,
    /// The "today" of the figures (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct BenchImportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Number of rows to generate (the file must stay under the 20 MiB import limit: about 190,000 rows).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(10..=190_000))]
    pub rows: u32,
    /// Run even though the database already holds units (they stay; the generated ones are added).
    #[arg(long)]
    pub allow_nonempty: bool,
}

/// How much `generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// About 5,000 units in six provincial-level units (the XPCC among them); seconds.
    Small,
    /// About 50,000 units in one province (--province).
    Province,
    /// About 1,000,000 units, 200,000 organizations and 40,000 instructors nationwide.
    National,
}

impl ProfileArg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Province => "province",
            Self::National => "national",
        }
    }
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, value_enum, default_value = "small")]
    pub profile: ProfileArg,
    /// The same seed and profile give the same data, ids included.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The province of the `province` profile (2-digit code; 66 is the XPCC).
    #[arg(long, value_name = "CODE", default_value = "44", value_parser = parse_province)]
    pub province: String,
}

fn parse_province(s: &str) -> Result<String, String> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("'{s}' is not a province code (2 digits, e.g. 44)"))
    }
}
