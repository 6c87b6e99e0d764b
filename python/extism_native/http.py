"""HTTP for plugins: the transport that performs the guest's requests (and fetches manifest
``url`` sources).

The C core decides what is allowed (``allowed_hosts``, checked again at every redirect), limits
the response size while it is read and follows redirects itself; a transport performs exactly
one request.  The default, :func:`default_transport`, uses :mod:`http.client` from the standard
library.  Pass your own to ``Plugin(..., http_transport=...)`` - a proxy, a mock, another
client::

    def transport(request: HttpRequest) -> HttpResponse:
        return HttpResponse(200, {"content-type": "text/plain"}, b"hello")
"""

from __future__ import annotations

import http.client
import urllib.parse
from typing import Any, Callable, Dict, Iterable, Iterator, Mapping, Optional, Tuple, Union

from ._callbacks import context_of
from ._native import ffi, lib

__all__ = ["HttpRequest", "HttpResponse", "Transport", "default_transport"]

_CHUNK = 64 * 1024
_PATH_SAFE = "/%:@!$&'()*+,;=~-._"


class HttpRequest:
    """One request of a plugin (never a redirect the transport should follow).

    Attributes:
        url: absolute http or https URL.
        method: upper-case method, e.g. "GET".
        headers: request headers.
        body: request body, or None.
        timeout: seconds the request may take (the call's remaining time), or None.
    """

    __slots__ = ("url", "method", "headers", "body", "timeout")

    def __init__(self, url: str, method: str = "GET", headers: Optional[Dict[str, str]] = None,
                 body: Optional[bytes] = None, timeout: Optional[float] = None) -> None:
        self.url = url
        self.method = method
        self.headers = dict(headers or {})
        self.body = body
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"HttpRequest({self.method} {self.url})"


class HttpResponse:
    """What a transport returns.

    Args:
        status: the HTTP status code.
        headers: a mapping, or (name, value) pairs (repeated names are kept).
        body: bytes, or an iterable of bytes chunks (read only as far as the plugin's
            ``max_http_response_bytes`` allows).
    """

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int,
                 headers: Union[Mapping[str, str], Iterable[Tuple[str, str]]] = (),
                 body: Union[bytes, Iterable[bytes]] = b"") -> None:
        self.status = int(status)
        self.headers = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        self.body = body

    def chunks(self) -> Iterator[bytes]:
        """The body as a sequence of byte strings (a bytes body is one piece)."""
        if isinstance(self.body, (bytes, bytearray, memoryview)):
            yield bytes(self.body)
        else:
            for chunk in self.body:
                yield bytes(chunk)


Transport = Callable[[HttpRequest], HttpResponse]


def default_transport(request: HttpRequest) -> HttpResponse:
    """Perform one request with :mod:`http.client` (no redirects followed)."""
    parts = urllib.parse.urlsplit(request.url)
    conn_class = (http.client.HTTPSConnection if parts.scheme == "https"
                  else http.client.HTTPConnection)
    conn = conn_class(parts.hostname or "", parts.port, timeout=request.timeout)
    # a guest may send any text: non-ASCII is sent percent-encoded (as UTF-8), as browsers do
    path = urllib.parse.quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + urllib.parse.quote(parts.query, safe=_PATH_SAFE + "?")
    try:
        conn.request(request.method, path, body=request.body, headers=request.headers)
        response = conn.getresponse()
    except BaseException:
        conn.close()
        raise

    def body() -> Iterator[bytes]:
        try:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            conn.close()

    return HttpResponse(response.status, response.getheaders(), body())


def _request_from_c(req: Any) -> HttpRequest:
    headers = {ffi.string(req.header_names[i]).decode("utf-8", "replace"):
               ffi.string(req.header_values[i]).decode("utf-8", "replace")
               for i in range(req.n_headers)}
    body = ffi.buffer(req.body, req.body_len)[:] if req.body != ffi.NULL else None
    timeout = None if req.timeout_ns < 0 else req.timeout_ns / 1e9
    return HttpRequest(ffi.string(req.url).decode("utf-8", "replace"),
                       ffi.string(req.method).decode("ascii", "replace"), headers, body, timeout)


def _fail(resp: Any, message: str) -> int:
    lib.exn_http_response_fail(resp, message.encode("utf-8", "replace")[:500])
    return 1


@ffi.def_extern()
def _exn_py_http(userdata: Any, req: Any, resp: Any) -> int:
    ctx = context_of(userdata) if userdata != ffi.NULL else None
    transport = ctx.http_transport if ctx is not None and ctx.http_transport else None
    try:
        request = _request_from_c(req)
        response = (transport or default_transport)(request)
        if not isinstance(response, HttpResponse):
            raise TypeError(f"an HTTP transport must return an HttpResponse, not "
                            f"{type(response).__name__}")
        lib.exn_http_response_status(resp, response.status)
        for name, value in response.headers:
            n, v = str(name).encode("utf-8"), str(value).encode("utf-8")
            lib.exn_http_response_header(resp, n, len(n), v, len(v))
        chunks = response.chunks()
        try:
            for chunk in chunks:
                if lib.exn_http_response_body(resp, chunk, len(chunk)):
                    break  # too large: stop reading here
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return 0
    except (OSError, http.client.HTTPException) as exc:
        if transport is not None and ctx is not None:
            ctx.error = exc  # a user's transport: give its exception back
        return _fail(resp, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        if transport is None:
            # the default transport: whatever the guest's request made it raise (ValueError
            # for "http://[127.0.0.1]/", UnicodeError...) is that request's failure: HttpError
            return _fail(resp, f"{type(exc).__name__}: {exc}")
        if ctx is not None:
            ctx.error = exc  # a user's transport: Plugin.call raises it again
        return _fail(resp, f"the HTTP transport raised {type(exc).__name__}: {exc}")
    except BaseException as exc:
        if ctx is not None:
            ctx.error = exc  # Plugin.call raises it again
        return _fail(resp, f"the HTTP transport raised {type(exc).__name__}: {exc}")


# manifest url sources, and plugins without a transport of their own
lib.exn_set_http_transport(lib._exn_py_http, ffi.NULL)
