-- wrk script of bench.batching --client wrk: cycles the pre-encoded HTTP messages
-- DIR/0.http .. DIR/(N-1).http (wrk -s wrk_post.lua URL -- DIR N), each connection sending
-- the next as soon as its last is answered, and prints one JSON line "WRK {...}" at the end.
local messages = {}
local count = 0
local position = 0

function init(args)
  count = tonumber(args[2])
  for k = 0, count - 1 do
    local file = assert(io.open(args[1] .. "/" .. k .. ".http", "rb"))
    messages[k + 1] = file:read("*a")
    file:close()
  end
end

function request()
  position = position % count + 1
  return messages[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
