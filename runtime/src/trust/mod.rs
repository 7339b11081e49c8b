//! What a plugin may do, and whether to run it at all: the sandbox of
//! grants and limits, the capabilities a plugin declares against what the
//! user grants, the network it may reach, what its file says of it, the
//! lockfile of accepted plugins, and plugins' own data directories.

pub(crate) mod capabilities;
pub(crate) mod data;
pub(crate) mod installed;
pub(crate) mod lock;
pub(crate) mod manifest;
pub(crate) mod net;
pub(crate) mod sandbox;

pub use capabilities::{
    Access, Capabilities, CapabilityError, DATA_PATH, DataCapability, DirCapability, EnvCapability,
    Granted, NetCapability,
};
pub use data::default_dir as default_data_dir;
pub use installed::{default_home as default_plugin_home, home_var as plugin_home_var};
pub use manifest::{Declared, Identity, MANIFEST_SECTION, Manifest};
pub use sandbox::{DirGrant, Grants};
