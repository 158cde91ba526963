-- wrk script for the queue bench (bench/queue.py): POST /api/agents/{id}/executions with
-- {"input":EXEC_INPUT} as the pair's tenant key (PAIRS_FILE: lines "token agent_uuid"; one
-- pre-built request per pair, random pair per call). Expects 202.
-- LIMIT (optional): stop the thread after that many responses (a fixed-size batch; with
-- c connections up to c-1 more may already be in flight, so count rows, not responses).
-- Prints the same RESULT line as bench/execute.lua (latencies to the microsecond).
local pairs_file = os.getenv("PAIRS_FILE") or error("PAIRS_FILE not set")
local input = os.getenv("EXEC_INPUT") or error("EXEC_INPUT not set (a JSON string literal)")
local limit = tonumber(os.getenv("LIMIT") or "0")
local reqs = {}

for line in io.lines(pairs_file) do
  local k, a = line:match("^(%S+)%s+(%S+)")
  if k then
    reqs[#reqs + 1] = wrk.format("POST", "/api/agents/" .. a .. "/executions", {
      ["Authorization"] = "Bearer " .. k,
      ["Content-Type"] = "application/json",
    }, '{"input":' .. input .. '}')
  end
end

local n = #reqs
if n == 0 then error("no requests built (empty pairs file?)") end
math.randomseed(os.time() + math.floor(os.clock() * 1e6))

request = function()
  if n == 1 then return reqs[1] end
  return reqs[math.random(n)]
end

if limit > 0 then
  local seen = 0
  response = function(status, headers, body)
    seen = seen + 1
    if seen >= limit then wrk.thread:stop() end
  end
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
