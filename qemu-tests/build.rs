//! Picks the machine for the target: its memory map (as `memory.x`, which
//! cortex-m-rt's `link.x` includes), and its name, core and clock (for the
//! report and the SysTick reload) as `machine.rs`.

use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap();
    // target → (QEMU machine, core, memory map, core clock in Hz). Keep in step
    // with scripts/qemu.sh and .cargo/config.toml.
    let (machine, core, memory, clock_hz) = match target.as_str() {
        "thumbv6m-none-eabi" => ("microbit", "Cortex-M0", "memory/microbit.x", 16_000_000),
        "thumbv7em-none-eabihf" => ("mps2-an386", "Cortex-M4F", "memory/mps2.x", 25_000_000),
        other => panic!("no QEMU machine for target {other}: see build.rs"),
    };
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::copy(memory, out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    fs::write(
        out.join("machine.rs"),
        format!(
            "pub const NAME: &str = {machine:?};\n\
             pub const CORE: &str = {core:?};\n\
             pub const TARGET: &str = {target:?};\n\
             pub const CLOCK_HZ: u32 = {clock_hz};\n"
        ),
    )
    .unwrap();
    println!("cargo:rerun-if-changed={memory}");
    println!("cargo:rerun-if-changed=build.rs");
}
