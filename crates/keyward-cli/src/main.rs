//! The `keyward` binary: see the keyward-cli crate docs.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use keyward_cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match keyward_cli::run(cli, &mut stdout) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.message());
            e.exit_code()
        }
    }
}
