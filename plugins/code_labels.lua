-- code_labels: template labels left inside the fenced code blocks of a
-- section, where the built-in checks never look.
--
-- Templates often offer alternatives as example trees in code blocks, each
-- headed by a label the author must delete along with the options not
-- taken (spec-kit's plan marks them `[REMOVE IF UNUSED]`). Prose markers are
-- the `placeholders` check's job; this one reads the code.
--
--   plugins:
--     code_labels: ../plugins/code_labels.lua
--   ...
--   - id: structure-chosen
--     artifact: plan
--     plugin: code_labels.check
--     with:
--       labels: ["[REMOVE IF UNUSED]"]   -- text to find; labels or patterns required
--       patterns: ["^%s*#%s*Option %d+:"]  -- optional: Lua patterns a line must not match
--       section: Project Structure       -- optional: the whole document by default
--       why: keep the option chosen      -- optional: appended to each finding
--
-- A missing section is not reported here: a `sections` check says so.
-- Tests: `tollgate plugin test plugins/code_labels.lua`.

---@class CodeLabelsOptions
---@field labels? string[]
---@field patterns? string[]
---@field section? string
---@field why? string

local M = {}

-- The fence a line opens or closes: its character and length, after at
-- most three spaces of indentation.
local function fence(line)
  local marks = line:match("^ ? ? ?(```+)") or line:match("^ ? ? ?(~~~+)")
  if marks == nil then
    return nil
  end
  return marks:sub(1, 1), #marks
end

---@param ctx tollgate.Ctx
function M.check(ctx)
  ---@type CodeLabelsOptions
  local options = ctx.with
  local labels, patterns = options.labels or {}, options.patterns or {}
  if type(labels) ~= "table" or type(patterns) ~= "table" or #labels + #patterns == 0 then
    error("code_labels.check needs `with.labels` or `with.patterns`, a list", 0)
  end
  local lines = ctx.doc:lines()
  local first, last = 1, #lines
  if options.section then
    local section = ctx.doc:section(options.section)
    if section == nil then
      return
    end
    first, last = section.line + 1, section.end_line
  end
  local suffix = options.why and ("; " .. options.why) or ""
  local open_char, open_length = nil, 0
  for number = first, last do
    local line = lines[number]
    local char, length = fence(line)
    if open_char == nil then
      if char then
        open_char, open_length = char, length
      end
    elseif char == open_char and length >= open_length and line:match("^%s*[`~]+%s*$") then
      open_char = nil
    else
      local reported = false
      for _, label in ipairs(labels) do
        local at = line:find(label, 1, true)
        if at then
          local column = utf8.len(line:sub(1, at - 1)) + 1
          ctx:error("template label \"" .. label .. "\" remains in a code block" .. suffix, {
            line = number,
            column = column,
            end_column = column + utf8.len(label),
          })
          reported = true
        end
      end
      for _, pattern in ipairs(patterns) do
        local from, to = line:find(pattern)
        if from and not reported then
          local column = utf8.len(line:sub(1, from - 1)) + 1
          ctx:error("template label \"" .. line:sub(from, to) .. "\" remains in a code block" .. suffix, {
            line = number,
            column = column,
            end_column = column + utf8.len(line:sub(from, to)),
          })
          reported = true
        end
      end
    end
  end
end

return M
