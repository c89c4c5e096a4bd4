-- wrk script for bench/catalogue.sh: every request a page of 20 among the
-- first thousand results of one kind of list request (CATALOGUE_KIND), its
-- offset and its term drawn at random request by request, and a random
-- `nonce` parameter besides, so that no two requests are the same query and
-- no cache of whole answers can serve them: each one takes the database
-- path. CATALOGUE_PARAMS names a Lua file of the seed's cities, category
-- slugs, selective words and dates (written by bench/catalogue.sh).
local params = dofile(os.getenv("CATALOGUE_PARAMS"))
local kind = os.getenv("CATALOGUE_KIND") or "plain"
local threads, made = {}, 0

function setup(thread)
  thread:set("tid", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 7919 + tid * 104729)
  failed = 0
end

local function pick(list)
  return list[math.random(#list)]
end

local orderings = {"title", "-title", "created_at", "-created_at", "capacity", "-capacity",
                   "-date_time", "id", "-id"}

local function date(us)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(us / 1000000))
end

local function query()
  if kind == "plain" then
    return ""
  elseif kind == "search" then
    return "&search=" .. pick(params.words)
  elseif kind == "location" then
    return "&location=" .. pick(params.cities)
  elseif kind == "location_desc" then
    return "&location=" .. pick(params.cities) .. "&ordering=-date_time"
  elseif kind == "category" then
    return "&category=" .. pick(params.categories)
  elseif kind == "ordering" then
    return "&ordering=" .. pick(orderings)
  elseif kind == "dates" then
    -- A window of 30 days somewhere in the catalogue's three years.
    local span = params.to_us - params.from_us - 30 * 86400 * 1000000
    local from = params.from_us + math.random() * span
    return "&start_date=" .. date(from) .. "&end_date=" .. date(from + 30 * 86400 * 1000000)
  end
  error("unknown CATALOGUE_KIND " .. kind)
end

function request()
  -- Pages of 20 among the first thousand: offsets 0..980.
  local offset = math.random(0, 980)
  return wrk.format("GET", "/api/events/?limit=20&offset=" .. offset .. query() ..
    "&nonce=" .. math.random(1, 1000000000))
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
  io.write(string.format("%s: %.0f requests/s, mean %.2f ms, p99 %.2f ms, not 200: %d\n", kind,
    summary.requests / (summary.duration / 1e6), latency.mean / 1000,
    latency:percentile(99) / 1000, failed_total))
end
