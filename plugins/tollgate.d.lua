---@meta tollgate
-- Type stubs of the Tollgate plugin API, version 1, for the Lua language
-- server (LuaLS / sumneko): put this file in your workspace (or in
-- `Lua.workspace.library`) and annotate your check functions with
-- `---@param ctx tollgate.Ctx` to get completion and checks.
--
-- Plugins run on Luau, a dialect of Lua 5.1: set `Lua.runtime.version` to
-- "Lua 5.1" in `.luarc.json`. Only `string`, `table`, `math`, `utf8` and
-- `print` (which writes into the check's findings) are available.
--
-- A plugin returns a table of functions; a check names one as
-- `plugin: NAME.FUNCTION`. A function reports with `ctx:error` (and co.) or
-- returns a list of findings.

---@class tollgate.Ctx
---@field doc tollgate.Document|nil The check's artifact; nil when the check names none.
---@field with table<string, any> The check's `with:` table (empty when absent).
---@field subject tollgate.Subject|nil The subject checked; nil in stateless mode.
---@field vars table<string, any> The playbook's vars after `--var` overrides.
---@field step tollgate.Step The step whose check runs.
local Ctx = {}

---Another artifact of the subject, as a document with the same methods as
---`ctx.doc`; nil when it does not exist. In stateless mode only the artifacts
---given with `--artifact-file NAME=PATH` exist. Reads stay inside the project
---root, and an approval pins what was read. For an artifact that names a
---pattern, its first file.
---@param name string The artifact's name under the playbook's `artifacts:`.
---@return tollgate.Document|nil
function Ctx:artifact(name) end

---The text of a file inside the project root, of at most 512 KiB (as a
---document). An absolute path, a path that climbs out with `..`, or a
---symbolic link leading out is an error; a file that cannot be read (a
---larger one included) gives `nil` and the reason.
---@param path string Relative to the project root.
---@return string|nil text
---@return string|nil why
function Ctx:read(path) end

---Reports an error finding (no graver than the check's `severity:`).
---@param message string
---@param options? tollgate.FindingOptions Where; the document's start by default.
function Ctx:error(message, options) end

---Reports a warning finding.
---@param message string
---@param options? tollgate.FindingOptions
function Ctx:warn(message, options) end

---Reports an info finding: shown, never failing a gate.
---@param message string
---@param options? tollgate.FindingOptions
function Ctx:info(message, options) end

---@class tollgate.FindingOptions
---@field line? integer 1-based.
---@field column? integer 1-based, in characters.
---@field end_line? integer The last line of the span; `line` by default.
---@field end_column? integer The last column of the span, inclusive.
---@field hint? string How to fix it: shown under the finding, and as `hint` in JSON.

---A finding returned by a check function, as an alternative to `ctx:error`.
---@class tollgate.Finding: tollgate.FindingOptions
---@field severity? "error"|"warning"|"info" Default "error".
---@field message string What is wrong, in a sentence.

---@class tollgate.Subject
---@field id string As registered with `tollgate new`, such as "F-11".
---@field title string The title given with `--title`.
---@field slug string The id and title in lower case with hyphens, as artifact paths use it.
---@field phase string The id of the phase the subject is in.

---@class tollgate.Step
---@field id string The step's `id:` in the playbook.
---@field title string|nil Its `title:`, when it has one.
---@field gate "automated"|"human" Whether passing its checks is enough, or a person must approve.

---A Markdown document. Each method builds new tables, which you may change.
---@class tollgate.Document
---@field path string The path as shown in findings.
---@field text string The text, with `\n` line endings and no byte-order mark.
local Document = {}

---The lines of the document as written, without line endings; `lines[n]` is line n.
---@return string[]
function Document:lines() end

---Every heading, in document order.
---@return tollgate.Section[]
function Document:sections() end

---The first section whose title matches, as the `sections` check matches
---titles: ignoring case, emphasis, a trailing `:`, a leading number and a
---trailing annotation in parentheses such as `*(mandatory)*`, and accepting
---the aliases that the step's `sections` checks declare for it.
---@param title string
---@return tollgate.Section|nil
function Document:section(title) end

---Every GFM table, or those under a section.
---@param options? tollgate.UnderOptions
---@return tollgate.Table[]
function Document:tables(options) end

---The first GFM table, or the first under a section; nil when there is none.
---@param options? tollgate.UnderOptions
---@return tollgate.Table|nil
function Document:table(options) end

---Every task-list item (`- [ ] ...`), or those under a section.
---@param options? tollgate.UnderOptions
---@return tollgate.Task[]
function Document:tasks(options) end

---Every code block, fenced or indented, in document order.
---@return tollgate.CodeBlock[]
function Document:code_blocks() end

---The YAML front matter as a table; nil when there is none, or nil and the
---reason when it is not valid YAML.
---@return table<string, any>|nil front_matter
---@return string|nil why
function Document:front_matter() end

---@class tollgate.UnderOptions
---@field under? string A section title (or an alias the step's `sections` checks declare): only what lies in it (subsections included) counts.

---@class tollgate.Section
---@field title string The heading as plain text.
---@field level integer 1 to 6.
---@field line integer The heading's line.
---@field end_line integer The last line of the section.
---@field text string The body: the lines after the heading to `end_line` (made on first read, so `pairs` shows it only then).

---@class tollgate.CodeBlock
---@field lang string|nil The first word of the fence's info string (` ```sql ` is "sql"); nil without one.
---@field text string The content, without the fences and the block's indentation.
---@field line integer The opening fence's line (an indented block's first line).
---@field end_line integer The closing fence's line (an indented block's last line).
---@field fenced boolean Fenced rather than indented: the content starts on `line + 1`.

---@class tollgate.Table
---@field header string[] The column titles as written.
---@field rows tollgate.Row[] The data rows.
---@field line integer The header row's line.
---@field end_line integer The last row's line.

---@class tollgate.Row
---@field cells table<string, string> Cell text by column title as written.
---@field line integer The row's line.

---@class tollgate.Task
---@field text string The item's text after the box.
---@field checked boolean Whether the box is ticked (`[x]` or `[X]`).
---@field line integer The item's line.

---A plugin: the table of check functions its file returns.
---@alias tollgate.Check fun(ctx: tollgate.Ctx): tollgate.Finding[]|nil
