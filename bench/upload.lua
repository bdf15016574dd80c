-- POST /audio with a 1 MB MP3 as multipart/form-data; the file comes from $MP3.
local f = assert(io.open(os.getenv("MP3"), "rb"))
local data = f:read("*all")
f:close()
local boundary = "----soundcheck-bench-boundary"
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
wrk.body = "--" .. boundary .. "\r\n"
  .. 'Content-Disposition: form-data; name="file"; filename="bench.mp3"\r\n'
  .. "Content-Type: audio/mpeg\r\n\r\n" .. data .. "\r\n--" .. boundary .. "--\r\n"
