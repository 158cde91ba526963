-- wrk script for the execute bench (bench/execute.py).
-- MODE=execute: POST EXEC_PATH (default /api/agents/execute) with
--   {"agent_id":"<the pair's agent id>","input":EXEC_INPUT} as the pair's tenant key;
--   PAIRS_FILE: lines "token agent_uuid"; one pre-built request per pair, random pair per call.
-- MODE=upstream: POST UPSTREAM_PATH (default /chat/completions) with UPSTREAM_BODY as
--   Bearer UPSTREAM_KEY (the mock upstream alone, the body the service would send it).
-- Prints the same RESULT line as the anchors' wrk/agents.lua (latencies to the microsecond).
local mode = os.getenv("MODE") or "execute"
local reqs = {}

if mode == "upstream" then
  local body = os.getenv("UPSTREAM_BODY") or error("UPSTREAM_BODY not set")
  reqs[1] = wrk.format("POST", os.getenv("UPSTREAM_PATH") or "/chat/completions", {
    ["Authorization"] = "Bearer " .. (os.getenv("UPSTREAM_KEY") or "sk-bench-master-key"),
    ["Content-Type"] = "application/json",
  }, body)
else
  local pairs_file = os.getenv("PAIRS_FILE") or error("PAIRS_FILE not set")
  local path = os.getenv("EXEC_PATH") or "/api/agents/execute"
  local input = os.getenv("EXEC_INPUT") or error("EXEC_INPUT not set (a JSON string literal)")
  for line in io.lines(pairs_file) do
    local k, a = line:match("^(%S+)%s+(%S+)")
    if k then
      reqs[#reqs + 1] = wrk.format("POST", path, {
        ["Authorization"] = "Bearer " .. k,
        ["Content-Type"] = "application/json",
      }, '{"agent_id":"' .. a .. '","input":' .. input .. '}')
    end
  end
end

local n = #reqs
if n == 0 then error("no requests built (empty pairs file?)") end
math.randomseed(os.time() + math.floor(os.clock() * 1e6))

request = function()
  if n == 1 then return reqs[1] end
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
