-- Closed-loop GET: every connection sends its next request as soon as the
-- previous response arrives. Headers such as Cookie come from wrk -H.

local report = require("report")

setup = report.setup
done = report.done

function response(status, headers, body)
   report.count(status)
end
