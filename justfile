# Recipes for everyday work; each wraps a plain cargo command.

# Run precept-run with the example plugins.
demo:
    cargo run -p precept-demo --example demo

# Run every test (builds the test plugins from source first).
test:
    cargo test

# Build the Rust example plugins into target/wasm32-wasip2/release/*.wasm.
plugins:
    cargo build --release --target wasm32-wasip2 -p hello -p guard -p ping -p pong -p greet -p recorder -p journal -p conformance
    ls target/wasm32-wasip2/release/*.wasm

# Install the pinned C, Python and JavaScript plugin toolchains.
toolchains:
    bash .ci/toolchains

# Build one plugin directory, in any supported language, into a component.
# e.g. `just plugin example-plugins/python/hello -o hello.wasm`
plugin dir *args:
    cargo run -p precept-build -- {{dir}} {{args}}

# Build the C, Python, JavaScript and Go examples into target/plugins/NAME-LANGUAGE.wasm.
polyglot:
    for dir in example-plugins/c/*/ example-plugins/python/*/ example-plugins/javascript/*/ example-plugins/go/*/; do \
        lang=$(basename $(dirname $dir)); name=$(basename $dir); \
        cargo run -q -p precept-build -- $dir -o target/plugins/$name-$lang.wasm || exit 1; \
    done

# Every benchmark; figures and their meaning are in BENCHMARKS.md.
bench:
    cargo bench -p precept

# The property tests with many more cases than CI runs; each prints how long
# it took (docs/SECURITY.md lists the properties and their times here).
fuzz cases="100000":
    PRECEPT_CASES={{cases}} cargo test --release -p precept-tests --test properties -- --nocapture

# Formatting, lints and tests, as CI runs them.
ci:
    bash .ci/run
