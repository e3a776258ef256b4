-- Every row of the Risks Register names its owner as a @handle.
local M = {}

function M.check(ctx)
  local section = ctx.with.section or "Risks Register"
  local register = ctx.doc:table({ under = section })
  if register == nil then
    ctx:error("no table under \"" .. section .. "\"")
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
