-- risk_coverage: every major area of the work has at least one risk in the
-- plan's risk register.
--
--   plugins:
--     risk_coverage: plugins/risk_coverage.lua
--   ...
--   - id: risks-cover-areas
--     artifact: plan
--     plugin: risk_coverage.check
--     with:
--       areas: [security, data, performance]  -- required
--       section: Risks Register                -- optional, this by default
--       column: Risk                           -- optional: search one column
--
-- An area is covered when a row of the register's table mentions it
-- (ignoring case) in the column named by `with.column`, or in any cell.
-- Tests: `tollgate plugin test plugins/risk_coverage.lua`.

---@class RiskCoverageOptions
---@field areas string[]
---@field section? string
---@field column? string

local M = {}

-- The text of a row that an area is searched in, lower-cased: one column,
-- or all the cells.
local function row_text(row, column)
  if column then
    return (row.cells[column] or ""):lower()
  end
  local cells = {}
  for _, text in pairs(row.cells) do
    table.insert(cells, text)
  end
  return table.concat(cells, " | "):lower()
end

---@param ctx tollgate.Ctx
function M.check(ctx)
  ---@type RiskCoverageOptions
  local options = ctx.with
  if type(options.areas) ~= "table" or #options.areas == 0 then
    error("risk_coverage.check needs `with.areas`, a list of area names", 0)
  end
  local title = options.section or "Risks Register"
  local section = ctx.doc:section(title)
  if section == nil then
    ctx:error("no \"" .. title .. "\" section")
    return
  end
  local register = ctx.doc:table({ under = title })
  if register == nil then
    ctx:error("the \"" .. title .. "\" section has no table of risks", { line = section.line })
    return
  end
  if options.column then
    local found = false
    for _, name in ipairs(register.header) do
      if name == options.column then
        found = true
      end
    end
    if not found then
      ctx:error("the risk register has no column \"" .. options.column .. "\"", { line = register.line })
      return
    end
  end
  local rows = {}
  for index, row in ipairs(register.rows) do
    rows[index] = row_text(row, options.column)
  end
  for _, area in ipairs(options.areas) do
    local needle = area:lower()
    local covered = false
    for _, text in ipairs(rows) do
      if text:find(needle, 1, true) then
        covered = true
        break
      end
    end
    if not covered then
      ctx:error("no risk for area \"" .. area .. "\" in the risk register", {
        line = register.line,
        end_line = register.end_line,
      })
    end
  end
end

return M
