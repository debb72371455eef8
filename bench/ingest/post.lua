-- wrk script for bench/ingest: POSTs one upload body (BODY_FILE) with its Content-Type and an API key.
local f = io.open(os.getenv("BODY_FILE"), "rb")
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE")
wrk.headers["DD-API-KEY"] = os.getenv("API_KEY")
