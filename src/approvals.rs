//! Who may open a human gate and whether enough of them have: a step's
//! `approval:` rule read against the playbook's `approvers:` groups. A
//! person is their e-mail address, compared without regard to case; the
//! same person approving twice counts once.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use crate::playbook::{ApprovalRule, Email};
use crate::state::Approval;

/// The person an approval's `by` names: the address inside `<...>` when
/// there is one ("Kim Lee <kim@example.com>"), else the whole, lower-cased.
pub fn person(by: &str) -> String {
    let address = by
        .rsplit_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(by, |(address, _)| address);
    address.trim().to_lowercase()
}

/// Every person the entries of `from` name (groups expanded), lower-cased.
pub fn people(groups: &IndexMap<String, Vec<Email>>, from: &[String]) -> BTreeSet<String> {
    from.iter()
        .flat_map(|entry| match groups.get(entry) {
            Some(members) => members.iter().map(|m| m.0.to_lowercase()).collect(),
            None if entry.contains('@') => vec![entry.to_lowercase()],
            None => Vec::new(),
        })
        .collect()
}

/// A step's rule with the playbook's groups, as the gate applies it.
#[derive(Debug, Clone, Copy)]
pub struct Gatekeeper<'a> {
    pub rule: &'a ApprovalRule,
    pub groups: &'a IndexMap<String, Vec<Email>>,
}

impl Gatekeeper<'_> {
    /// Whether `person` may approve (anyone may when `from` is empty).
    pub fn allows(&self, person: &str) -> bool {
        self.rule.from.is_empty() || people(self.groups, &self.rule.from).contains(person)
    }

    /// Who may approve, as a refusal names them.
    pub fn who_may(&self) -> String {
        let named: Vec<String> = people(self.groups, &self.rule.from).into_iter().collect();
        named.join(", ")
    }

    /// The gate as the fresh approvals and rejections leave it.
    pub fn tally<'r>(
        &self,
        fresh: impl IntoIterator<Item = &'r Approval>,
        rejections: impl IntoIterator<Item = &'r Approval>,
    ) -> Tally {
        let mut approvers: Vec<String> = Vec::new();
        for approval in fresh {
            let who = person(&approval.by);
            if self.allows(&who) && !approvers.contains(&who) {
                approvers.push(who);
            }
        }
        let missing = self
            .rule
            .require
            .iter()
            .filter(|group| {
                let members = people(self.groups, std::slice::from_ref(group));
                !approvers.iter().any(|who| members.contains(who))
            })
            .cloned()
            .collect();
        Tally {
            approvers,
            min: self.rule.min,
            missing,
            rejected_by: rejections
                .into_iter()
                .map(|r| r.by.clone())
                .collect::<Vec<_>>(),
        }
    }
}

/// Where a human gate stands: who approved it (each once, only those
/// allowed, only approvals still fresh), how many it needs, the `require`
/// groups no approver covers yet, and who requested changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub approvers: Vec<String>,
    pub min: usize,
    pub missing: Vec<String>,
    pub rejected_by: Vec<String>,
}

impl Tally {
    /// Whether the gate opens.
    pub fn open(&self) -> bool {
        self.approvers.len() >= self.min && self.missing.is_empty() && self.rejected_by.is_empty()
    }

    /// "1 of 2 approvals (needs security)", "changes requested by ...";
    /// "approved by 3 (2 needed)" once enough people approved.
    pub fn progress(&self) -> String {
        let noun = if self.min == 1 {
            "approval"
        } else {
            "approvals"
        };
        let mut text = if self.open() {
            format!("approved by {} ({} needed)", self.approvers.len(), self.min)
        } else {
            format!("{} of {} {noun}", self.approvers.len(), self.min)
        };
        if !self.missing.is_empty() {
            text.push_str(&format!(" (needs {})", self.missing.join(", ")));
        }
        if !self.rejected_by.is_empty() {
            text.push_str(&format!(
                "; changes requested by {}",
                self.rejected_by.join(", ")
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval(by: &str) -> Approval {
        Approval {
            step: "plan".into(),
            by: by.into(),
            at: "t".into(),
            note: None,
            artifacts: IndexMap::new(),
            files: IndexMap::new(),
        }
    }

    #[test]
    fn counts_each_allowed_person_once_and_names_missing_groups() {
        let groups = IndexMap::from([
            (
                "architects".to_string(),
                vec![
                    Email("alice@example.com".into()),
                    Email("bob@example.com".into()),
                ],
            ),
            (
                "security".to_string(),
                vec![Email("carol@example.com".into())],
            ),
        ]);
        let rule = ApprovalRule {
            from: vec!["architects".into(), "security".into()],
            min: 2,
            require: vec!["security".into()],
            ..ApprovalRule::default()
        };
        let keeper = Gatekeeper {
            rule: &rule,
            groups: &groups,
        };
        let alice = approval("Alice <Alice@Example.com>");
        let again = approval("alice@example.com");
        let mallory = approval("mallory@example.com");
        let tally = keeper.tally([&alice, &again, &mallory], []);
        assert_eq!(tally.approvers, ["alice@example.com"]);
        assert_eq!(tally.progress(), "1 of 2 approvals (needs security)");
        assert!(!tally.open());
        let carol = approval("carol@example.com");
        assert!(keeper.tally([&alice, &carol], []).open());
        let tally = keeper.tally([&alice, &carol], [&mallory]);
        assert!(!tally.open());
        assert_eq!(
            tally.progress(),
            "2 of 2 approvals; changes requested by mallory@example.com"
        );
    }
}
