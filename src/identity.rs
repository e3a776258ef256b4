//! Who is acting, for the history: the name given (`--by`), else the
//! identity git records in commits (`user.name` and `user.email`, as the
//! repository's configuration resolves them), else the login name. Every
//! command that records an actor asks here, so that all of them agree.

use std::path::Path;
use std::process::Command;

/// The actor to record: `given` when there is one, else git's identity in
/// `root` ("Kim Lee <kim@example.com>"), else `$USER`, else "unknown".
pub fn actor(given: Option<&str>, root: &Path) -> String {
    given
        .map(str::to_string)
        .or_else(|| git_identity(root))
        .or_else(|| std::env::var("USER").ok().filter(|user| !user.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// `user.name <user.email>` as git resolves them for `root`, or whichever
/// of the two is set; `None` when git is not installed or knows neither.
pub fn git_identity(root: &Path) -> Option<String> {
    let name = git_config(root, "user.name");
    let email = git_config(root, "user.email");
    match (name, email) {
        (Some(name), Some(email)) => Some(format!("{name} <{email}>")),
        (name, email) => name.or(email),
    }
}

/// `user.email` as git resolves it for `root`.
pub fn git_email(root: &Path) -> Option<String> {
    git_config(root, "user.email")
}

/// One value of git's configuration; reading it runs no hook.
fn git_config(root: &Path, key: &str) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["config", "--get", key])
        .output()
        .ok()?;
    let value = String::from_utf8(output.stdout).ok()?;
    let value = value.trim();
    (output.status.success() && !value.is_empty()).then(|| value.to_string())
}
