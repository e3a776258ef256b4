//! The Lua plugin host: the API on real-looking documents, the sandbox
//! against hostile plugins, lint support, the test harness and the type
//! stubs. Budgets are small (200 ms, 16 MiB) so the hostile suite runs in
//! seconds; memory bombs get a long time budget, so that on a loaded
//! machine the memory limit, not the clock, is still what ends them.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::{Value as Json, json};
use tollgate::checks::Findings;
use tollgate::diagnostic::{Diagnostic, Severity};
use tollgate::lua::{
    CTX_MEMBERS, DOCUMENT_MEMBERS, LimitOverrides, PluginCall, PluginSet, StepInfo, SubjectInfo,
    inspect_plugin, test_plugin,
};
use tollgate::markdown::Document;
use tollgate::playbook::{Check, Gate, Limits, SectionAliases};

const TIMEOUT_MS: u64 = 200;
const MEMORY_MIB: u64 = 16;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/plugins").join(name)
}

fn limits() -> Limits {
    Limits {
        plugin_timeout_ms: Some(TIMEOUT_MS),
        plugin_memory_mib: Some(MEMORY_MIB),
    }
}

/// A project in a temporary folder with plugins written into `plugins/`.
struct Project {
    dir: tempfile::TempDir,
    set: PluginSet,
}

impl Project {
    fn new(plugins: &[(&str, &str)]) -> Self {
        Self::with_limits(plugins, &limits())
    }

    fn with_limits(plugins: &[(&str, &str)], limits: &Limits) -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("plugins")).unwrap();
        let mut map = IndexMap::new();
        for (name, source) in plugins {
            fs::write(dir.path().join(format!("plugins/{name}.lua")), source).unwrap();
            map.insert(name.to_string(), format!("plugins/{name}.lua"));
        }
        let set = PluginSet::load(
            dir.path(),
            &map,
            dir.path(),
            limits,
            LimitOverrides::default(),
        );
        Self { dir, set }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, function: &str, with: Json, doc: Option<&Document>) -> Vec<Diagnostic> {
        run(&self.set, function, with, doc, Severity::Error)
    }
}

fn run(
    set: &PluginSet,
    function: &str,
    with: Json,
    doc: Option<&Document>,
    severity: Severity,
) -> Vec<Diagnostic> {
    let vars = IndexMap::new();
    let call = PluginCall {
        doc,
        subject: None,
        vars: &vars,
        step: StepInfo {
            id: "plan",
            title: Some("Plan"),
            gate: Gate::Automated,
        },
        artifacts: &|_| None,
        artifact: None,
        aliases: &SectionAliases::default(),
    };
    let check = check(function, severity);
    let path = doc.map_or("-", |doc| doc.path.as_str());
    let mut findings = Findings::new(&check, path);
    set.run(function, &with, &call, &mut findings);
    findings.finish().findings
}

fn check(function: &str, severity: Severity) -> Check {
    Check {
        artifact: Some("plan".into()),
        severity,
        ..Check::plugin("custom", function, json!({}))
    }
}

fn plan() -> Document {
    let text = fs::read_to_string(fixture("plan.md")).unwrap();
    Document::parse_str("specs/f-12/plan.md", &text)
}

/// One line per finding: `error 3:1-4:5 message` or `error - message`.
fn render(findings: &[Diagnostic]) -> String {
    findings
        .iter()
        .map(|finding| {
            let place = match (finding.start, finding.end) {
                (Some(start), Some(end)) => format!("{start}-{end}"),
                (Some(start), None) => start.to_string(),
                (None, _) => "-".into(),
            };
            format!("{} {place} {}\n", finding.severity, finding.message)
        })
        .collect()
}

// ---------------------------------------------------------------- the API

/// The plugin that exercises the API, under the name `probe`.
fn probe_set() -> PluginSet {
    PluginSet::load(
        &fixture(""),
        &IndexMap::from([("probe".to_string(), "api_probe.lua".to_string())]),
        &fixture(""),
        &limits(),
        LimitOverrides::default(),
    )
}

#[test]
fn the_document_api_on_a_plan() {
    let set = probe_set();
    let findings = run(
        &set,
        "probe.document",
        json!({}),
        Some(&plan()),
        Severity::Error,
    );
    insta::assert_snapshot!(render(&findings));
}

#[test]
fn the_context_api() {
    let set = probe_set();
    let vars = IndexMap::from([
        ("spec_root".to_string(), json!("specs")),
        ("reviewers".to_string(), json!(["ali", "kim"])),
        ("strict".to_string(), json!(true)),
    ]);
    let spec_text = fs::read_to_string(fixture("spec.md")).unwrap();
    let loads = std::cell::Cell::new(0);
    let artifacts = |name: &str| {
        loads.set(loads.get() + 1);
        (name == "spec").then(|| Document::parse_str("specs/f-12/spec.md", &spec_text))
    };
    let doc = plan();
    let call = PluginCall {
        doc: Some(&doc),
        subject: Some(SubjectInfo {
            id: "F-12",
            title: "Billing export",
            slug: "f-12-billing-export",
            phase: "plan",
        }),
        vars: &vars,
        step: StepInfo {
            id: "plan",
            title: Some("Plan the feature"),
            gate: Gate::Human,
        },
        artifacts: &artifacts,
        artifact: None,
        aliases: &SectionAliases::default(),
    };
    let with = json!({"areas": ["security", "data"], "max": 3, "ratio": 0.5, "nested": {"on": false, "none": null}});
    let check = check("probe.context", Severity::Error);
    let mut findings = Findings::new(&check, "specs/f-12/plan.md");
    set.run("probe.context", &with, &call, &mut findings);
    insta::assert_snapshot!(render(&findings.finish().findings));
    assert_eq!(loads.get(), 2, "each artifact is loaded once per call");
}

#[test]
fn findings_reported_returned_and_printed() {
    let set = probe_set();
    let findings = run(
        &set,
        "probe.findings",
        json!({}),
        Some(&plan()),
        Severity::Error,
    );
    insta::assert_snapshot!(render(&findings));
    // A check of severity warning makes no finding graver than a warning.
    let findings = run(
        &set,
        "probe.findings",
        json!({}),
        Some(&plan()),
        Severity::Warning,
    );
    let severities: Vec<Severity> = findings.iter().map(|finding| finding.severity).collect();
    assert_eq!(
        severities,
        [
            Severity::Warning,
            Severity::Warning,
            Severity::Info,
            Severity::Warning,
            Severity::Warning,
            Severity::Info,
            Severity::Info
        ]
    );
}

#[test]
fn a_check_without_an_artifact_sees_no_document() {
    let project = Project::new(&[(
        "p",
        "return { check = function(ctx) ctx:info(tostring(ctx.doc) .. ' ' .. tostring(ctx.subject)) end }",
    )]);
    assert_eq!(
        render(&project.run("p.check", json!({}), None)),
        "info 1:1 nil nil\n"
    );
}

#[test]
fn mistakes_in_using_the_api_name_the_line() {
    let project = Project::new(&[(
        "p",
        "local M = {}\n\
         function M.dot(ctx) ctx.error('x') end\n\
         function M.option(ctx) ctx:error('x', { lien = 3 }) end\n\
         function M.zero(ctx) ctx:warn('x', { line = 0 }) end\n\
         function M.message(ctx) ctx:info({}) end\n\
         function M.under(ctx) ctx.doc:tables({ under = 3 }) end\n\
         function M.title(ctx) ctx.doc:section() end\n\
         function M.method(ctx) ctx.doc.lines() end\n\
         function M.severity() return { { severity = 'fatal', message = 'x' } } end\n\
         function M.single() return { message = 'x' } end\n\
         function M.nomessage() return { { line = 2 } } end\n\
         return M",
    )]);
    let doc = plan();
    let mut all = String::new();
    for function in [
        "dot",
        "option",
        "zero",
        "message",
        "under",
        "title",
        "method",
        "severity",
        "single",
        "nomessage",
    ] {
        all += &render(&project.run(&format!("p.{function}"), json!({}), Some(&doc)));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn read_gives_files_inside_the_root_and_refuses_the_rest() {
    let project = Project::new(&[(
        "p",
        "local M = {}\n\
         function M.inside(ctx) local text = ctx:read('docs/../notes/a.txt') ctx:info(text) end\n\
         function M.missing(ctx) local text, why = ctx:read('notes/none.txt') ctx:info(tostring(text) .. ' / ' .. why) end\n\
         function M.climb(ctx) ctx:read('notes/../../secret.txt') end\n\
         function M.absolute(ctx) ctx:read('/etc/passwd') end\n\
         function M.link(ctx) ctx:read('notes/out.txt') end\n\
         return M",
    )]);
    fs::create_dir_all(project.root().join("notes")).unwrap();
    fs::create_dir_all(project.root().join("docs")).unwrap();
    fs::write(project.root().join("notes/a.txt"), "inside").unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        project.root().join("notes/out.txt"),
    )
    .unwrap();

    assert_eq!(
        render(&project.run("p.inside", json!({}), None)),
        "info 1:1 inside\n"
    );
    let missing = render(&project.run("p.missing", json!({}), None));
    assert!(
        missing.starts_with("info 1:1 nil / cannot read `notes/none.txt`"),
        "{missing}"
    );
    for (function, why) in [
        (
            "climb",
            "plugins/p.lua:4: ctx:read: `notes/../../secret.txt` leads outside the project root",
        ),
        (
            "absolute",
            "plugins/p.lua:5: ctx:read: `/etc/passwd` is absolute",
        ),
        #[cfg(unix)]
        (
            "link",
            "plugins/p.lua:6: ctx:read: `notes/out.txt` leads outside the project root through a symbolic link",
        ),
    ] {
        let findings = project.run(&format!("p.{function}"), json!({}), None);
        assert_one_failure(&findings, why);
        assert!(!findings[0].message.contains("secret\""));
    }
}

// ---------------------------------------------------------------- hostile plugins

/// The only finding is an error about the plugin that contains `why`.
fn assert_one_failure(findings: &[Diagnostic], why: &str) {
    assert_eq!(findings.len(), 1, "{}", render(findings));
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.start, None);
    assert!(
        finding.message.contains(why),
        "`{}` does not contain `{why}`",
        finding.message
    );
}

/// Runs a hostile plugin body (`function M.check(ctx) BODY end`) and
/// returns its findings, checking that it ended soon after its budget (the
/// margin is for a loaded CI machine; a runaway plugin would take forever).
fn hostile(body: &str) -> Vec<Diagnostic> {
    hostile_within(body, &limits())
}

/// A memory bomb gets a time budget long enough that the memory limit, not
/// the clock of a loaded machine, is what ends it.
fn memory_bomb(body: &str) -> Vec<Diagnostic> {
    hostile_within(
        body,
        &Limits {
            plugin_timeout_ms: Some(60_000),
            plugin_memory_mib: Some(MEMORY_MIB),
        },
    )
}

fn hostile_within(body: &str, limits: &Limits) -> Vec<Diagnostic> {
    let source = format!("local M = {{}}\nfunction M.check(ctx)\n{body}\nend\nreturn M\n");
    let project = Project::with_limits(&[("h", &source)], limits);
    let started = Instant::now();
    let findings = project.run("h.check", json!({}), Some(&plan()));
    let elapsed = started.elapsed();
    let timeout = limits.plugin_timeout_ms.unwrap_or(TIMEOUT_MS);
    assert!(
        elapsed < Duration::from_millis(timeout * 10),
        "took {elapsed:?}: {}",
        render(&findings)
    );
    findings
}

#[test]
fn an_infinite_loop_ends_at_the_budget() {
    let findings = hostile("while true do end");
    assert_one_failure(
        &findings,
        "plugin `h.check` failed: plugins/h.lua:3: time budget of 200 ms exhausted",
    );
}

#[test]
fn pcall_cannot_swallow_the_budget() {
    let findings = hostile("while true do pcall(function() while true do end end) end");
    assert_one_failure(&findings, "time budget of 200 ms exhausted");
    let findings = hostile("local function f() pcall(f) pcall(f) end f()");
    assert_one_failure(&findings, "time budget of 200 ms exhausted");
    let findings = hostile("while true do local ok = pcall(error, 'x') end");
    assert_one_failure(&findings, "time budget of 200 ms exhausted");
}

#[test]
fn coroutines_are_not_available() {
    let findings = hostile("coroutine.wrap(function() while true do end end)()");
    assert_one_failure(
        &findings,
        "plugins/h.lua:3: attempt to index nil with 'wrap'",
    );
}

#[test]
fn a_pattern_bomb_ends_at_the_budget() {
    let findings = hostile("string.find(string.rep('a', 100000), '.-.-.-.-.-.-.-.-b')");
    assert_one_failure(
        &findings,
        "plugins/h.lua:3: time budget of 200 ms exhausted",
    );
    let findings = hostile("local s = string.rep('a', 50000) s:gsub('(a*)*b', 'x')");
    assert_one_failure(&findings, "time budget of 200 ms exhausted");
    let findings = hostile("for _ in string.rep('a', 100000):gmatch('.-.-.-.-.-b') do end");
    assert_one_failure(&findings, "time budget of 200 ms exhausted");
}

#[test]
fn a_memory_bomb_ends_at_the_limit() {
    let findings = memory_bomb("local t = {} for i = 1, 1e9 do t[i] = i end");
    assert_one_failure(&findings, "plugins/h.lua: memory limit of 16 MiB reached");
    let findings = memory_bomb("local s = string.rep('x', 2^30)");
    assert_one_failure(&findings, "memory limit of 16 MiB reached");
    let findings =
        memory_bomb("local t = {} for i = 1, 1e9 do t[i] = string.rep('y', 1000) .. i end");
    assert_one_failure(&findings, "memory limit of 16 MiB reached");
    // Catching the memory error does not help: the time budget ends the loop.
    let findings = hostile(
        "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) end",
    );
    assert_one_failure(&findings, "time budget of 200 ms exhausted");
}

/// Tables the host builds count against the plugin's limit: kept in a
/// table made at its full size up front, so that the plugin itself
/// allocates nothing while they pile up.
#[test]
fn tables_the_host_builds_count_against_the_limit() {
    for method in [
        "lines()",
        "sections()",
        "tables()",
        "tasks()",
        "code_blocks()",
    ] {
        let findings = memory_bomb(&format!(
            "local keep = table.create(400000)\n\
             for i = 1, 400000 do keep[i] = ctx.doc:{method} end"
        ));
        assert_one_failure(&findings, "plugins/h.lua: memory limit of 16 MiB reached");
    }
}

#[test]
fn unbounded_recursion_is_a_finding() {
    let findings = hostile("local function f(n) return 1 + f(n + 1) end f(1)");
    assert_one_failure(&findings, "plugins/h.lua:3: stack overflow");
}

#[test]
fn the_system_is_out_of_reach() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("X");
    let cases = [
        (
            format!("os.execute('touch {}')", marker.display()),
            "attempt to index nil with 'execute'",
        ),
        (
            format!("io.open('{}', 'w')", marker.display()),
            "attempt to index nil with 'open'",
        ),
        ("require('os')".to_string(), "attempt to call a nil value"),
        (
            "dofile('/etc/passwd')".to_string(),
            "attempt to call a nil value",
        ),
        (
            "loadfile('/etc/passwd')".to_string(),
            "attempt to call a nil value",
        ),
        (
            "load(string.dump(function() end))".to_string(),
            "attempt to call a nil value",
        ),
        ("load('\\27Lua')".to_string(), "attempt to call a nil value"),
        (
            "loadstring('return 1')".to_string(),
            "attempt to call a nil value",
        ),
        (
            "debug.getinfo(1)".to_string(),
            "attempt to index nil with 'getinfo'",
        ),
        (
            "package.loaded.x = 1".to_string(),
            "attempt to index nil with 'loaded'",
        ),
        (
            "collectgarbage()".to_string(),
            "attempt to call a nil value",
        ),
        (
            "getfenv(0).x = 1".to_string(),
            "attempt to call a nil value",
        ),
        ("setfenv(1, {})".to_string(), "attempt to call a nil value"),
        ("newproxy(true)".to_string(), "attempt to call a nil value"),
    ];
    for (body, why) in cases {
        let findings = hostile(&body);
        assert_one_failure(&findings, &format!("plugins/h.lua:3: {why}"));
    }
    assert!(!marker.exists());
}

#[test]
fn errors_and_wrong_returns_name_the_line() {
    assert_one_failure(
        &hostile("error('boom')"),
        "plugin `h.check` failed: plugins/h.lua:3: boom",
    );
    assert_one_failure(&hostile("error('boom', 0)"), "plugins/h.lua:3: boom");
    assert_one_failure(
        &hostile("error({ code = 1 })"),
        "plugins/h.lua:3: table: 0x",
    );
    assert_one_failure(
        &hostile("error(setmetatable({}, { __tostring = function() while true do end end }))"),
        "time budget of 200 ms exhausted",
    );
    assert_one_failure(
        &hostile("local t = nil\nreturn t.x"),
        "plugins/h.lua:4: attempt to index nil with 'x'",
    );
    assert_one_failure(
        &hostile("return 'fine'"),
        "plugins/h.lua:2: `check` returned a string; return nothing or a list of findings",
    );
    assert_one_failure(
        &hostile("return { 1, 2 }"),
        "returned finding 1 as a number, not a table",
    );
}

/// A number a plugin gives reads in the output as Luau's `tostring` writes
/// it, the same on every platform, never as hundreds of digits.
#[test]
fn numbers_read_as_the_plugin_writes_them() {
    let findings = hostile(
        "for _, n in ipairs({ 1e300, -1e21, 1e21 - 1e6, 0.1, 1e-7, 0.00001, 2^53, 1/0, -1/0, 0/0, -0.0, 12.5 }) do \
         ctx:error(n) end",
    );
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "1e+300",
            "-1e+21",
            "999999999999999000000",
            "0.1",
            "1e-07",
            "0.00001",
            "9007199254740992",
            "inf",
            "-inf",
            "nan",
            "-0",
            "12.5"
        ]
    );
    assert_one_failure(
        &hostile("return { { message = 'm', line = 1e300 } }"),
        "`line` must be a whole number of at least 1, not 1e+300",
    );
    // What Luau itself prints for the same numbers.
    let findings = hostile(
        "for _, n in ipairs({ 1e300, -1e21, 1e21 - 1e6, 0.1, 1e-7, 0.00001, 0/0, -0.0 }) do \
         ctx:error(tostring(n)) end",
    );
    let luau: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        luau,
        [
            "1e+300",
            "-1e+21",
            "999999999999999000000",
            "0.1",
            "1e-07",
            "0.00001",
            "nan",
            "-0"
        ]
    );
}

#[test]
fn libraries_are_read_only() {
    for body in [
        "string.len = nil",
        "string.foo = 1",
        "rawset(string, 'len', nil)",
        "table.insert = print",
        "math.pi = 3",
        "setmetatable(string, {})",
    ] {
        assert_one_failure(&hostile(body), "attempt to modify a readonly table");
    }
    // The string metatable and the host's metatables are out of reach.
    assert_one_failure(
        &hostile("getmetatable('').__index = {}"),
        "attempt to index nil with '__index'",
    );
    assert_one_failure(
        &hostile("getmetatable(ctx.doc).__index = {}"),
        "attempt to index nil with '__index'",
    );
    assert_one_failure(
        &hostile("setmetatable(_G, {})"),
        "cannot change a protected metatable",
    );
}

#[test]
fn plugins_do_not_share_globals_or_state() {
    let project = Project::new(&[
        (
            "a",
            "local M = {}\n\
             local calls = 0\n\
             function M.check(ctx)\n\
               calls = calls + 1\n\
               shared = (shared or 0) + 1\n\
               _G.via_g = true\n\
               pcall(function() string.upper = nil end)\n\
               ctx:info('calls ' .. calls .. ', shared ' .. shared)\n\
             end\n\
             return M",
        ),
        (
            "b",
            "return { check = function(ctx)\n\
               ctx:info(string.upper('ok') .. ' ' .. tostring(shared) .. ' ' .. tostring(via_g))\n\
             end }",
        ),
    ]);
    let doc = plan();
    for _ in 0..3 {
        assert_eq!(
            render(&project.run("a.check", json!({}), Some(&doc))),
            "info 1:1 calls 1, shared 1\n"
        );
        assert_eq!(
            render(&project.run("b.check", json!({}), Some(&doc))),
            "info 1:1 OK nil nil\n"
        );
    }
}

#[test]
fn a_state_is_usable_after_a_limit() {
    let project = Project::new(&[(
        "p",
        "local M = {}\n\
         function M.spin() while true do end end\n\
         function M.bloat() local t = {} for i = 1, 1e9 do t[i] = i end end\n\
         function M.fine(ctx) ctx:info('fine') end\n\
         return M",
    )]);
    for function in ["spin", "fine", "bloat", "fine"] {
        let findings = project.run(&format!("p.{function}"), json!({}), None);
        assert_eq!(findings.len(), 1);
        if function == "fine" {
            assert_eq!(render(&findings), "info 1:1 fine\n");
        }
    }
}

#[test]
fn floods_are_capped() {
    let findings =
        hostile("for i = 1, 5000 do ctx:error('e' .. i) end for i = 1, 500 do print(i) end");
    assert_eq!(findings.len(), 1000 + 100 + 1);
    assert_eq!(
        findings.last().unwrap().message,
        "plugin `h.check`: 4400 more findings or printed lines were dropped"
    );
    let long = hostile("ctx:error(string.rep('x', 100000))");
    assert_eq!(long[0].message.chars().count(), 4001);
}

#[test]
fn broken_plugins_are_findings_and_the_rest_goes_on() {
    let project = Project::new(&[
        (
            "syntax",
            "local M = {}\nfunction M.check(ctx)\n  if then\nend\nreturn M\n",
        ),
        ("toplevel", "local M = {}\nerror('not today')\nreturn M\n"),
        ("number", "return 42\n"),
        (
            "good",
            "return { check = function(ctx) ctx:info('ran') end, other = function() end }\n",
        ),
    ]);
    let mut map = IndexMap::new();
    map.insert("missing".to_string(), "plugins/missing.lua".to_string());
    let missing = PluginSet::load(
        project.root(),
        &map,
        project.root(),
        &limits(),
        LimitOverrides::default(),
    );
    let mut all = String::new();
    for function in [
        "syntax.check",
        "toplevel.check",
        "number.check",
        "good.nope",
        "nope.check",
        "good",
        "good.check",
    ] {
        all += &render(&project.run(function, json!({}), None));
    }
    all += &render(&run(
        &missing,
        "missing.check",
        json!({}),
        None,
        Severity::Error,
    ));
    insta::assert_snapshot!(all);
}

#[test]
fn plugins_run_in_parallel_threads() {
    use rayon::prelude::*;
    let project = Project::new(&[(
        "count",
        "return { check = function(ctx) counted = (counted or 0) + #ctx.doc:sections() ctx:info(tostring(counted)) end }",
    )]);
    let doc = plan();
    let results: Vec<String> = (0..200)
        .into_par_iter()
        .map(|_| render(&project.run("count.check", json!({}), Some(&doc))))
        .collect();
    assert!(
        results.iter().all(|result| result == "info 1:1 6\n"),
        "{results:?}"
    );
}

// ---------------------------------------------------------------- lint support

#[test]
fn inspect_reports_functions_and_syntax_errors() {
    let info = inspect_plugin(
        Path::new("plugins/risk_coverage.lua"),
        &fs::read_to_string(repo().join("plugins/risk_coverage.lua")).unwrap(),
    )
    .unwrap();
    assert_eq!(info.functions, ["check"]);

    let error = inspect_plugin(
        Path::new("plugins/x.lua"),
        "local M = {}\nfunction M.a(\nreturn M",
    )
    .unwrap_err();
    assert_eq!(error.file, "plugins/x.lua");
    assert_eq!(error.line, Some(3));
    assert!(
        error.message.starts_with("syntax error: "),
        "{}",
        error.message
    );
    assert!(
        error
            .located()
            .starts_with("plugins/x.lua:3: syntax error: ")
    );

    let error = inspect_plugin(
        Path::new("plugins/x.lua"),
        "local M = {}\n\nerror('no')\nreturn M",
    )
    .unwrap_err();
    assert_eq!((error.line, error.message.as_str()), (Some(3), "no"));

    let error = inspect_plugin(Path::new("plugins/x.lua"), "return 'M'").unwrap_err();
    assert_eq!(error.line, None);
    assert!(
        error
            .message
            .contains("returns a string, not a table of functions")
    );

    let error = inspect_plugin(Path::new("plugins/x.lua"), "\nwhile true do end").unwrap_err();
    assert_eq!(
        (error.line, error.message.as_str()),
        (Some(2), "time budget of 1000 ms exhausted")
    );
}

// ---------------------------------------------------------------- the harness

#[test]
fn the_example_plugin_passes_its_tests() {
    let report = test_plugin(
        &repo().join("plugins/risk_coverage.lua"),
        LimitOverrides::default(),
    );
    assert!(report.passed(), "{report}");
    assert_eq!(report.cases.len(), 9);
}

#[test]
fn the_harness_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("p.lua"),
        "return { check = function(ctx)\n  print('debug', #ctx.doc:lines())\n  ctx:warn('late', { line = 2 })\nend }\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("p.test.yaml"),
        "cases:\n\
         \x20 - name: passes\n\
         \x20   function: check\n\
         \x20   document: \"a\\nb\\n\"\n\
         \x20   expect: [{ severity: warning, line: 2, message: lat }]\n\
         \x20 - name: fails\n\
         \x20   function: check\n\
         \x20   document: \"a\\n\"\n\
         \x20   expect: [{ severity: error, line: 1, message: early }, { message: more }]\n\
         \x20 - name: no function\n\
         \x20   function: nope\n\
         \x20   expect: []\n",
    )
    .unwrap();
    let report = test_plugin(&dir.path().join("p.lua"), LimitOverrides::default());
    assert!(!report.passed());
    let text = report
        .to_string()
        .replace(&dir.path().display().to_string(), "DIR");
    insta::assert_snapshot!(text);

    fs::write(
        dir.path().join("p.test.yaml"),
        "cases:\n  - name: x\n    funtion: check\n",
    )
    .unwrap();
    let report = test_plugin(&dir.path().join("p.test.yaml"), LimitOverrides::default());
    let why = report.error.unwrap();
    assert!(why.starts_with("3:5: unknown field `funtion`"), "{why}");
}

// ---------------------------------------------------------------- type stubs

/// The names `---@field` and `function Class:name(` declare for a class.
fn declared(stub: &str, class: &str, local: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut inside = false;
    for line in stub.lines() {
        if let Some(rest) = line.strip_prefix("---@class ") {
            inside = rest.split_whitespace().next() == Some(class);
        } else if inside && let Some(rest) = line.strip_prefix("---@field ") {
            names.insert(
                rest.split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('?')
                    .to_string(),
            );
        } else if !line.starts_with("---") {
            inside = inside && (line.is_empty() || line.starts_with("local "));
        }
        if let Some(rest) = line.strip_prefix(&format!("function {local}:")) {
            names.insert(rest.split('(').next().unwrap().to_string());
        }
    }
    names
}

#[test]
fn the_type_stubs_match_the_host() {
    let stub = fs::read_to_string(repo().join("plugins/tollgate.d.lua")).unwrap();
    assert!(stub.starts_with("---@meta"));
    let set = |names: &[&str]| {
        names
            .iter()
            .map(|name| name.to_string())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(declared(&stub, "tollgate.Ctx", "Ctx"), set(CTX_MEMBERS));
    assert_eq!(
        declared(&stub, "tollgate.Document", "Document"),
        set(DOCUMENT_MEMBERS)
    );

    // And the host really has each of them, with the kind the stub says.
    let methods = |local: &str| {
        stub.lines()
            .filter_map(|line| line.strip_prefix(&format!("function {local}:")))
            .map(|rest| rest.split('(').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let probe = format!(
        "local M = {{}}\n\
         function M.check(ctx)\n\
           for _, name in ipairs({{ {ctx_methods} }}) do ctx:info('ctx.' .. name .. ' ' .. type(ctx[name])) end\n\
           for _, name in ipairs({{ {doc_methods} }}) do ctx:info('doc.' .. name .. ' ' .. type(ctx.doc[name])) end\n\
           for _, name in ipairs({{ 'path', 'text' }}) do ctx:info('doc.' .. name .. ' ' .. type(ctx.doc[name])) end\n\
           local members = {{}}\n\
           for name in pairs(ctx) do table.insert(members, name) end\n\
           table.sort(members)\n\
           ctx:info('members ' .. table.concat(members, ' '))\n\
         end\n\
         return M",
        ctx_methods = methods("Ctx")
            .iter()
            .map(|m| format!("'{m}'"))
            .collect::<Vec<_>>()
            .join(", "),
        doc_methods = methods("Document")
            .iter()
            .map(|m| format!("'{m}'"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let project = Project::new(&[("probe", &probe)]);
    let findings = project.run("probe.check", json!({}), Some(&plan()));
    let lines: Vec<&str> = findings
        .iter()
        .map(|finding| finding.message.as_str())
        .collect();
    let (kinds, members) = lines.split_at(lines.len() - 1);
    for kind in kinds {
        let (name, kind) = kind.split_once(' ').unwrap();
        let expected = if ["doc.path", "doc.text"].contains(&name) {
            "string"
        } else {
            "function"
        };
        assert_eq!(kind, expected, "{name}");
    }
    // Every member but `subject` (nil without a subject) is in `ctx`.
    let mut expected: Vec<&str> = CTX_MEMBERS
        .iter()
        .copied()
        .filter(|name| *name != "subject")
        .collect();
    expected.sort();
    assert_eq!(members[0], format!("members {}", expected.join(" ")));
}

// ---------------------------------------------------------------- real documents

/// Runs a plugin over the real planning documents of the shared corpus,
/// when it is there: every call succeeds and agrees with the Rust model.
#[test]
fn real_documents() {
    let corpus = repo().join("../shared/corpus/real");
    if !corpus.is_dir() {
        // Straight to stderr: the test harness captures `eprintln!` of a
        // passing test, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: no corpus at {}",
            corpus.display()
        );
        return;
    }
    let project = Project::new(&[(
        "census",
        "return { check = function(ctx)\n\
           local doc = ctx.doc\n\
           local rows = 0\n\
           for _, t in ipairs(doc:tables()) do rows = rows + #t.rows end\n\
           ctx:info(#doc:lines() .. ' ' .. #doc:sections() .. ' ' .. rows .. ' ' .. #doc:tasks())\n\
         end }",
    )]);
    let mut files = Vec::new();
    let mut folders = vec![corpus];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty());
    for file in files {
        let doc = Document::parse(file.display().to_string(), &fs::read(&file).unwrap()).unwrap();
        let findings = project.run("census.check", json!({}), Some(&doc));
        let rows: usize = doc.tables.iter().map(|table| table.rows.len()).sum();
        let expected = format!(
            "{} {} {rows} {}",
            doc.line_count(),
            doc.sections.len(),
            doc.tasks.len()
        );
        assert_eq!(
            render(&findings),
            format!("info 1:1 {expected}\n"),
            "{}",
            file.display()
        );
    }
}

#[test]
fn code_blocks_are_listed_with_language_text_and_lines() {
    let project = Project::new(&[(
        "p",
        r#"return { check = function(ctx)
  for _, block in ipairs(ctx.doc:code_blocks()) do
    ctx:info(string.format("%s %d-%d %s %q", tostring(block.lang), block.line, block.end_line, tostring(block.fenced), block.text))
  end
end }"#,
    )]);
    let doc = Document::parse_str(
        "plan.md",
        "# Plan\n\n```sql title=\"up\"\nALTER TABLE t;\n```\n\n    indented\n\n~~~\nplain\n~~~\n\nNot `code`.\n",
    );
    assert_eq!(
        render(&project.run("p.check", json!({}), Some(&doc))),
        "info 1:1 sql 3-5 true \"ALTER TABLE t;\\\n\"\n\
         info 1:1 nil 7-7 false \"indented\\\n\"\n\
         info 1:1 nil 9-11 true \"plain\\\n\"\n"
    );
}

#[test]
fn a_finding_carries_the_plugin_s_hint() {
    let project = Project::new(&[(
        "p",
        r#"return {
  reported = function(ctx) ctx:error("no owner", { line = 2, hint = "name an owner as @handle" }) end,
  returned = function(ctx) return { { message = "no owner", hint = "name an owner" } } end,
}"#,
    )]);
    let doc = plan();
    let reported = project.run("p.reported", json!({}), Some(&doc));
    assert_eq!(
        reported[0].help.as_deref(),
        Some("name an owner as @handle")
    );
    let returned = project.run("p.returned", json!({}), Some(&doc));
    assert_eq!(returned[0].help.as_deref(), Some("name an owner"));
}
