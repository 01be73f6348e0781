//! The library's version, from the crate version (the workspace's
//! `Cargo.toml`). The header's macros are literals because the header
//! generator reads source text and cannot evaluate `env!`; a compile-time
//! assertion ties each one to the crate version, so they cannot drift.

use std::ffi::{c_char, CStr};

/// The major version of the header (and of the library it was generated
/// with). Compare with resilience_version() to catch a header/library mismatch.
pub const RESILIENCE_VERSION_MAJOR: u32 = 0;
/// The minor version of the header.
pub const RESILIENCE_VERSION_MINOR: u32 = 1;
/// The patch version of the header.
pub const RESILIENCE_VERSION_PATCH: u32 = 0;

/// A decimal `u32` from a version component, at compile time.
const fn parse(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut value: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i];
        assert!(digit.is_ascii_digit(), "a version component is decimal");
        value = value * 10 + (digit - b'0') as u32;
        i += 1;
    }
    value
}

const _: () = assert!(
    RESILIENCE_VERSION_MAJOR == parse(env!("CARGO_PKG_VERSION_MAJOR"))
        && RESILIENCE_VERSION_MINOR == parse(env!("CARGO_PKG_VERSION_MINOR"))
        && RESILIENCE_VERSION_PATCH == parse(env!("CARGO_PKG_VERSION_PATCH")),
    "RESILIENCE_VERSION_* must equal the crate version: update src/version.rs"
);

static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(version) => version,
    Err(_) => panic!("the crate version holds no NUL"),
};

/// The library's version as "MAJOR.MINOR.PATCH" (e.g. "0.1.0"), for
/// logs and for checking at run time that the library matches the header's
/// RESILIENCE_VERSION_* macros. A static string; do not free it.
#[no_mangle]
pub extern "C" fn resilience_version() -> *const c_char {
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_and_the_macros_agree() {
        // SAFETY: the library's own static NUL-terminated string.
        let text = unsafe { CStr::from_ptr(resilience_version()) }.to_str().unwrap();
        let macros = format!("{RESILIENCE_VERSION_MAJOR}.{RESILIENCE_VERSION_MINOR}.{RESILIENCE_VERSION_PATCH}");
        assert_eq!(text, macros);
        assert_eq!(text, env!("CARGO_PKG_VERSION"));
    }
}
