# One-liners over `cargo xtask`; the logic lives in xtask/.

# Build the example modules and the daemon, then run it.
run *ARGS:
    cargo xtask run {{ARGS}}

# The whole test suite (what CI runs).
test:
    cargo xtask test

# Build and stage the example modules in target/modules.
guests:
    cargo xtask guests

# Build everything the benchmarks need (release), run them, print the table.
bench *ARGS:
    cargo xtask bench {{ARGS}}

# Run the fuzz targets (every one for 60 s by default; 'just fuzz --help').
fuzz *ARGS:
    cargo xtask fuzz {{ARGS}}
