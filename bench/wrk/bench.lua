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
