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
  for _, block in ipairs(ctx.doc:code_blocks()) do
    -- The content lines of the block (a fence left open has no closing
    -- line), read as written so that columns are those of the file.
    local from = block.fenced and block.line + 1 or block.line
    local _, count = block.text:gsub("\n", "")
    if block.text ~= "" and block.text:sub(-1) ~= "\n" then
      count = count + 1
    end
    local to = from + count - 1
    for number = math.max(from, first), math.min(to, last) do
      local line = lines[number]
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
        local found, ends = line:find(pattern)
        if found and not reported then
          local column = utf8.len(line:sub(1, found - 1)) + 1
          ctx:error("template label \"" .. line:sub(found, ends) .. "\" remains in a code block" .. suffix, {
            line = number,
            column = column,
            end_column = column + utf8.len(line:sub(found, ends)),
          })
          reported = true
        end
      end
    end
  end
end

return M
