"""N sequential requests on one keep-alive connection: GET path with a Bearer key.
Prints the requests made and the response size; fails on any status but 200."""
import http.client
import sys

port, path, key, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
size = 0
for _ in range(n):
    conn.request("GET", path, headers={"Authorization": "Bearer " + key})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("status %d: %s" % (r.status, body[:200]))
    size = len(body)
print("requests: %d, response %d bytes" % (n, size))
