"""The demo's web service: answers /healthz with "ok" on the address and port serve.conf names."""
import http.server

conf = dict(line.strip().split("=", 1) for line in open("serve.conf") if "=" in line and not line.startswith("#"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n" if self.path == "/healthz" else f"web on {conf['bind']} ({conf['environment']})\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer((conf["bind"], int(conf["port"])), Handler).serve_forever()
