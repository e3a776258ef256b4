-- Every row of the Risks Register names its owner as a @handle.
local M = {}

function M.check(ctx)
  local register = ctx.doc:table({ under = ctx.with.section or "Risks Register" })
  if register == nil then
    ctx:error("no table under \"Risks Register\"")
    return
  end
  for _, row in ipairs(register.rows) do
    local owner = row.cells.Owner or ""
    if not owner:match("^@[%w-]+$") then
      ctx:error("owner \"" .. owner .. "\" is not a @handle", { line = row.line })
    end
  end
end

return M
