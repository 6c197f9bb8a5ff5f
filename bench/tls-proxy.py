"""A loopback HTTPS front for the benchmark provider, so a run pays a real TLS handshake as it
does against GitHub (bench/runtime-by-profile.sh). Forwards every GET to the plain-HTTP
provider, headers included, and returns its answer.

Usage: python3 bench/tls-proxy.py CERT KEY UPSTREAM PORT_FILE
  CERT, KEY   the server certificate chain and key (PEM)
  UPSTREAM    http://127.0.0.1:PORT of the provider
  PORT_FILE   written with the port listened on, once listening
"""

import http.client
import http.server
import os
import ssl
import sys
import urllib.parse


def main():
    cert, key, upstream, port_file = sys.argv[1:5]
    target = urllib.parse.urlsplit(upstream)

    class Forward(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # the client's delayed ACK add 40 ms to every answer.
        disable_nagle_algorithm = True

        def do_GET(self):
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            conn.request("GET", self.path, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            conn.close()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    partial = port_file + ".partial"
    with open(partial, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(partial, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
