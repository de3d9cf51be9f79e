-- wrk script of scripts/soak: one route, authenticated by a session cookie or an API token
-- (environment SOAK_COOKIE or SOAK_TOKEN), the route's name in SOAK_ROUTE. Every response that
-- is not 200 counts as an error (a read that redirects to the login page has lost its session);
-- done() prints one JSON line with requests, errors and latency percentiles in milliseconds.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  codes = ""
  local cookie = os.getenv("SOAK_COOKIE")
  local token = os.getenv("SOAK_TOKEN")
  if cookie and cookie ~= "" then
    wrk.headers["Cookie"] = "ym_session=" .. cookie
  end
  if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if #codes < 200 then
      codes = codes .. status .. " "
    end
  end
end

function done(summary, latency, requests)
  local errors = 0
  local codes_seen = ""
  for _, t in ipairs(threads) do
    errors = errors + t:get("bad")
    codes_seen = codes_seen .. t:get("codes")
  end
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    '{"route":"%s","requests":%d,"not_200":%d,"socket_errors":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"codes":"%s"}\n',
    os.getenv("SOAK_ROUTE") or "?", summary.requests, errors, socket,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, codes_seen))
end
