//! The `wasmgr` binary: the daemon (`wasmgr serve`) and its command-line client.

fn main() {
    std::process::exit(wasmgr::main(std::env::args().skip(1).collect()));
}
