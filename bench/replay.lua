-- wrk script of bench/run: replays requests signed in advance by
-- examples/bench_prep.rs. Arguments (after `--`): the request file (a Lua
-- table of {method, path, headers, body}) and wrk's thread count. Thread i
-- sends the requests whose index is i modulo the thread count, in a loop, so
-- distinct create requests (unique names) are never sent twice while the
-- file holds more than the run needs.
-- Any status outside 2xx is counted and reported as an error.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local reqs = {}
local next_req = 1
errors = 0
sent = 0

-- The file is a Lua table with one request per line; each line is loaded as
-- a chunk of its own, as one chunk may hold at most 65536 constants.
function init(args)
   local n = tonumber(args[2])
   local i = 0
   for line in io.lines(args[1]) do
      if line:sub(1, 1) == "{" then
         if i % n == id then
            local r = assert(loadstring("return " .. line:gsub(",$", "")))()
            table.insert(reqs, wrk.format(r.method, r.path, r.headers, r.body))
         end
         i = i + 1
      end
   end
end

function request()
   local r = reqs[next_req]
   next_req = next_req + 1
   if next_req > #reqs then next_req = 1 end
   sent = sent + 1
   return r
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      errors = errors + 1
   end
end

function done(summary, latency, requests)
   local bad, wrapped = 0, 0
   for _, t in ipairs(threads) do
      bad = bad + t:get("errors")
   end
   local e = summary.errors
   local sock = e.connect + e.read + e.write + e.timeout
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_us":%d,"p99_us":%d,"max_us":%d,"non2xx":%d,"socket_errors":%d}\n',
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99), latency.max, bad, sock))
end
