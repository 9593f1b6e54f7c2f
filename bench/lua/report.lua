-- Shared wrk hooks: count non-2xx responses in each thread and print one JSON
-- summary line, prefixed with BENCH_RESULT, when the run ends.
--
-- wrk runs setup() and done() in its main Lua state and the other hooks in
-- one state per thread, so each thread keeps its own count in the global
-- non_2xx, and done() adds them up through thread:get().

local report = {}
local threads = {}

function report.setup(thread)
   table.insert(threads, thread)
   thread:set("thread_index", #threads)
end

function report.count(status)
   if status < 200 or status > 299 then
      non_2xx = (non_2xx or 0) + 1
   end
end

function report.done(summary, latency, requests)
   local non_2xx_total = 0
   for _, thread in ipairs(threads) do
      non_2xx_total = non_2xx_total + (thread:get("non_2xx") or 0)
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "non_2xx": %d, '
         .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, "status_errors": %d, '
         .. '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p99_9": %d}}\n',
      summary.requests, summary.duration, summary.bytes, non_2xx_total,
      errors.connect, errors.read, errors.write, errors.timeout, errors.status,
      latency.min, latency.mean, latency.max,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end

return report
