//! What a plugin adds to the application in `setup`: commands, services
//! and configuration keys (the `commands`, `services` and `config`
//! imports), each checked and counted against its budget.

use super::*;

/// What a plugin contributes.
impl HostState {
    pub(crate) fn add_command(&mut self, spec: CommandSpec) -> wasmtime::Result<()> {
        if !self.in_setup {
            return Ok(self.setup_only("add-command", &spec.name)?);
        }
        let arguments = spec.args.len();
        LimitExceeded::check(
            "arguments in one command",
            arguments,
            crate::model::command_spec::MAX_ARGS,
        )?;
        LimitExceeded::check(
            "bytes in one command",
            command_bytes(&spec),
            MAX_COMMAND_BYTES,
        )?;
        self.added.commands += 1;
        LimitExceeded::check("commands", self.added.commands, self.budget().commands)?;
        self.record(HostOp::AddCommand(spec))?;
        Ok(())
    }

    pub(crate) fn add_service(
        &mut self,
        name: String,
        command: Option<String>,
    ) -> wasmtime::Result<()> {
        self.check_name(&name)?;
        if !self.in_setup {
            return Ok(self.setup_only("add-service", &name)?);
        }
        self.added.services += 1;
        LimitExceeded::check("services", self.added.services, self.budget().services)?;
        self.record(HostOp::AddService(name, command))?;
        Ok(())
    }

    pub(crate) fn declare(
        &mut self,
        key: String,
        help: String,
        default: Value,
    ) -> wasmtime::Result<()> {
        self.check_name(&key)?;
        if !self.in_setup {
            return Ok(self.setup_only("declare", &key)?);
        }
        self.check_size(value_size(&default))?;
        let help = crate::io::text::clean(&help, 300);
        let declared = ConfigKey { key, help, default };
        let others = self.declared.iter().filter(|k| k.key != declared.key);
        let (count, bytes) = others.fold((1, key_bytes(&declared)), |(n, b), k| {
            (n + 1, b + key_bytes(k))
        });
        LimitExceeded::check("configuration keys", count, self.budget().config_keys)?;
        let limit = self.budget().config_bytes;
        LimitExceeded::check("bytes of configuration keys", bytes, limit)?;
        self.record(HostOp::DeclareConfig(declared.clone()))?;
        self.declared.retain(|k| k.key != declared.key);
        self.declared.push(declared);
        Ok(())
    }
}
