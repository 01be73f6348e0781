//! Generates `include/resilience.h` from the crate's `extern "C"` surface.
//!
//! The header is committed; `make test-c` regenerates it and fails when the
//! committed copy differs, so it can never drift from the code.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("bindings-c/cbindgen.toml is valid");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can read src/")
        .write_to_file(crate_dir.join("include/resilience.h"));
}
