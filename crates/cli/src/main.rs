use clap::Parser;
use dangjian_cli::args::Cli;
use dangjian_cli::commands::EXIT_FAILURE;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(dangjian_cli::default_log_filter(&cli.command)));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let lang = cli.lang;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}{e}", lang.t("cli.error", &[]));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(dangjian_cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}{e:#}", lang.t("cli.error", &[]));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
