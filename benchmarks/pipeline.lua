-- HTTP/1.1 pipelining for wrk: every request() call sends DEPTH requests at once.
-- Usage: wrk ... -s benchmarks/pipeline.lua URL [-- DEPTH]   (DEPTH defaults to 16)
-- wrk counts each of the DEPTH responses as a request, but records only one
-- latency sample per batch (taken when the last response of the batch arrives),
-- and wrk 4.1's latency percentiles are wrong in this mode (wg/wrk#236), so
-- server.py keeps only the throughput from pipelined runs.

local batch

init = function(args)
  local depth = tonumber(args[1]) or 16
  local parts = {}
  for i = 1, depth do
    parts[i] = wrk.format("GET", "/")
  end
  batch = table.concat(parts)
end

request = function()
  return batch
end
