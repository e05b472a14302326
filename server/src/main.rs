//! The `certdesk` binary: parse the command line, run it, turn a failure into a message and an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = certdesk::cli::Cli::parse();
    match certdesk::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = error.exit_code();
            // anyhow renders the chain of causes the way an operator wants to read it.
            eprintln!("certdesk: {:#}", anyhow::Error::new(error));
            code
        }
    }
}
