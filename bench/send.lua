-- POST /audio/{id}/send to 10 stores; the path comes from the command line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"externalIds":["b01","b02","b03","b04","b05","b06","b07","b08","b09","b10"]}'
