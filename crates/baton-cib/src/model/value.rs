//! Typed reading of attribute values, with errors that name the element.

use crate::duration::parse_duration_ms;
use crate::score::Score;
use crate::xml::ElementRef;

/// A CIB element whose content does not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("the root element is `{0}`, expected `cib`")]
    NotCib(String),
    #[error("attribute `{attr}` of {element} `{id}` is `{value}`: {reason}")]
    BadValue {
        element: String,
        id: String,
        attr: String,
        value: String,
        reason: String,
    },
}

/// Pacemaker's boolean spellings.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "y" | "1" => Some(true),
        "false" | "off" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// Reads attribute `attr` of `el` with `parse`; missing is `Ok(None)`.
pub(crate) fn typed<T, E: std::fmt::Display>(
    el: ElementRef<'_>,
    attr: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, ModelError> {
    let Some(raw) = el.attr(attr) else {
        return Ok(None);
    };
    parse(raw).map(Some).map_err(|e| ModelError::BadValue {
        element: el.name().to_owned(),
        id: el.xml_id().to_owned(),
        attr: attr.to_owned(),
        value: raw.to_owned(),
        reason: e.to_string(),
    })
}

pub(crate) fn score(el: ElementRef<'_>, attr: &str) -> Result<Option<Score>, ModelError> {
    typed(el, attr, str::parse::<Score>)
}

pub(crate) fn boolean(el: ElementRef<'_>, attr: &str) -> Result<Option<bool>, ModelError> {
    typed(el, attr, |s| parse_bool(s).ok_or("expected true or false"))
}

pub(crate) fn duration_ms(el: ElementRef<'_>, attr: &str) -> Result<Option<u64>, ModelError> {
    typed(el, attr, parse_duration_ms)
}

pub(crate) fn integer<T: std::str::FromStr>(
    el: ElementRef<'_>,
    attr: &str,
) -> Result<Option<T>, ModelError>
where
    T::Err: std::fmt::Display,
{
    typed(el, attr, |s| s.trim().parse::<T>())
}

/// Declares a `Copy` view type wrapping one element.
macro_rules! view {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a>(pub(crate) $crate::xml::ElementRef<'a>);

        impl<'a> $name<'a> {
            /// The underlying element, for attributes and children this view does not model.
            pub fn element(self) -> $crate::xml::ElementRef<'a> {
                self.0
            }

            /// The `id` attribute ("" if missing).
            pub fn id(self) -> &'a str {
                self.0.xml_id()
            }

            /// Any attribute by name.
            pub fn attr(self, name: &str) -> Option<&'a str> {
                self.0.attr(name)
            }
        }
    };
}
pub(crate) use view;
