-- One wrk script for every scenario of bench/api_bench.py, driven by environment variables:
--   BENCH_METHOD        GET (default) or POST
--   BENCH_BODY          request body (form-encoded for creates)
--   BENCH_CONTENT_TYPE  Content-Type header
--   BENCH_AUTH          Authorization header (HTTP Basic with the secret key)
-- When the run ends it prints one line, "BENCH_JSON {...}", that api_bench.py parses: counts,
-- errors and latency percentiles in microseconds (wrk measures them, we only read them out).

wrk.method = os.getenv("BENCH_METHOD") or "GET"

local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
end

local content_type = os.getenv("BENCH_CONTENT_TYPE")
if content_type ~= nil and content_type ~= "" then
  wrk.headers["Content-Type"] = content_type
end

local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

-- BENCH_TOKENS_FILE: one card token per line; each request then sends BENCH_BODY with "{token}"
-- replaced by the next unused token (tokens are single use), the threads taking turns.
local tokens_file = os.getenv("BENCH_TOKENS_FILE")
local thread_count = 0

setup = function(thread)
  thread:set("index", thread_count)
  thread_count = thread_count + 1
end

if tokens_file ~= nil and tokens_file ~= "" then
  local tokens = {}
  local next_token = 1
  init = function(args)
    local stride = tonumber(os.getenv("BENCH_THREADS") or "1")
    local n = 0
    for line in io.lines(tokens_file) do
      if n % stride == index then
        table.insert(tokens, line)
      end
      n = n + 1
    end
  end
  request = function()
    local token = tokens[next_token] or "tokn_test_exhausted"
    next_token = next_token + 1
    return wrk.format(nil, nil, nil, (string.gsub(body, "{token}", token)))
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
    '"errors_status": %d, "errors_timeout": %d, ' ..
    '"latency_mean_us": %.1f, "latency_max_us": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)
  ))
end
