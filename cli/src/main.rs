//! The `wasmgr` binary: the daemon (`wasmgr serve`) and its command-line client.

fn main() {
    std::process::exit(wasmgr::main_os(std::env::args_os().skip(1)));
}
