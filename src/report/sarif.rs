//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning takes it. One run;
//! its driver lists a rule per check that ran (with the check's kind as a
//! tag and its hint as help) or per lint code; each finding is a result at
//! its file (relative to the project root) and region. Columns count
//! characters, so the run says `unicodeCodePoints`.

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool,
    ToolComponent,
};

use super::{LintedFile, Rule, check_rules, lint_rules};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::StepResult;
use crate::suppress::Suppressed;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// `check --format sarif`. A finding the document suppressed is a result
/// too, carrying an in-source suppression with the directive's reason, so
/// code scanning shows it as dismissed rather than losing it.
pub fn check_sarif(results: &[StepResult]) -> Sarif {
    let rules = check_rules(results);
    let findings = results.iter().flat_map(StepResult::findings);
    let suppressed = results.iter().flat_map(StepResult::suppressed);
    let mut sarif_results: Vec<SarifResult> =
        findings.map(|finding| result(&rules, finding)).collect();
    sarif_results.extend(suppressed.map(|s| {
        let mut suppressed_result = result(&rules, &s.finding);
        suppressed_result.suppressions = Some(vec![suppression(s)]);
        suppressed_result
    }));
    log(&rules, sarif_results)
}

/// `lint --format sarif`.
pub fn lint_sarif(linted: &[LintedFile]) -> Sarif {
    let all = || linted.iter().flat_map(|file| &file.diagnostics);
    let rules = lint_rules(all());
    let results = all().map(|finding| result(&rules, finding)).collect();
    log(&rules, results)
}

fn log(rules: &[Rule], results: Vec<SarifResult>) -> Sarif {
    let driver = ToolComponent::builder()
        .name("tollgate")
        .version(env!("CARGO_PKG_VERSION"))
        .rules(rules.iter().map(descriptor).collect::<Vec<_>>())
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .results(results)
        .build();
    Sarif::builder()
        .schema(SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build()
}

fn text(text: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let builder = ReportingDescriptor::builder().id(&rule.id);
    match (rule.kind, rule.hint) {
        (Some(kind), Some(hint)) => builder
            .short_description(text(format!("check of kind `{kind}`")))
            .full_description(text(format!(
                "A check of kind `{kind}` in the playbook. To fix what it finds: {hint}."
            )))
            .help(text(hint))
            .properties(PropertyBag::builder().tags(vec![kind.to_string()]).build())
            .build(),
        (Some(kind), None) => builder
            .short_description(text(format!("check of kind `{kind}`")))
            .properties(PropertyBag::builder().tags(vec![kind.to_string()]).build())
            .build(),
        (None, _) => builder.build(),
    }
}

fn suppression(suppressed: &Suppressed) -> Suppression {
    let directive = Diagnostic {
        start: Some(suppressed.directive),
        end: None,
        ..suppressed.finding.clone()
    };
    let mut suppression = Suppression::builder()
        .kind(serde_json::json!("inSource"))
        .justification(suppressed.reason.clone())
        .build();
    suppression.location = location(&directive);
    suppression
}

fn result(rules: &[Rule], finding: &Diagnostic) -> SarifResult {
    let rule_index = rules.iter().position(|rule| rule.id == finding.code);
    let level = match finding.severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    };
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push_str(&format!(" ({help})"));
    }
    // -1 is SARIF's "no index"; every finding's code is among the rules.
    let rule_index = rule_index.and_then(|i| i64::try_from(i).ok());
    let builder = SarifResult::builder()
        .rule_id(&finding.code)
        .rule_index(rule_index.unwrap_or(-1))
        .level(level)
        .message(Message::builder().text(message).build());
    let mut result = match location(finding) {
        Some(location) => builder.locations(vec![location]).build(),
        None => builder.build(),
    };
    let related: Vec<Location> = (finding.related.iter())
        .zip(0i64..)
        .filter_map(|(related, id)| {
            let far = Diagnostic {
                path: related.path.clone(),
                start: Some(related.start),
                end: None,
                ..Diagnostic::new("", finding.severity, "", "")
            };
            let mut location = location(&far)?;
            location.id = Some(id);
            location.message = Some(Message::builder().text(related.message.clone()).build());
            Some(location)
        })
        .collect();
    if !related.is_empty() {
        result.related_locations = Some(related);
    }
    result
}

/// Where a finding is: its file (relative to the root) and region.
fn location(finding: &Diagnostic) -> Option<Location> {
    if finding.path.is_empty() {
        return None;
    }
    let mut physical = PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(uri(&finding.path)).build())
        .build();
    if let Some(start) = finding.start {
        let number = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let mut region = Region::builder()
            .start_line(number(start.line))
            .start_column(number(start.column))
            .build();
        if let Some(end) = finding.end {
            region.end_line = Some(number(end.line));
            region.end_column = Some(number(end.column));
        }
        physical.region = Some(region);
    }
    Some(Location::builder().physical_location(physical).build())
}

/// A relative path as a URI reference: the characters a URI gives another
/// meaning to are percent-encoded; `/` stays.
fn uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '/' | '-' | '.' | '_' | '~' => uri.push(c),
            c => {
                let mut bytes = [0; 4];
                for byte in c.encode_utf8(&mut bytes).bytes() {
                    uri.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("docs/plan one#2.md"), "docs/plan%20one%232.md");
        assert_eq!(uri("spécs/a.md"), "sp%C3%A9cs/a.md");
    }
}
