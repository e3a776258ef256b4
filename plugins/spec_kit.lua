-- spec_kit: the line-by-line rules of spec-kit's documents that no built-in
-- check can say: numbered requirements, the budget of open questions, the
-- task line format and the constitution's version line.
--
--   plugins:
--     spec_kit: ../plugins/spec_kit.lua
--   ...
--   - id: requirement-ids
--     artifact: spec
--     plugin: spec_kit.ids
--     with: { section: Functional Requirements, prefix: FR }
--   - id: open-questions
--     artifact: spec
--     plugin: spec_kit.questions
--     with: { max: 3 }
--   - id: task-lines
--     artifact: tasks
--     plugin: spec_kit.tasks
--   - id: constitution-version
--     artifact: constitution
--     plugin: spec_kit.version_line
--
-- Lines inside fenced code and HTML comments are never looked at.
-- Tests: `tollgate plugin test plugins/spec_kit.lua`.

local M = {}

-- The lines of the document with a flag for each that is prose: outside
-- fenced code and HTML comments.
local function prose(ctx)
  local lines = ctx.doc:lines()
  local is_prose = {}
  local fence, comment = nil, false
  for number, line in ipairs(lines) do
    local marks = line:match("^ ? ? ?(```+)") or line:match("^ ? ? ?(~~~+)")
    if comment then
      is_prose[number] = false
      if line:find("-->", 1, true) then
        comment = false
      end
    elseif fence then
      is_prose[number] = false
      if marks and marks:sub(1, 1) == fence:sub(1, 1) and #marks >= #fence and line:match("^%s*[`~]+%s*$") then
        fence = nil
      end
    elseif marks then
      is_prose[number] = false
      fence = marks
    elseif line:match("^%s*<!%-%-") then
      is_prose[number] = false
      comment = not line:find("-->", 1, true)
    else
      is_prose[number] = true
    end
  end
  return lines, is_prose
end

local function column_of(line, byte)
  return utf8.len(line:sub(1, byte - 1)) + 1
end

-- Every top-level list item of a section starts with its id, `PREFIX-###`
-- (bold or not): `- **FR-001**: System MUST ...`.
---@param ctx tollgate.Ctx
function M.ids(ctx)
  local title, prefix = ctx.with.section, ctx.with.prefix
  if type(title) ~= "string" or type(prefix) ~= "string" then
    error("spec_kit.ids needs `with.section` and `with.prefix`", 0)
  end
  local section = ctx.doc:section(title)
  if section == nil then
    ctx:error("no section \"" .. title .. "\" listing the " .. prefix .. "-### items")
    return
  end
  local lines, is_prose = prose(ctx)
  local items = 0
  for number = section.line + 1, section.end_line do
    local line = lines[number]
    local bullet = is_prose[number] and line:match("^[-*+]%s+()")
    if bullet then
      items = items + 1
      local rest = line:sub(bullet):gsub("^[*_]+", "")
      if not rest:match("^" .. prefix .. "%-%d%d%d+") then
        ctx:error("item without its " .. prefix .. "-### id: \"" .. line:sub(bullet) .. "\"", {
          line = number,
          column = column_of(line, bullet),
        })
      end
    end
  end
  if items == 0 then
    ctx:error("section \"" .. title .. "\" lists no " .. prefix .. "-### items", { line = section.line })
  end
end

-- At most `with.max` `[NEEDS CLARIFICATION` markers; each one past the
-- budget is reported where it stands.
---@param ctx tollgate.Ctx
function M.questions(ctx)
  local max = tonumber(ctx.with.max) or 0
  local marker = "[NEEDS CLARIFICATION"
  local lines, is_prose = prose(ctx)
  local seen = 0
  for number, line in ipairs(lines) do
    local from = 1
    while is_prose[number] do
      local at = line:find(marker, from, true)
      if at == nil then
        break
      end
      seen = seen + 1
      if seen > max then
        local message
        if max == 0 then
          message = "open question " .. marker .. "] remains: answer it and write the answer in its place"
        else
          message = "open question number " .. seen .. ": at most " .. max .. " " .. marker .. "] markers may remain; decide the others with a reasonable default"
        end
        local column = column_of(line, at)
        ctx:error(message, { line = number, column = column, end_column = column + #marker + 1 })
      end
      from = at + #marker
    end
  end
end

-- The number of the user story whose phase holds line `number`, if any:
-- the innermost heading around it that names `User Story N`.
local function story_of(sections, number)
  local story, level = nil, 0
  for _, section in ipairs(sections) do
    if section.line < number and number <= section.end_line and section.level > level then
      local n = section.title:match("User Story (%d+)")
      if n then
        story, level = n, section.level
      end
    end
  end
  return story
end

-- Every task is `T### [P] [US#] description`: an id of three digits or
-- more, then an optional `[P]` (parallel), then `[US#]`, which a task in a
-- user story's phase must carry, naming that story. The template's sample
-- id `TXXX` is left to a check of template values.
---@param ctx tollgate.Ctx
function M.tasks(ctx)
  local sections = ctx.doc:sections()
  local lines = ctx.doc:lines()
  for _, task in ipairs(ctx.doc:tasks()) do
    local line = lines[task.line]
    local start = (line:find("%]") or 0) + 1
    local at = function(text)
      local found = line:find(text, start, true) or start
      return { line = task.line, column = column_of(line, found), end_column = column_of(line, found) + utf8.len(text) }
    end
    local id, rest = task.text:match("^(T%d%d%d+)%s*(.*)$")
    if task.text:match("^TXXX") then
      -- The template's sample id: the template check reports it.
    elseif id == nil then
      local first = task.text:match("^%S+") or ""
      ctx:error("task without a T### id: \"" .. task.text .. "\"", at(first))
    else
      local labels = {}
      while true do
        local label, after = rest:match("^(%b[])%s*(.*)$")
        if label == nil then
          break
        end
        table.insert(labels, label)
        rest = after
      end
      local story = nil
      for index, label in ipairs(labels) do
        local n = label:match("^%[US(%d+)%]$")
        if label == "[P]" and index == 1 then
          -- parallel: well formed
        elseif n and story == nil then
          story = n
        else
          ctx:error(id .. ": `" .. label .. "` is not a marker: after the id come `[P]`, then `[US#]`", at(label))
        end
      end
      local wanted = story_of(sections, task.line)
      if wanted and story == nil then
        ctx:error(id .. " is in the phase of user story " .. wanted .. " but has no `[US" .. wanted .. "]`", at(id))
      elseif wanted and story ~= wanted then
        ctx:error(id .. " is in the phase of user story " .. wanted .. " but is labelled `[US" .. story .. "]`", at("[US" .. story .. "]"))
      end
    end
  end
end

-- The constitution's version line:
-- `**Version**: 1.2.0 | **Ratified**: 2025-06-13 | **Last Amended**: 2025-07-16`,
-- a semantic version and ISO dates; `TODO(FIELD): why` stands for a value
-- not known yet. A value still the template's `[TOKEN]` is not reported
-- here: the check of template values names it.
---@param ctx tollgate.Ctx
function M.version_line(ctx)
  local lines, is_prose = prose(ctx)
  local fields = {
    { name = "Version", shape = "^%d+%.%d+%.%d+$", want = "a version such as 1.0.0" },
    { name = "Ratified", shape = "^%d%d%d%d%-%d%d%-%d%d$", want = "an ISO date, YYYY-MM-DD" },
    { name = "Last Amended", shape = "^%d%d%d%d%-%d%d%-%d%d$", want = "an ISO date, YYYY-MM-DD" },
  }
  for number, line in ipairs(lines) do
    if is_prose[number] and line:match("^%s*%*%*Version%*%*:") then
      for _, field in ipairs(fields) do
        local label = "**" .. field.name .. "**:"
        local at = line:find(label, 1, true)
        if at == nil then
          ctx:error("the version line has no " .. label .. " field", { line = number })
        else
          local value = line:sub(at + #label):match("^([^|]*)"):match("^%s*(.-)%s*$")
          -- A bracketed template token is a check of template values' to report.
          local left_to_others = value:match("^TODO%([%u_]+%)") or value:match("^%[[%u%d_]+%]$")
          if not left_to_others and not value:match(field.shape) then
            local column = column_of(line, at)
            ctx:error(label .. " is \"" .. value .. "\"; it needs " .. field.want .. ", or `TODO(FIELD): why` while unknown", {
              line = number,
              column = column,
              end_column = column + #label,
            })
          end
        end
      end
      return
    end
  end
  ctx:error("no version line `**Version**: X.Y.Z | **Ratified**: YYYY-MM-DD | **Last Amended**: YYYY-MM-DD`")
end

return M
