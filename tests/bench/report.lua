-- report.lua: the wrk script of every `./stack bench` row.
--
-- tests/bench/bench.py runs: wrk -t2 -c32 -dNs --latency -s tests/bench/report.lua URL
-- with these environment variables:
--   LABELD_BENCH_METHOD  request method of the row (default GET)
--   LABELD_BENCH_COOKIE  Cookie header value for rows that need a session
--   LABELD_BENCH_SCRIPT  the row's own Lua file (may be empty); it is loaded
--                        after the settings above, so it can override them
--                        (wrk.body, wrk.headers, request(), response() ...)
-- done() prints one machine-readable line that tests/bench/bench.py parses:
--   LABELD_BENCH {"requests":..,"duration_s":..,"rps":..,"p50_ms":..,...}

local method = os.getenv("LABELD_BENCH_METHOD")
if method and method ~= "" then
	wrk.method = method
end

local cookie = os.getenv("LABELD_BENCH_COOKIE")
if cookie and cookie ~= "" then
	wrk.headers["Cookie"] = cookie
end

local row_script = os.getenv("LABELD_BENCH_SCRIPT")
if row_script and row_script ~= "" then
	dofile(row_script)
end

local function ms(us)
	return us / 1000.0
end

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local e = summary.errors
	local socket_errors = e.connect + e.read + e.write + e.timeout
	io.write(string.format(
		'LABELD_BENCH {"requests":%d,"duration_s":%.3f,"rps":%.2f,' ..
		'"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
		'"bytes":%d,"errors_status":%d,"errors_socket":%d}\n',
		summary.requests, secs, summary.requests / secs,
		ms(latency:percentile(50)), ms(latency:percentile(90)),
		ms(latency:percentile(99)), ms(latency.max),
		summary.bytes, e.status, socket_errors))
end
