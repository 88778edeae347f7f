-- wrk script: POST /v1/canAccess with one JSON body, as a gateway asks before each call.
--   KEY=tally_live_... [DELAY_MS=1] [CUSTOMER=drizzle] [METRIC=forecast_calls] \
--     wrk -t1 -c10 -d20s --latency -s Benchmarks/Server/canaccess.lua http://127.0.0.1:PORT/v1/canAccess
-- Debian's wrk (4.1) has no fixed-rate mode (-R is wrk2's): DELAY_MS makes each connection wait that
-- long after each answer, so C connections send at most C * 1000 / DELAY_MS requests a second.
wrk.method = "POST"
wrk.body = '{"customer_id":"' .. (os.getenv("CUSTOMER") or "drizzle") .. '","metric":"'
  .. (os.getenv("METRIC") or "forecast_calls") .. '"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("KEY") or "")
local pause = tonumber(os.getenv("DELAY_MS") or "0")
function delay()
  return pause
end
