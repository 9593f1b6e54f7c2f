-- POST /auth/refresh with the refresh token in a JSON body
-- (X-Token-Transport: body), sending each rotated token on the next request.
--
-- wrk hands each response to the thread's Lua state but does not say which
-- connection it came from, so this script needs exactly one connection per
-- thread (wrk -t N -c N). Argument: a file with one refresh token per line;
-- thread i uses line i, so every connection rotates its own session.

local report = require("report")

local refresh_token = nil

setup = report.setup
done = report.done

function init(args)
   local path = args[1]
   local line_number = 0
   for line in io.lines(path) do
      line_number = line_number + 1
      if line_number == thread_index then
         refresh_token = line
      end
   end
   if refresh_token == nil then
      error("refresh_body.lua: " .. path .. " has no token for thread " .. tostring(thread_index))
   end
end

function request()
   local headers = {
      ["Content-Type"] = "application/json",
      ["X-Token-Transport"] = "body",
   }
   return wrk.format("POST", "/auth/refresh", headers, '{"refresh_token": "' .. refresh_token .. '"}')
end

function response(status, headers, body)
   report.count(status)
   if status == 200 then
      local rotated = string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
      if rotated ~= nil then
         refresh_token = rotated
      end
   end
end
