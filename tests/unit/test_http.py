"""HTTP (spec section 4) against a server on 127.0.0.1: allowed hosts and globs, redirects
re-checked at every hop, the response size limit enforced while reading, status, headers,
request bodies, the call's deadline, pluggable transports, and manifest url sources."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

import extism_native as extism
from conftest import u64s, wasm, wasm_path


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def route(self):
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/hello":
            self.reply(200, b"hello", [("X-Multi", "a"), ("X-Multi", "b"), ("X-Tag", "t1")])
        elif url.path == "/empty":
            self.reply(200, b"")
        elif url.path == "/big":
            self.reply(200, b"x" * int(q["n"]))
        elif url.path == "/endless":
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(100_000):  # ~6 GB if nobody stopped reading
                    self.wfile.write(b"y" * 65536)
            except OSError:
                pass
        elif url.path == "/redirect":
            self.reply(int(q.get("code", 302)), b"", [("Location", q["to"])])
        elif url.path == "/loop":
            self.reply(302, b"", [("Location", "/loop")])
        elif url.path == "/echo":
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            self.reply(200, json.dumps({"method": self.command, "body": body.decode(),
                                        "x-test": self.headers.get("X-Test")}).encode())
        elif url.path == "/status":
            self.reply(int(q["code"]), b"nf")
        elif url.path == "/slow":
            time.sleep(float(q["s"]))
            self.reply(200, b"late")
        elif url.path == "/wasm":
            self.reply(200, wasm("edge"))
        else:
            self.reply(404, b"no route")


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that stop reading (the size-limit tests) are expected


@pytest.fixture(scope="module")
def server():
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def plugin(allowed=("127.0.0.1",), config=None, **kwargs):
    manifest = {"wasm": [{"path": str(wasm_path("http"))}]}
    if allowed is not None:
        manifest["allowed_hosts"] = list(allowed)
    manifest.update(kwargs.pop("manifest", {}))
    return extism.Plugin(manifest, config=config, **kwargs)


def request(url, method="GET", headers=None):
    req = {"url": url, "method": method}
    if headers is not None:
        req["headers"] = headers
    return json.dumps(req)


def test_allowed_request_status_and_body(server):
    with plugin() as p:
        assert u64s(p.call("status")) == [0]  # no request yet
        assert p.call("request", request(server + "/hello")) == b"hello"
        assert u64s(p.call("status")) == [200]
        assert u64s(p.call("status")) == [200]  # persists across calls
        assert p.call("request", request(server + "/empty")) == b""  # empty body: handle 0


@pytest.mark.parametrize("allowed", [None, []])
def test_no_allowed_hosts_means_nothing_is_allowed(server, allowed):
    with plugin(allowed=allowed) as p:
        with pytest.raises(extism.HttpError, match=r"is not allowed \(host 127.0.0.1"):
            p.call("request", request(server + "/hello"))
        assert u64s(p.call("status")) == [0]


@pytest.mark.parametrize("pattern, ok", [
    ("*", True), ("127.0.0.*", True), ("127.*", True), ("*.0.0.1", True), ("127.0.0.?", True),
    ("127.0.0.2", False), ("10.*", False), ("*.example.com", False),
])
def test_globs(server, pattern, ok):
    with plugin(allowed=[pattern]) as p:
        if ok:
            assert p.call("request", request(server + "/hello")) == b"hello"
        else:
            with pytest.raises(extism.HttpError, match="not allowed"):
                p.call("request", request(server + "/hello"))


def test_redirects_are_followed_and_every_hop_is_checked(server):
    port = server.rsplit(":", 1)[1]
    with plugin() as p:
        # relative and absolute redirects to an allowed host are followed
        assert p.call("request", request(server + "/redirect?to=/hello")) == b"hello"
        assert p.call("request", request(f"{server}/redirect?to={server}/hello&code=301")) == b"hello"
        # a redirect to a host that is not allowed stops the request
        with pytest.raises(extism.HttpError, match=r"localhost:.* is not allowed \(a redirect\)"):
            p.call("request", request(f"{server}/redirect?to=http://localhost:{port}/hello"))
    with plugin(allowed=["127.0.0.1", "localhost"]) as p:
        assert p.call("request", request(f"{server}/redirect?to=http://localhost:{port}/hello")) == b"hello"


def test_redirect_loops_end(server):
    with plugin() as p:
        with pytest.raises(extism.HttpError, match="too many redirects"):
            p.call("request", request(server + "/loop"))


def test_response_size_limit(server):
    manifest = {"memory": {"max_http_response_bytes": 1000}}
    with plugin(manifest=manifest) as p:
        assert p.call("request", request(server + "/big?n=1000")) == b"x" * 1000
        with pytest.raises(extism.HttpError, match="exceeds the configured maximum number of bytes: 1000"):
            p.call("request", request(server + "/big?n=1001"))


def test_the_limit_is_enforced_while_reading(server):
    manifest = {"memory": {"max_http_response_bytes": 1 << 20}}
    with plugin(manifest=manifest) as p:
        start = time.perf_counter()
        with pytest.raises(extism.HttpError, match="exceeds"):
            p.call("request", request(server + "/endless"))
        assert time.perf_counter() - start < 10  # stopped after ~1 MiB, not 6 GB


def test_non_2xx_is_not_an_error(server):
    with plugin() as p:
        assert p.call("request", request(server + "/status?code=404")) == b"nf"
        assert u64s(p.call("status")) == [404]


def test_post_body_method_and_headers(server):
    with plugin(config={"body": "payload!"}) as p:
        out = json.loads(p.call("request", request(server + "/echo", "post", {"X-Test": "yes"})))
        assert out == {"method": "POST", "body": "payload!", "x-test": "yes"}


def test_response_headers_are_opt_in(server):
    with plugin() as p:
        p.call("request", request(server + "/hello"))
        assert p.call("headers") == b""
    with plugin(http_response_headers=True) as p:
        assert json.loads(p.call("headers")) == {}  # before any request
        p.call("request", request(server + "/hello"))
        headers = json.loads(p.call("headers"))
        assert headers["x-multi"] == "a, b"  # repeated headers keep every value
        assert headers["x-tag"] == "t1"
        assert headers["content-length"] == "5"


def test_the_request_gets_the_calls_remaining_time(server):
    with plugin(manifest={"timeout_ms": 300}) as p:
        start = time.perf_counter()
        with pytest.raises(extism.CallTimeoutError):
            p.call("request", request(server + "/slow?s=3"))
        assert time.perf_counter() - start < 1.5
        assert p.call("request", request(server + "/hello")) == b"hello"


@pytest.mark.parametrize("bad, why", [
    ("not json", "invalid HTTP request"),
    ('{"method": "GET"}', '"url" must be a string'),
    ('{"url": "ftp://127.0.0.1/x"}', "unsupported scheme"),
    ('{"url": "http://"}', "empty host"),
    ('{"url": "http://127.0.0.1/x", "headers": {"a": 1}}', "bad header"),
    ('{"url": "http://127.0.0.1/x", "headers": {"a": "b\\r\\nX-Evil: 1"}}', "bad header"),
    ('{"url": "http://127.0.0.1/x", "method": "G E T"}', "bad method"),
])
def test_invalid_requests(bad, why):
    with plugin() as p:
        with pytest.raises(extism.HttpError, match=why):
            p.call("request", bad)


def test_invalid_handle():
    with plugin() as p:
        with pytest.raises(extism.HttpError, match="invalid handle offset for HTTP request: 99999"):
            p.call("bad_handle")


def test_connection_refused_is_an_http_error():
    with plugin() as p:
        with pytest.raises(extism.HttpError, match="ConnectionRefusedError"):
            p.call("request", request("http://127.0.0.1:9/nothing"))
        assert u64s(p.call("status")) == [0]


def test_a_custom_transport():
    seen = []

    def transport(req: extism.HttpRequest) -> extism.HttpResponse:
        seen.append((req.method, req.url, req.headers, req.body, req.timeout))
        return extism.HttpResponse(201, [("X-A", "1")], iter([b"mock ", b"data"]))

    with plugin(allowed=["example.com"], config={"body": "b"}, http_transport=transport,
                http_response_headers=True) as p:
        out = p.call("request", request("https://example.com/path?q=1", "PUT", {"K": "v"}))
        assert out == b"mock data"
        assert u64s(p.call("status")) == [201]
        assert json.loads(p.call("headers")) == {"x-a": "1"}
        # allowed_hosts applies whatever the transport
        with pytest.raises(extism.HttpError, match="not allowed"):
            p.call("request", request("https://evil.example.org/"))
    assert seen == [("PUT", "https://example.com/path?q=1", {"K": "v"}, b"b", None)]


def test_a_raising_transport_raises_from_call():
    class Down(Exception):
        pass

    def transport(req):
        raise Down("no network here")

    with plugin(allowed=["*"], http_transport=transport) as p:
        with pytest.raises(Down) as info:
            p.call("request", request("http://example.com/"))
        assert isinstance(info.value.__cause__, extism.HttpError)


def test_url_source(server):
    data = wasm("edge")
    source = {"url": server + "/wasm", "hash": hashlib.sha256(data).hexdigest(),
              "headers": {"X-Test": "1"}, "method": "GET"}
    with extism.Plugin({"wasm": [source]}) as p:
        assert p.call("output_interior") == b"op"
    with pytest.raises(extism.ManifestError, match="HTTP status 404"):
        extism.Plugin({"wasm": [{"url": server + "/nothing"}]})
    with pytest.raises(extism.ManifestError, match="hash mismatch"):
        extism.Plugin({"wasm": [{"url": server + "/wasm", "hash": "0" * 64}]})
    with pytest.raises(extism.ManifestError, match="ConnectionRefused"):
        extism.Plugin({"wasm": [{"url": "http://127.0.0.1:9/x.wasm"}]})


# ---- issue 14 items 7 and 15 -------------------------------------------------------------------

def test_a_bracketed_ipv4_host_is_an_http_error(server):
    # the standard library raises ValueError for it: it escaped as such before
    with plugin() as p:
        with pytest.raises(extism.HttpError, match="ValueError"):
            p.call("request", request(server.replace("127.0.0.1", "[127.0.0.1]") + "/hello"))


def test_a_non_ascii_path_is_sent_percent_encoded(server):
    # (http.client raised UnicodeEncodeError, which escaped as such)
    with plugin() as p:
        p.call("request", request(server + "/hello\u00e9?q=\u00e9"))
        assert u64s(p.call("status")) == [404]


def test_a_denied_request_has_the_official_wording():
    with plugin(allowed=()) as p:
        with pytest.raises(extism.HttpError,
                           match=r"HTTP request to 'http://example.com/x' is not allowed"):
            p.call("request", request("http://example.com/x"))
