//! The `keyward` binary: see the keyward-cli crate docs.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use keyward_cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse_noting_configuration();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    match keyward_cli::run(cli, &mut stdout, &mut stderr) {
        Ok(code) => code,
        Err(e) => {
            // Nothing more can be said if stderr itself is gone.
            let _ = writeln!(stderr, "error: {}", e.message());
            e.exit_code()
        }
    }
}
