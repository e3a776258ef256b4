-- pai_principles: a plan shows how its design applies each PAI principle.
--
--   plugins:
--     pai: ../plugins/pai_principles.lua
--   ...
--   - id: pai-principles
--     artifact: plan
--     plugin: pai.check
--     with:
--       principles: [Code before prompts, Deterministic where possible, CLI-first interfaces]
--       section: PAI principles   -- optional, this by default
--       min_words: 3              -- optional: words of evidence after the verdict
--
-- Showing a principle means: under the section, a table with a "Principle"
-- column and an "Applied" column (a trailing `?` or other punctuation is
-- ignored) has a row naming the principle, and its Applied cell opens with a
-- yes (`✅`, `✓`, `☑` or the word "Yes") followed by at least `min_words`
-- words saying how the design applies it. A row that says no, a bare yes,
-- and a principle without a row are errors at their line.
-- Tests: `tollgate plugin test plugins/pai_principles.lua`.

---@class PaiOptions
---@field principles string[]
---@field section? string
---@field min_words? integer

local M = {}

local YES = { "✅", "✓", "☑", "yes" }
local NO = { "❌", "✗", "☐", "no" }

-- Lower case, without emphasis, code marks and surrounding spaces.
local function normalize(text)
  local plain = text:gsub("[%*_`]", ""):lower()
  return (plain:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The column whose title, normalised and without punctuation, starts with `word`.
local function column(header, word)
  for _, title in ipairs(header) do
    if normalize(title):gsub("%p", ""):sub(1, #word) == word then
      return title
    end
  end
  return nil
end

-- The rest of `cell` after one of `markers` opening it, or nil.
local function after_marker(cell, markers)
  local lowered = cell:lower()
  for _, marker in ipairs(markers) do
    if lowered:sub(1, #marker) == marker then
      local rest = cell:sub(#marker + 1)
      -- "Yes" must be a word of its own, not the start of "Yesterday".
      if marker:match("^%a") and rest:match("^%a") then
        return nil
      end
      return rest
    end
  end
  return nil
end

local function word_count(text)
  local count = 0
  for _ in text:gmatch("[%w][%w%-']*") do
    count = count + 1
  end
  return count
end

---@param ctx tollgate.Ctx
function M.check(ctx)
  local principles = ctx.with.principles
  if type(principles) ~= "table" or #principles == 0 then
    ctx:error("the check needs `with: { principles: [...] }`")
    return
  end
  local title = ctx.with.section or "PAI principles"
  local min_words = ctx.with.min_words or 3
  local section = ctx.doc:section(title)
  if section == nil then
    ctx:error("missing section \"" .. title .. "\" showing how the design applies each principle")
    return
  end
  local found = ctx.doc:table({ under = title })
  if found == nil then
    ctx:error("no table under \"" .. title .. "\": list each principle and how it is applied", { line = section.line })
    return
  end
  local name_column = column(found.header, "principle")
  local applied_column = column(found.header, "applied")
  if name_column == nil or applied_column == nil then
    ctx:error("the table under \"" .. title .. "\" needs the columns \"Principle\" and \"Applied\"", { line = found.line })
    return
  end
  for _, principle in ipairs(principles) do
    local row = nil
    for _, candidate in ipairs(found.rows) do
      if normalize(candidate.cells[name_column] or "") == normalize(principle) then
        row = candidate
        break
      end
    end
    if row == nil then
      ctx:error("principle \"" .. principle .. "\" is not in the table", { line = found.line })
    else
      local cell = normalize(row.cells[applied_column] or "")
      local evidence = after_marker(cell, YES)
      if evidence ~= nil then
        if word_count(evidence) < min_words then
          ctx:error("principle \"" .. principle .. "\" is marked applied but the plan does not say how", { line = row.line })
        end
      elseif after_marker(cell, NO) ~= nil then
        ctx:error("principle \"" .. principle .. "\" is not applied", { line = row.line })
      else
        ctx:error("principle \"" .. principle .. "\": the Applied cell must open with ✅, ✓ or Yes", { line = row.line })
      end
    end
  end
end

return M
