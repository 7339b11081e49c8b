//! The parts of the WebAssembly binary format that precept-build rewrites
//! by hand: preambles, sections and their LEB128 sizes.

/// The preamble of a core module: the magic number and version 1.
pub(crate) const MODULE_PREAMBLE: &[u8; 8] = b"\0asm\x01\0\0\0";
/// The preamble of a component: the magic number, version 0x0d, layer 1.
pub(crate) const COMPONENT_PREAMBLE: &[u8; 8] = b"\0asm\x0d\0\x01\0";

/// The id of a custom section, in a core module as in a component.
pub(crate) const CUSTOM_SECTION: u8 = 0;
/// The id of a core module's export section.
pub(crate) const EXPORT_SECTION: u8 = 7;
/// The id of a component's section holding a core module.
pub(crate) const CORE_MODULE_SECTION: u8 = 1;
/// The id of a component's section holding a nested component.
pub(crate) const COMPONENT_SECTION: u8 = 4;

/// A section of a module or component, as it is in its binary.
pub(crate) struct Section<'a> {
    /// Its id.
    pub(crate) id: u8,
    /// Its content, after its size.
    pub(crate) body: &'a [u8],
    /// The whole section, its id and size included.
    pub(crate) whole: &'a [u8],
}

/// The sections of the module or component `bytes`, after its preamble,
/// in order; an error ends them.
pub(crate) fn sections(bytes: &[u8]) -> impl Iterator<Item = Result<Section<'_>, &'static str>> {
    let mut at = MODULE_PREAMBLE.len().min(bytes.len());
    std::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        let section = next_section(bytes, &mut at).map(|(id, body)| Section {
            id,
            body,
            whole: &bytes[start..at],
        });
        if section.is_err() {
            at = bytes.len();
        }
        Some(section)
    })
}

/// The section at `bytes[*at..]`, its id and its body, moving `at` past it.
fn next_section<'a>(bytes: &'a [u8], at: &mut usize) -> Result<(u8, &'a [u8]), &'static str> {
    let id = *bytes.get(*at).ok_or("a section runs past the end")?;
    *at += 1;
    let size = read_leb128(bytes, at)?;
    let body = bytes
        .get(*at..at.saturating_add(size))
        .ok_or("a section runs past the end")?;
    *at += size;
    Ok((id, body))
}

/// The unsigned 32-bit LEB128 number at `bytes[*at..]`, moving `at` past it.
pub(crate) fn read_leb128(bytes: &[u8], at: &mut usize) -> Result<usize, &'static str> {
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at).ok_or("a size runs past the end")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return u32::try_from(value)
                .map(|v| v as usize)
                .map_err(|_| "a size is too large");
        }
    }
    Err("a size is too long")
}

/// Appends `value` in unsigned LEB128.
pub(crate) fn write_leb128(mut value: u32, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends the section `id` whose content is `body`.
pub(crate) fn write_section(id: u8, body: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    out.push(id);
    let size = u32::try_from(body.len()).map_err(|_| "a section is too large")?;
    write_leb128(size, out);
    out.extend_from_slice(body);
    Ok(())
}
