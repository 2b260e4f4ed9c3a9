//! Meta-data for LSB init scripts, made from their `### BEGIN INIT INFO`
//! header, so that `ra info lsb:NAME` works like it does for OCF agents.

use quick_xml::escape::escape;

/// The header's Short-Description and Description, if present.
fn header(script: &str) -> (String, String) {
    let mut short = String::new();
    let mut long = String::new();
    let mut in_header = false;
    let mut in_description = false;
    for line in script.lines() {
        let line = line.trim_end();
        if line.starts_with("### BEGIN INIT INFO") {
            in_header = true;
            continue;
        }
        if !in_header {
            continue;
        }
        if line.starts_with("### END INIT INFO") {
            break;
        }
        let Some(body) = line.strip_prefix('#') else {
            break;
        };
        if let Some(text) = body.strip_prefix(" Short-Description:") {
            short = text.trim().to_owned();
            in_description = false;
        } else if let Some(text) = body.strip_prefix(" Description:") {
            long = text.trim().to_owned();
            in_description = true;
        } else if in_description && (body.starts_with('\t') || body.starts_with("  ")) {
            // Continuation lines start with "#" and a tab or two spaces.
            long.push(' ');
            long.push_str(body.trim());
        } else {
            in_description = false;
        }
    }
    (short, long)
}

/// OCF-style meta-data XML for the init script `name`.
pub fn metadata_xml(name: &str, script: &str) -> String {
    let (short, long) = header(script);
    let short = if short.is_empty() {
        format!("{name} init script")
    } else {
        short
    };
    described_xml(name, &short, &long)
}

/// OCF-style meta-data XML for a service that has only descriptions and
/// the standard actions (init scripts, systemd units).
pub(crate) fn described_xml(name: &str, short: &str, long: &str) -> String {
    let long = if long.is_empty() { short } else { long };
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\"?>\n");
    xml.push_str(&format!(
        "<resource-agent name=\"{}\" version=\"0.1\">\n",
        escape(name)
    ));
    xml.push_str("  <version>1.1</version>\n");
    xml.push_str(&format!(
        "  <longdesc lang=\"en\">{}</longdesc>\n",
        escape(long)
    ));
    xml.push_str(&format!(
        "  <shortdesc lang=\"en\">{}</shortdesc>\n",
        escape(short)
    ));
    xml.push_str("  <parameters/>\n  <actions>\n");
    for (action, timeout) in [
        ("start", 15),
        ("stop", 15),
        ("status", 15),
        ("restart", 15),
        ("force-reload", 15),
        ("monitor", 15),
        ("meta-data", 5),
    ] {
        let interval = if action == "monitor" {
            " interval=\"15s\""
        } else {
            ""
        };
        xml.push_str(&format!(
            "    <action name=\"{action}\" timeout=\"{timeout}s\"{interval}/>\n"
        ));
    }
    xml.push_str("  </actions>\n</resource-agent>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_becomes_metadata() {
        let script = "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: web\n# Short-Description: Web <server>\n# Description: Serves pages\n#  and more pages.\n# Required-Start: $network\n### END INIT INFO\necho\n";
        let meta = crate::metadata::parse(&metadata_xml("web", script)).expect("parse");
        assert_eq!(meta.name, "web");
        assert_eq!(meta.shortdesc, "Web <server>");
        assert_eq!(meta.longdesc, "Serves pages and more pages.");
        assert!(
            meta.actions
                .iter()
                .any(|a| a.name == "status" && a.timeout_ms == Some(15_000))
        );
        let bare = crate::metadata::parse(&metadata_xml("x", "#!/bin/sh\n")).expect("parse");
        assert_eq!(bare.shortdesc, "x init script");
    }
}
