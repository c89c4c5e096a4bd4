-- wrk script for bench/register.sh: every request a new registration of one
-- of the seeded attendees for one of the seeded events, no pair twice (the
-- threads take turns through the pairs). Counts the answers that are not
-- 200, which a ticket rush must not give.
local seed = dofile(os.getenv("RUSH_SEED"))
local threads, made = {}, 0

function setup(thread)
  thread:set("tid", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("RUSH_THREADS") or "2")
  n = 0
  failed = 0
end

function request()
  local pair = n * nthreads + tid
  n = n + 1
  local user = pair % #seed.tokens + 1
  local event = seed.events[math.floor(pair / #seed.tokens) % #seed.events + 1]
  return wrk.format("POST", "/api/registrations/" .. event .. "/register/",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. seed.tokens[user]},
    "{}")
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
    if failed <= 3 then io.stderr:write("answered " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local failed_total = 0
  for _, t in ipairs(threads) do failed_total = failed_total + t:get("failed") end
  io.write(string.format("registrations/s: %.0f, p50 %.2f ms, p99 %.2f ms, not 200: %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, failed_total))
end
