//! The pre-commit hooks and the example GitHub Actions workflow parse and
//! say what the README promises.

use serde_json::Value;

fn yaml(path: &str) -> Value {
    let file = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).expect("the file exists");
    serde_saphyr::from_str(&text).expect("the file is YAML")
}

#[test]
fn pre_commit_hooks_check_markdown_and_lint_playbooks() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().expect("a list of hooks");
    let hook = |id: &str| {
        hooks
            .iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("no hook {id}"))
    };
    let check = hook("tollgate-check");
    assert_eq!(check["entry"], "tollgate check --all");
    assert_eq!(check["types"], serde_json::json!(["markdown"]));
    assert_eq!(check["pass_filenames"], false);
    let files = hook("tollgate-check-files");
    assert_eq!(files["entry"], "tollgate check");
    assert_eq!(files["types"], serde_json::json!(["markdown"]));
    let lint = hook("tollgate-lint");
    assert_eq!(lint["entry"], "tollgate lint");
    assert!(lint["files"].as_str().unwrap().contains("tollgate"));
    for hook in hooks {
        assert_eq!(hook["language"], "rust", "{hook}");
        assert!(hook["name"].is_string() && hook["description"].is_string());
    }
}

#[test]
fn the_workflow_checks_everything_and_uploads_sarif_keeping_the_exit_code() {
    let workflow = yaml("docs/github-actions.yml");
    assert_eq!(workflow["permissions"]["security-events"], "write");
    let jobs = workflow["jobs"].as_object().expect("jobs");
    let steps = jobs.values().next().unwrap()["steps"]
        .as_array()
        .expect("steps");
    let run = |needle: &str| {
        steps
            .iter()
            .find(|s| s["run"].as_str().is_some_and(|r| r.contains(needle)))
            .unwrap_or_else(|| panic!("no step runs {needle}"))
    };
    assert!(run("cargo install --locked")["run"].as_str().is_some());
    let check = run("tollgate check --all --format sarif > tollgate.sarif");
    let id = check["id"].as_str().expect("the check step has an id");
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("an upload step");
    assert_eq!(upload["with"]["sarif_file"], "tollgate.sarif");
    assert!(upload["if"].as_str().unwrap().contains("always()"));
    // verify proves the approvals from the whole history.
    let verify = run("tollgate verify");
    let verify_id = verify["id"].as_str().expect("the verify step has an id");
    let checkout = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .expect("a checkout step");
    assert_eq!(checkout["with"]["fetch-depth"], 0);
    // The last step fails the job when the check or verify failed.
    let last = steps.last().unwrap()["run"].as_str().unwrap();
    assert!(last.contains(&format!("steps.{id}.outputs.code")), "{last}");
    assert!(
        last.contains(&format!("steps.{verify_id}.outputs.code")),
        "{last}"
    );
}
