//! The verdicts of the benchmark corpus, pinned finding for finding: the real
//! binary checks the first 1,000 generated documents (`benches/corpus/mod.rs`)
//! against the `plan` step of `benches/plan-phase.yaml`, and a snapshot holds
//! the count of each verdict, the findings per check and severity, and a
//! SHA-256 digest of the whole JSON output. Any finding that changes, moves or
//! goes changes the digest. `benches/compare-verdicts.sh` compares two
//! binaries on the full 10,000 documents the same way.

// Which defect each document carries is for the benchmark to read, not here.
#[allow(dead_code)]
#[path = "../benches/corpus/mod.rs"]
mod corpus;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

const DOCUMENTS: usize = 1000;

#[test]
fn the_first_thousand_bench_documents_keep_their_verdicts_and_findings() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let names: Vec<String> = (0..DOCUMENTS)
        .into_par_iter()
        .map(|index| {
            let doc = corpus::generate(index);
            std::fs::write(dir.path().join(&doc.name), &doc.text).expect("writing the corpus");
            doc.name
        })
        .collect();
    // The files are named relative to the folder checked, so the output holds
    // nothing of where the folder is.
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(dir.path())
        .env_remove("TOLLGATE_PLAYBOOK")
        .args(["--root", ".", "--color", "never", "--playbook"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/plan-phase.yaml"
        ))
        .args(["check", "--step", "plan", "--format", "json"])
        .args(&names)
        .output()
        .expect("the binary runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "some documents fail: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let temporary = dir.path().to_string_lossy();
    assert!(
        !stdout.contains(temporary.as_ref()),
        "the output names {temporary}"
    );

    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    let results = json["results"].as_array().expect("results");
    assert_eq!(results.len(), DOCUMENTS);
    let mut verdicts = BTreeMap::<&str, usize>::new();
    let mut findings = BTreeMap::<(&str, &str), usize>::new();
    for result in results {
        *verdicts
            .entry(result["verdict"].as_str().expect("a verdict"))
            .or_default() += 1;
        for finding in result["findings"].as_array().expect("findings") {
            let check = finding["check"].as_str().expect("a check");
            let severity = finding["severity"].as_str().expect("a severity");
            *findings.entry((check, severity)).or_default() += 1;
        }
    }
    let mut fingerprint = format!("documents: {DOCUMENTS}\nverdicts:\n");
    for (verdict, count) in &verdicts {
        writeln!(fingerprint, "  {verdict}: {count}").unwrap();
    }
    fingerprint.push_str("findings by check and severity:\n");
    for ((check, severity), count) in &findings {
        writeln!(fingerprint, "  {check} {severity}: {count}").unwrap();
    }
    writeln!(
        fingerprint,
        "sha256 of the JSON output: {:x}",
        Sha256::digest(stdout.as_bytes())
    )
    .unwrap();
    insta::assert_snapshot!(fingerprint);
}
