//! Reader for corosync.conf (1.x "whitetank", 2.x and 3.x syntax).

mod keys;
mod map;
mod parse;
mod values;

pub use parse::{Item, MAX_DEPTH, MAX_LINE_CHARS, Pair, Section, SyntaxError, parse};

use crate::diag::{Sink, Sources};
use crate::model::ClusterConfig;

pub(crate) fn read(text: &str, sink: &mut Sink) -> Result<(ClusterConfig, Sources), SyntaxError> {
    let items = parse(text)?;
    let mut sources = Sources::default();
    let config = map::map(&items, sink, &mut sources);
    Ok((config, sources))
}
