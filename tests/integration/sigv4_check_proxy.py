#!/usr/bin/env python3
"""An HTTP proxy that checks AWS Signature Version 4 before passing a request on.

service_dump_store_test puts it between dumpscope (whose requests libcurl signs) and s3rver,
which checks that an access key exists but never verifies a V4 signature. This is the
independent reader of the signatures: the canonical request and the signing key are computed
here from AWS's published algorithm with Python's hashlib/hmac, nothing shared with libcurl.

    sigv4_check_proxy.py UPSTREAM_PORT ACCESS_KEY SECRET_KEY LOG

Listens on 127.0.0.1 (a free port) and prints "listening on PORT" once it accepts connections.
A request whose signature is right goes on to 127.0.0.1:UPSTREAM_PORT and one line
"verified METHOD PATH" is appended to LOG; a wrong one is answered 403 SignatureDoesNotMatch
(S3's XML error) and "refused METHOD PATH: why" appended.
"""
import hashlib
import hmac
import http.client
import http.server
import sys
import urllib.parse

UPSTREAM_PORT = int(sys.argv[1])
ACCESS_KEY = sys.argv[2]
SECRET_KEY = sys.argv[3]
LOG = open(sys.argv[4], "a", buffering=1)


def sign(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def canonical_query(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    quote = lambda s: urllib.parse.quote(s, safe="-_.~")
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(pairs))


def check(handler, path, query):
    auth = handler.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no AWS4-HMAC-SHA256 Authorization header"
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, date, region, service, terminal = fields["Credential"].split("/")
    if key_id != ACCESS_KEY:
        return f"unknown access key {key_id}"
    signed = fields["SignedHeaders"].split(";")
    for name in ("host", "x-amz-date", "x-amz-content-sha256"):
        if name not in signed:
            return f"{name} is not signed"
    headers = []
    for name in signed:
        value = handler.headers.get(name)
        if value is None:
            return f"the signed header {name} was not sent"
        headers.append(f"{name}:{' '.join(value.split())}\n")
    amz_date = handler.headers["x-amz-date"]
    canonical = "\n".join([
        handler.command,
        urllib.parse.quote(urllib.parse.unquote(path), safe="/-_.~"),
        canonical_query(query),
        "".join(headers),
        ";".join(signed),
        handler.headers["x-amz-content-sha256"],
    ])
    scope = f"{date}/{region}/{service}/{terminal}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + SECRET_KEY).encode()
    for part in (date, region, service, terminal):
        key = sign(key, part)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["Signature"]):
        return "the signature does not match"
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        why = check(self, path, query)
        if why is not None:
            print(f"refused {self.command} {path}: {why}", file=LOG, flush=True)
            error = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch'
                     b"</Code><Message>" + why.encode() + b"</Message></Error>")
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            self.wfile.write(error)
            return
        print(f"verified {self.command} {path}", file=LOG, flush=True)
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM_PORT, timeout=60)
        forwarded = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
        upstream.request(self.command, self.path, body=body, headers=forwarded)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        # A HEAD answer keeps the length of the object it describes.
        length = answer.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
        if length is not None:
            self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on {server.server_address[1]}", flush=True)
server.serve_forever()
