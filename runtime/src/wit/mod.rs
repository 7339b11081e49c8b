//! The `precept:plugin` contract, one module per WIT version. Each binds its
//! version and converts its types to precept's own at the boundary, so the
//! dispatcher, the variables and the embedding API never see generated
//! types, and a new version is added beside the others.

pub(crate) mod v0_1;

pub use v0_1::WORLD_VERSION;
pub(crate) use v0_1::{Plugin, PluginPre, WitEvent, precept};
