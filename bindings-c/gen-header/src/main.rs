//! Generates the C header of `resilience-c` from its `extern "C"` surface.
//!
//! `make c-header` writes the committed `bindings-c/include/resilience.h`;
//! `make test-c` writes a fresh copy under `target/` and fails when it
//! differs from the committed one. Generating is an explicit step, never a
//! side effect of a build: a build script that rewrote the source tree would
//! dirty every checkout that merely compiles the crate.
//!
//! Usage: `resilience-c-header <bindings-c dir> <output header>`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The arguments after the program's own name.
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [crate_dir, output] = args.as_slice() else {
        eprintln!("usage: resilience-c-header <bindings-c dir> <output header>");
        return ExitCode::from(2);
    };
    let config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("cannot read {}: {e}", crate_dir.join("cbindgen.toml").display());
            return ExitCode::FAILURE;
        }
    };
    match cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(output);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cbindgen failed on {}: {e}", crate_dir.display());
            ExitCode::FAILURE
        }
    }
}
