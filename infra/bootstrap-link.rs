//! The build script of every Lambda bootstrap (and of the benchmark's floor): on Linux with glibc,
//! the executable is linked at a fixed address instead of as a PIE.
//!
//! A PIE bootstrap makes the dynamic loader apply ~8,600 relocations at every cold start and copy
//! each page of `.data.rel.ro` it writes: linked at a fixed address, list-invitations starts with
//! ~45 fewer page faults and ~0.15 ms less init (README, Performance). The code stays
//! position-independent; only the link changes, and only for these executables (tests, tools and
//! proc-macros are untouched). `-no-pie` is handed to the linker itself, which lld, GNU ld and the
//! zig linker cargo-lambda uses all accept. The price: the executable's own image is not
//! randomised (shared libraries, heap and stack still are), as with Go's Lambda binaries. Remove
//! the `build` line from a function's Cargo.toml to link it as a PIE again.

fn main() {
    let target = |key: &str| std::env::var(key).unwrap_or_default();
    if target("CARGO_CFG_TARGET_OS") == "linux" && target("CARGO_CFG_TARGET_ENV") == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-no-pie");
    }
}
