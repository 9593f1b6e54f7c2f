-- Paced GET: every connection waits a fixed interval between a response and
-- its next request, so the offered load stays below saturation and the
-- latency percentiles show mostly service time, not queueing.
-- Argument: the interval in milliseconds (wrk ... -s paced_get.lua URL -- 20).

local report = require("report")

local interval_ms = 0

setup = report.setup
done = report.done

function init(args)
   interval_ms = tonumber(args[1]) or 0
end

function delay()
   return interval_ms
end

function response(status, headers, body)
   report.count(status)
end
