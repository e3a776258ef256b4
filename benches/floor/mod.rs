//! The parse floor of `tollgate check`: the work every verdict needs at
//! least, whatever the document model and the checks do on top. Reading the
//! file, one comrak parse in the model's options and one walk over every
//! node of the tree, touching each node's value and position so that the
//! walk cannot be optimised away.
//!
//! Shared by the `(f)` row of `benches/check.rs` and by `examples/floor.rs`,
//! the same work as a process of its own.

use std::path::Path;

use comrak::{Arena, Options};

/// Reads the file at `path`, parses it and walks every node once; returns a
/// count that depends on each node's position and on the length of its
/// text, if it holds some.
pub fn read_parse_and_walk(path: &Path, options: &Options<'_>) -> std::io::Result<usize> {
    let text = std::fs::read_to_string(path)?;
    let arena = Arena::new();
    let root = comrak::parse_document(&arena, &text, options);
    Ok(root
        .descendants()
        .map(|node| {
            let ast = node.data.borrow();
            ast.sourcepos.start.line + ast.value.text().map_or(0, |text| text.len())
        })
        .fold(0, usize::wrapping_add))
}
