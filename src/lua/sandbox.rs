//! A Lua state that holds only what plugins may use, and the fresh
//! environment each call runs in.
//!
//! The state opens `string`, `table`, `math` and `utf8`, keeps the base
//! functions on [`ALLOWED_GLOBALS`] (an allow-list, so a function a future
//! Luau or mlua adds is not exposed by surprise) and replaces two:
//!
//! - `print` writes into the call's diagnostics instead of the terminal;
//! - `getmetatable` answers only for tables, so no plugin can reach the
//!   shared metatables of strings or of the host's userdata.
//!
//! Then Luau's `sandbox(true)` makes the globals, every library table and
//! the string metatable read-only: `string.len = nil`, `string.foo = 1` or
//! `rawset(string, ...)` is an error ("attempt to modify a readonly table"),
//! so no plugin can change what another relies on. Gone are `require`,
//! `loadstring`, `getfenv`/`setfenv` (which reach environments other than
//! the plugin's own), `collectgarbage`, `gcinfo` and `newproxy`; Luau has no
//! `io`, `os`, `debug`, `package`, `dofile`, `loadfile`, `load` or
//! `string.dump` unless asked, and they are not asked for.
//!
//! Each call gets a new, empty environment table whose `__index` is the
//! read-only globals and whose metatable is locked: a plugin's globals live
//! and die with its call.

use std::path::Path;
use std::sync::Arc;

use mlua::{Lua, LuaOptions, StdLib, Table, Value};

use super::api::{self, Methods};
use super::budget;

/// The globals a plugin may use. `_G` is not among them: each call's
/// environment is its own `_G` (a `_G` here would be resolved when the
/// chunk loads, and be these read-only globals).
const ALLOWED_GLOBALS: &[&str] = &[
    "_VERSION",
    "assert",
    "error",
    "getmetatable",
    "ipairs",
    "math",
    "next",
    "pairs",
    "pcall",
    "print",
    "rawequal",
    "rawget",
    "rawlen",
    "rawset",
    "select",
    "setmetatable",
    "string",
    "table",
    "tonumber",
    "tostring",
    "type",
    "typeof",
    "unpack",
    "utf8",
    "xpcall",
];

/// `getmetatable` for tables only (a `__metatable` field still hides a
/// table's metatable, as in standard Lua).
const SAFE_GETMETATABLE: &str = r#"
local getmetatable, type = getmetatable, type
return function(value)
  if type(value) == "table" then
    return getmetatable(value)
  end
  return nil
end
"#;

pub(super) struct Sandbox {
    pub(super) lua: Lua,
    /// The metatable of every call's environment: `__index` is the
    /// read-only globals.
    environment_meta: Table,
    pub(super) methods: Methods,
}

impl Sandbox {
    /// A new state; `ctx:read` of its calls stays inside `root` (canonical).
    pub(super) fn new(root: Arc<Path>) -> mlua::Result<Self> {
        let libraries = StdLib::STRING | StdLib::TABLE | StdLib::MATH | StdLib::UTF8;
        let lua = Lua::new_with(libraries, LuaOptions::new())?;
        let globals = lua.globals();
        let mut unwanted = Vec::new();
        for pair in globals.pairs::<Value, Value>() {
            let (name, _) = pair?;
            let allowed = match &name {
                Value::String(name) => ALLOWED_GLOBALS.contains(&name.to_string_lossy().as_str()),
                _ => false,
            };
            if !allowed {
                unwanted.push(name);
            }
        }
        for name in unwanted {
            globals.raw_set(name, Value::Nil)?;
        }
        let getmetatable: mlua::Function =
            lua.load(SAFE_GETMETATABLE).set_name("=sandbox").eval()?;
        globals.raw_set("getmetatable", getmetatable)?;
        globals.raw_set("print", api::print_function(&lua)?)?;
        let methods = Methods::new(&lua, root)?;
        lua.sandbox(true)?;
        budget::install(&lua);

        let environment_meta = lua.create_table_with_capacity(0, 2)?;
        environment_meta.raw_set("__index", globals)?;
        environment_meta.raw_set("__metatable", "locked")?;
        environment_meta.set_readonly(true);
        Ok(Self {
            lua,
            environment_meta,
            methods,
        })
    }

    /// A fresh environment for one call: its writes stay in it, its reads
    /// fall through to the read-only globals, and `_G` is itself.
    ///
    /// It is marked *safeenv*, as Luau's own `luaL_sandboxthread` marks the
    /// same kind of table: the VM may then use the library functions it
    /// resolved when the chunk was loaded (from the same read-only globals)
    /// and its fast paths for builtins, instead of looking each global up
    /// through `__index` (measured: a third of a table-reading plugin's
    /// time). A global the plugin assigns is never resolved early (the
    /// compiler sees the assignment), so only `rawset(_G, "ipairs", f)`
    /// would go unnoticed, and only by that plugin.
    pub(super) fn environment(&self) -> mlua::Result<Table> {
        let environment = self.lua.create_table()?;
        environment.set_metatable(Some(self.environment_meta.clone()))?;
        environment.raw_set("_G", &environment)?;
        environment.set_safeenv(true);
        Ok(environment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_allowed_globals_remain() {
        let sandbox = Sandbox::new(Arc::from(Path::new("."))).unwrap();
        // The real globals table is the environment metatable's `__index`.
        let globals: Table = sandbox.environment_meta.raw_get("__index").unwrap();
        let mut names: Vec<String> = globals
            .pairs::<String, Value>()
            .map(|pair| pair.unwrap().0)
            .collect();
        names.sort();
        assert_eq!(names, ALLOWED_GLOBALS);
    }
}
