//! The `d2l-book` command; everything it does lives in the library's modules.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match d2l_book::cmd::run(d2l_book::cmd::Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Book diagnostics and compile errors carry their own `error:` lines.
            let own = e.is::<d2l_book::diag::Diagnostics>() || e.is::<d2l_book::build::CompileFailed>();
            eprintln!("{}{e:#}", if own { "" } else { "error: " });
            ExitCode::FAILURE
        }
    }
}
