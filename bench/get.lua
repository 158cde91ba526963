-- wrk script for the streaming bench (bench/streaming.py): GET /api/agents/<id> as the
-- pair's tenant key; PAIRS_FILE: lines "token agent_uuid"; a random pair per call.
-- Prints the same RESULT line as bench/execute.lua.
local reqs = {}
for line in io.lines(os.getenv("PAIRS_FILE") or error("PAIRS_FILE not set")) do
  local k, a = line:match("^(%S+)%s+(%S+)")
  if k then
    reqs[#reqs + 1] = wrk.format("GET", "/api/agents/" .. a, {["Authorization"] = "Bearer " .. k})
  end
end
local n = #reqs
if n == 0 then error("no requests built (empty pairs file?)") end
math.randomseed(os.time() + math.floor(os.clock() * 1e6))

request = function()
  return reqs[math.random(n)]
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d non2xx=%d sock_errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout))
end
