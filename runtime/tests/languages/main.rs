//! The tests that run in every language: the conformance plugins, the hello
//! worlds and `precept-build new`'s templates.
//!
//! A binary of its own with its own harness (libtest-mimic): whether a
//! language's test runs is decided at run time, from whether its toolchain
//! was there when the test build ran. A missing one shows as *ignored*
//! with what to install, and fails in CI (`CI=true`), where every toolchain
//! must be there.

mod conformance;
mod template;

use libtest_mimic::Arguments;

fn main() {
    let mut trials = conformance::trials();
    trials.extend(template::trials());
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
