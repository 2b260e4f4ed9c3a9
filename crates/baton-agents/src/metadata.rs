//! An agent's `meta-data` XML (OCF 1.1, FACTS §6.1) as a typed value.

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentMetadata {
    pub name: String,
    pub version: String,
    pub shortdesc: String,
    pub longdesc: String,
    pub parameters: Vec<ParameterSpec>,
    pub actions: Vec<ActionSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParameterSpec {
    pub name: String,
    /// `string`, `integer`, `boolean`, … as the agent says.
    pub content_type: String,
    pub default: Option<String>,
    pub required: bool,
    pub unique: bool,
    pub shortdesc: String,
    pub longdesc: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionSpec {
    pub name: String,
    pub timeout_ms: Option<u64>,
    pub interval_ms: Option<u64>,
    pub depth: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("the agent's meta-data is not well-formed XML at byte {offset}: {message}")]
    Xml { offset: u64, message: String },
    #[error("the agent's meta-data has no <resource-agent> element; is it an OCF agent?")]
    NotAnAgent,
}

/// Where descriptive text is being collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Desc {
    AgentShort,
    AgentLong,
    ParamShort,
    ParamLong,
}

pub fn parse(xml: &str) -> Result<AgentMetadata, MetadataError> {
    let mut reader = Reader::from_str(xml);
    let mut meta = AgentMetadata::default();
    let mut found_agent = false;
    let mut stack: Vec<String> = Vec::new();
    let mut desc: Option<(Desc, String)> = None;
    loop {
        let offset = reader.buffer_position();
        let xml_error = |message: String| MetadataError::Xml { offset, message };
        let event = reader.read_event().map_err(|e| xml_error(e.to_string()))?;
        match event {
            Event::Start(ref element) | Event::Empty(ref element) => {
                let name = element.local_name().as_ref().to_owned();
                let parent = stack.last().map(String::as_str);
                match (parent, name.as_str()) {
                    (None, "resource-agent") => {
                        found_agent = true;
                        meta.name = attr(element, "name").unwrap_or_default();
                        meta.version = attr(element, "version").unwrap_or_default();
                        // Fence agents say it here rather than in <shortdesc>.
                        meta.shortdesc = attr(element, "shortdesc").unwrap_or_default();
                    }
                    (Some("resource-agent"), "shortdesc") => {
                        desc = Some((Desc::AgentShort, String::new()))
                    }
                    (Some("resource-agent"), "longdesc") => {
                        desc = Some((Desc::AgentLong, String::new()))
                    }
                    (Some("parameters"), "parameter") => meta.parameters.push(ParameterSpec {
                        name: attr(element, "name").unwrap_or_default(),
                        required: attr(element, "required").is_some_and(|v| is_true(&v)),
                        unique: attr(element, "unique").is_some_and(|v| is_true(&v))
                            || attr(element, "unique-group").is_some(),
                        ..ParameterSpec::default()
                    }),
                    (Some("parameter"), "shortdesc") => {
                        desc = Some((Desc::ParamShort, String::new()))
                    }
                    (Some("parameter"), "longdesc") => {
                        desc = Some((Desc::ParamLong, String::new()))
                    }
                    (Some("parameter"), "content") => {
                        if let Some(param) = meta.parameters.last_mut() {
                            param.content_type = attr(element, "type").unwrap_or_default();
                            param.default = attr(element, "default");
                        }
                    }
                    (Some("actions"), "action") => meta.actions.push(ActionSpec {
                        name: attr(element, "name").unwrap_or_default(),
                        timeout_ms: attr(element, "timeout").and_then(|t| parse_duration_ms(&t)),
                        interval_ms: attr(element, "interval").and_then(|t| parse_duration_ms(&t)),
                        depth: attr(element, "depth"),
                        role: attr(element, "role"),
                    }),
                    _ => {}
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(name);
                } else if matches!(name.as_str(), "shortdesc" | "longdesc") {
                    // <shortdesc/>: empty text, nothing to collect.
                    desc = None;
                }
            }
            Event::End(_) => {
                let closed = stack.pop();
                if matches!(closed.as_deref(), Some("shortdesc" | "longdesc"))
                    && let Some((target, text)) = desc.take()
                {
                    store(&mut meta, target, text.trim());
                }
            }
            Event::Text(text) => push_text(&mut desc, &text.xml10_content()),
            Event::CData(text) => push_text(&mut desc, &text.xml10_content()),
            Event::GeneralRef(entity) => {
                let resolved = match entity.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => resolve_predefined_entity(&entity)
                        .unwrap_or_default()
                        .to_owned(),
                };
                push_text(&mut desc, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if found_agent {
        Ok(meta)
    } else {
        Err(MetadataError::NotAnAgent)
    }
}

fn push_text(desc: &mut Option<(Desc, String)>, text: &str) {
    if let Some((_, buffer)) = desc {
        buffer.push_str(text);
    }
}

/// The first description of each kind wins; agents may repeat them per lang.
fn store(meta: &mut AgentMetadata, target: Desc, text: &str) {
    let slot = match target {
        Desc::AgentShort => &mut meta.shortdesc,
        Desc::AgentLong => &mut meta.longdesc,
        Desc::ParamShort | Desc::ParamLong => {
            let Some(param) = meta.parameters.last_mut() else {
                return;
            };
            if target == Desc::ParamShort {
                &mut param.shortdesc
            } else {
                &mut param.longdesc
            }
        }
    };
    if slot.is_empty() {
        text.clone_into(slot);
    }
}

fn attr(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn is_true(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on" | "y"
    )
}

/// A Pacemaker time spec: a number with an optional unit (ms, s, sec, m,
/// min, h, hr); a bare number is seconds.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "ms" | "msec" => 1,
        "" | "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        "h" | "hr" => 3_600_000,
        _ => return None,
    };
    number.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMMYISH: &str = r#"<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Demo" version="1.0">
<version>1.1</version>
<longdesc lang="en">Keeps a state file &amp; nothing else.</longdesc>
<shortdesc lang="en">Demo agent</shortdesc>
<parameters>
<parameter name="state" unique-group="state">
<longdesc lang="en">Where the <![CDATA[state]]> lives</longdesc>
<shortdesc lang="en">State file</shortdesc>
<content type="string" default="/run/demo.state" />
</parameter>
<parameter name="delay" required="1">
<shortdesc lang="en"/>
<content type="integer"/>
</parameter>
</parameters>
<actions>
<action name="start" timeout="20s" />
<action name="monitor" timeout="20" interval="10s" depth="0" />
<action name="promote" timeout="2min" role="Promoted"/>
<action name="meta-data" timeout="500ms" />
</actions>
</resource-agent>
"#;

    #[test]
    fn parses_parameters_and_actions() {
        let meta = parse(DUMMYISH).expect("parse");
        assert_eq!((meta.name.as_str(), meta.version.as_str()), ("Demo", "1.0"));
        assert_eq!(meta.shortdesc, "Demo agent");
        assert_eq!(meta.longdesc, "Keeps a state file & nothing else.");
        let [state, delay] = meta.parameters.as_slice() else {
            panic!("{:?}", meta.parameters)
        };
        assert_eq!(state.name, "state");
        assert_eq!(state.longdesc, "Where the state lives");
        assert_eq!(state.default.as_deref(), Some("/run/demo.state"));
        assert!(state.unique && !state.required);
        assert_eq!(
            (
                delay.content_type.as_str(),
                delay.required,
                delay.default.as_deref()
            ),
            ("integer", true, None)
        );
        assert_eq!(delay.shortdesc, "");
        let timeouts: Vec<_> = meta
            .actions
            .iter()
            .map(|a| (a.name.as_str(), a.timeout_ms))
            .collect();
        assert_eq!(
            timeouts,
            [
                ("start", Some(20_000)),
                ("monitor", Some(20_000)),
                ("promote", Some(120_000)),
                ("meta-data", Some(500))
            ]
        );
        assert_eq!(meta.actions[1].interval_ms, Some(10_000));
        assert_eq!(meta.actions[2].role.as_deref(), Some("Promoted"));
    }

    #[test]
    fn refuses_what_is_not_agent_metadata() {
        assert_eq!(parse("<html/>"), Err(MetadataError::NotAnAgent));
        assert!(matches!(
            parse("<resource-agent><x></resource-agent>"),
            Err(MetadataError::Xml { .. })
        ));
        assert_eq!(parse(""), Err(MetadataError::NotAnAgent));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("15"), Some(15_000));
        assert_eq!(parse_duration_ms("100ms"), Some(100));
        assert_eq!(parse_duration_ms("1h"), Some(3_600_000));
        assert_eq!(parse_duration_ms("soon"), None);
        assert_eq!(parse_duration_ms("5 weeks"), None);
    }
}
