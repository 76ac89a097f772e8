-- label.lua: the wrk script of the labeling rows (label-page, label-submit);
-- see "Labeling rows" in README.md.  tests/bench/bench.py runs
--
--   wrk -tT -cN -dSs -s tests/bench/label.lua http://HOST:PORT/projects/P/label
--
-- "page" and "answer" requests stand alone (each carries its labeler's
-- cookie, and an answer its lease), so they run like the request rows with
-- two threads (T = 2) and every connection takes the thread's next labeler
-- or lease; "submit" (the label-cycle row) needs a GET and the POST that
-- answers it on one labeler, so it runs with as many threads as connections
-- (T = N) and each thread (its own Lua state) drives one connection as one
-- labeler.
--
-- Environment:
--   LABELD_BENCH_SESSIONS  a file with one labeler per line: "Cookie-value TAB csrf"
--   LABELD_BENCH_MODE      "page": every request is GET /projects/P/label by the
--                          thread's next labeler (thread t of n has the lines
--                          t, t+n, ... of LABELD_BENCH_SESSIONS; the labeler's
--                          current lease: found again and rendered);
--                          "submit": GET the page, take the item id and lease
--                          token from the form, POST the answer (label =
--                          LABELD_BENCH_LABEL), and again: every GET takes a
--                          new lease, every POST stores one annotation.
--                          "answer": every request POSTs the answer to a lease
--                          the labeler holds (LABELD_BENCH_LEASES), one lease
--                          per request, never one twice.
--   LABELD_BENCH_LABEL     the label id to answer with (submit, answer)
--   LABELD_BENCH_LEASES    (answer) a file with one held lease per line:
--                          "Cookie-value TAB csrf TAB /projects/P/items/I TAB lease";
--                          thread t of n takes lines t, t+n, t+2n, ...
--   LABELD_BENCH_THREADS   (page, answer) n, the number of wrk threads
--
-- In "submit" mode each thread times its own requests (monotonic clock) by
-- kind; "page" and "answer" have one kind, timed by wrk itself.  done()
-- prints one machine-readable line that tests/bench/bench.py parses:
--   LABELD_BENCH {"requests":..,"rps":..,"p50_ms":..,"get":{...},"post":{...},"bad":..}
-- and up to five "LABELD_BENCH_BAD ..." lines describing unexpected answers.

local ffi = require("ffi")
ffi.cdef [[
	struct labeld_timespec { long tv_sec; long tv_nsec; };
	int clock_gettime(int clk, struct labeld_timespec *ts);
]]
local ts = ffi.new("struct labeld_timespec")

local function now_us()
	ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
	return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local mode = os.getenv("LABELD_BENCH_MODE") or "page"
local label = os.getenv("LABELD_BENCH_LABEL") or ""

-- main state: one session per thread -------------------------------------

local sessions, threads, nthreads = {}, {}, 0

local function load_sessions()
	local path = os.getenv("LABELD_BENCH_SESSIONS")
	local f = path and io.open(path, "r")
	if not f then
		error("LABELD_BENCH_SESSIONS: cannot read " .. tostring(path))
	end
	for line in f:lines() do
		local cookie, csrf = line:match("^(%S+)\t(%S+)$")
		if cookie then
			sessions[#sessions + 1] = { cookie = cookie, csrf = csrf }
		end
	end
	f:close()
end

function setup(thread)
	if #sessions == 0 then
		load_sessions()
	end
	nthreads = nthreads + 1
	local s = sessions[(nthreads - 1) % #sessions + 1]
	thread:set("cookie", s.cookie)
	thread:set("csrf", s.csrf)
	thread:set("tid", nthreads)
	threads[nthreads] = thread
end

-- thread state ----------------------------------------------------------

local state = "get"       -- what the next request is (submit mode)
local item_path, lease    -- from the last page
local sent_kind, sent_at
local lat = { get = {}, post = {} }
bad = 0
bad_notes = {}

local function note(msg)
	bad = bad + 1
	if #bad_notes < 5 then
		bad_notes[#bad_notes + 1] = msg
	end
end

local function urlencode(s)
	return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local leases, next_lease = {}, 1
exhausted = 0

local pages, next_page = {}, 1

function init(args)
	lat_get, lat_post = lat.get, lat.post
	if mode == "page" then
		-- The same request per labeler every time: format them once.
		local n = tonumber(os.getenv("LABELD_BENCH_THREADS") or "1")
		if #sessions == 0 then
			load_sessions()
		end
		for k, s in ipairs(sessions) do
			if (k - 1) % n == tid - 1 then
				pages[#pages + 1] = wrk.format("GET", nil, { ["Cookie"] = s.cookie }, nil)
			end
		end
		if #pages == 0 then
			error("page: no labeler for thread " .. tid)
		end
	end
	if mode == "answer" then
		local path = os.getenv("LABELD_BENCH_LEASES")
		local n = tonumber(os.getenv("LABELD_BENCH_THREADS") or "1")
		local f = path and io.open(path, "r")
		if not f then
			error("LABELD_BENCH_LEASES: cannot read " .. tostring(path))
		end
		local k = 0
		for line in f:lines() do
			local c, x, p, l = line:match("^(%S+)\t(%S+)\t(%S+)\t(%S+)$")
			if c then
				if k % n == tid - 1 then
					-- The whole request, made once here rather than per
					-- request: the client shares the CPUs with labeld.
					local body = "csrf=" .. urlencode(x) .. "&lease=" .. urlencode(l) ..
						"&label=" .. label .. "&action=submit"
					leases[#leases + 1] = wrk.format("POST", p, { ["Cookie"] = c,
						["Content-Type"] = "application/x-www-form-urlencoded" }, body)
				end
				k = k + 1
			end
		end
		f:close()
	end
end

function request()
	if mode == "answer" then
		local req = leases[next_lease]
		if not req then
			-- Every lease of this thread was answered: stop rather than
			-- send double submits (which are cheaper).
			exhausted = 1
			wrk.thread:stop()
			req = leases[#leases]
		end
		next_lease = next_lease + 1
		sent_kind = "post"
		return req
	end
	if mode == "page" then
		local req = pages[next_page]
		next_page = next_page % #pages + 1
		sent_kind = "get"
		return req
	end
	local headers = { ["Cookie"] = cookie }
	if mode == "submit" and state == "post" and item_path then
		sent_kind = "post"
		headers["Content-Type"] = "application/x-www-form-urlencoded"
		local body = "csrf=" .. urlencode(csrf) .. "&lease=" .. urlencode(lease) ..
			"&label=" .. label .. "&action=submit"
		sent_at = now_us()
		return wrk.format("POST", item_path, headers, body)
	end
	sent_kind = "get"
	sent_at = now_us()
	return wrk.format("GET", nil, headers, nil)
end

function response(status, headers, body)
	if mode == "page" then
		if status ~= 200 or not body:find('id="labelform"', 1, true) then
			note("GET: status " .. status .. (status == 200 and " without a labeling form" or ""))
		end
		return
	end
	if mode == "answer" then
		local loc = headers["Location"] or headers["location"] or ""
		if status ~= 303 or loc:find("notice=", 1, true) then
			note("POST: status " .. status .. " Location " .. loc)
		end
		return
	end
	local us = now_us() - sent_at
	if sent_kind == "get" then
		lat.get[#lat.get + 1] = us
		if status ~= 200 or not body:find('id="labelform"', 1, true) then
			note("GET: status " .. status .. (status == 200 and " without a labeling form" or ""))
			state = "get"
			return
		end
		local p = body:match('<form method="post" action="(/projects/%d+/items/%d+)"')
		local l = body:match('<input type="hidden" name="lease" value="([^"]+)"')
		local c = body:match('<input type="hidden" name="csrf" value="([^"]+)"')
		if not p or not l then
			note("GET: no item or lease in the form")
			return
		end
		item_path, lease = p, l
		if c then
			csrf = c
		end
		state = "post"
	else
		lat.post[#lat.post + 1] = us
		local loc = headers["Location"] or headers["location"] or ""
		if status ~= 303 or loc:find("notice=", 1, true) then
			note("POST: status " .. status .. " Location " .. loc)
		end
		state = "get"
	end
end

-- report (main state) ------------------------------------------------------

local function pct(sorted, p)
	local n = #sorted
	if n == 0 then
		return 0
	end
	local i = math.ceil(p / 100 * n)
	if i < 1 then i = 1 end
	return sorted[i] / 1000.0
end

local function kind_json(v, secs)
	table.sort(v)
	return string.format('{"requests":%d,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}',
		#v, #v / secs, pct(v, 50), pct(v, 90), pct(v, 99), pct(v, 100))
end

-- The one kind of a "page" or "answer" run, as wrk timed it.
local function wrk_kind(summary, latency, secs)
	return string.format('{"requests":%d,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}',
		summary.requests, summary.requests / secs, latency:percentile(50) / 1000,
		latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000)
end

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local gets, posts, nbad, notes, nexhausted = {}, {}, 0, {}, 0
	for _, t in ipairs(threads) do
		nexhausted = nexhausted + (t:get("exhausted") or 0)
		for _, v in ipairs(t:get("lat_get") or {}) do gets[#gets + 1] = v end
		for _, v in ipairs(t:get("lat_post") or {}) do posts[#posts + 1] = v end
		nbad = nbad + (t:get("bad") or 0)
		for _, n in ipairs(t:get("bad_notes") or {}) do
			if #notes < 5 then notes[#notes + 1] = n end
		end
	end
	for _, n in ipairs(notes) do
		io.write("LABELD_BENCH_BAD " .. n .. "\n")
	end
	local e = summary.errors
	io.write(string.format(
		'LABELD_BENCH {"requests":%d,"duration_s":%.3f,"rps":%.2f,' ..
		'"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
		'"bytes":%d,"errors_status":%d,"errors_socket":%d,"bad":%d,"threads":%d,"exhausted":%d,' ..
		'"get":%s,"post":%s}\n',
		summary.requests, secs, summary.requests / secs,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency.max / 1000,
		summary.bytes, e.status, e.connect + e.read + e.write + e.timeout, nbad, #threads, nexhausted,
		mode == "page" and wrk_kind(summary, latency, secs) or kind_json(gets, secs),
		mode == "answer" and wrk_kind(summary, latency, secs) or kind_json(posts, secs)))
end
