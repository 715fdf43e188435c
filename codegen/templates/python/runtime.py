# maand hook SDK, Python runtime: hand-written in codegen/templates/python/runtime.py.
#
# Standard library only, Python >= 3.9: hook scripts must run on a bare interpreter without
# `pip install`. In the template, each constant marked "codegen:value" is left empty; the
# generator fills it from openapi/openapi.json and the router's and hook engine's definitions,
# so no header name, route path or variable name is written by hand.
import http.client
import json
import os
import sys
import urllib.parse
from collections.abc import MutableMapping

# Names of the variables the hook engine exports (server/hooks/env-names.ts).
ENV = {}  # codegen:value
# Request header -> the environment variables it is read from; the first non-empty one wins.
# The COMMAND header carries the hook name: env HOOK, with env COMMAND only as a fallback,
# because the API binds each token to the (allocation, event, hook) it was issued for.
HEADER_ENV = {}  # codegen:value
AUTH_HEADER = ""  # codegen:value
AUTH_SCHEME = ""  # codegen:value
CONTENT_TYPE_HEADER = ""  # codegen:value
JSON_CONTENT_TYPE = ""  # codegen:value
DEFAULT_HOST = ""  # codegen:value
DEFAULT_PORT = 0  # codegen:value


def _requests_http_error():
    """requests.exceptions.HTTPError when the script (or a library) has imported requests.

    Scripts written for the original maand catch `requests.exceptions.HTTPError`; they can only
    name it after importing requests, so looking in sys.modules finds it at no cost, where
    importing requests here would add ~80 ms to every hook that has it installed."""
    module = sys.modules.get("requests.exceptions")
    return getattr(module, "HTTPError", None)


class MaandAPIError(*((_requests_http_error(),) if _requests_http_error() else (Exception,))):
    """An API call failed: `status_code` is the HTTP status (None when the API could not be
    reached), `message` and `code` are the server's, `detail` its explanation when it sent one.
    Raised as a subclass of requests.exceptions.HTTPError whenever requests is loaded, so
    `except HTTPError` blocks of scripts written for the original maand still catch it."""

    def __init__(self, status_code, message, code=None, response=None, detail=None):
        text = "%s %s" % (status_code, message) if status_code else message
        super().__init__(text + (": %s" % detail if detail else ""))
        self.status_code = status_code
        self.message = message
        self.code = code
        self.detail = detail
        self.response = response


# The name `requests` users catch.
HTTPError = MaandAPIError
_COMPAT_ERRORS = {}


def api_error(status_code, message, code=None, response=None, detail=None):
    """A MaandAPIError that is also a requests.exceptions.HTTPError when requests is loaded."""
    cls = MaandAPIError
    http_error = _requests_http_error()
    if http_error is not None and not issubclass(cls, http_error):
        cls = _COMPAT_ERRORS.get(http_error)
        if cls is None:
            cls = _COMPAT_ERRORS[http_error] = type("MaandAPIError", (MaandAPIError, http_error), {"__module__": __name__})
    return cls(status_code, message, code, response, detail)


class Headers(MutableMapping):
    """Response headers with case-insensitive names, like requests' CaseInsensitiveDict."""

    def __init__(self, pairs=()):
        self._items = {}
        for name, value in pairs:
            self[name] = value

    def __getitem__(self, name):
        return self._items[name.lower()][1]

    def __setitem__(self, name, value):
        self._items[name.lower()] = (name, value)

    def __delitem__(self, name):
        del self._items[name.lower()]

    def __iter__(self):
        return (name for name, _ in self._items.values())

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return repr(dict(self.items()))


class Response(object):
    """The parts of a `requests.Response` hook scripts use."""

    def __init__(self, status_code, reason, headers, content, method, url):
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.content = content
        self.method = method
        self.url = url

    @property
    def ok(self):
        return 200 <= self.status_code < 400

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)

    def error_body(self):
        """(message, code, detail) of an error response; falls back to the raw text or reason."""
        try:
            body = self.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return body["message"], body.get("code"), body.get("detail")
        return (self.text.strip() or self.reason), None, None

    def raise_for_status(self):
        if not self.ok:
            message, code, detail = self.error_body()
            raise api_error(self.status_code, message, code, self, detail)
        return self

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return "<Response [%d]>" % self.status_code


def api_address(env=None):
    """(host, port) of the runtime API: env HOOK_API_HOST / HOOK_API_PORT, else openapi.json's server."""
    env = os.environ if env is None else env
    host = env.get(ENV["api_host"]) or DEFAULT_HOST
    port = env.get(ENV["api_port"]) or DEFAULT_PORT
    try:
        return host, int(port)
    except ValueError:
        raise api_error(None, "%s must be a port number, got %r" % (ENV["api_port"], port))


def request_headers(has_body, env=None, header_env=None):
    """The scope headers (allocation, event, hook), the bearer token when there is one, and the
    content type when a JSON body is sent. A scope header whose variables are all unset is left
    out, so the server answers with the note's "... header is missing" message."""
    env = os.environ if env is None else env
    header_env = HEADER_ENV if header_env is None else header_env
    headers = {}
    for name, variables in header_env.items():
        for variable in variables:
            value = env.get(variable)
            if value:
                headers[name] = value
                break
    token = env.get(ENV["api_token"])
    if token:
        headers[AUTH_HEADER] = "%s %s" % (AUTH_SCHEME, token)
    if has_body:
        headers[CONTENT_TYPE_HEADER] = JSON_CONTENT_TYPE
    return headers


def _query_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_query(query):
    """Query string for a GET: inputs travel as parameters (openapi.json), never as a body."""
    pairs = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


def drop_none(fields):
    """Optional inputs left as None are not sent, so the server applies its documented default."""
    return {k: v for k, v in fields.items() if v is not None}


class _Connection(object):
    """One keep-alive connection to the runtime API, reused by every call of the process: a new
    TCP connection per call cost ~0.9 ms. A reused connection the server has meanwhile closed
    (idle timeout) fails before any byte of the answer arrives; the call is then sent again
    once on a fresh connection, which is safe because the server never saw it."""

    def __init__(self):
        self.key = None
        self.conn = None

    def get(self, host, port):
        # A forked child must not talk over its parent's socket: the two would interleave.
        key = (host, port, os.getpid())
        if self.conn is None or self.key != key:
            if self.key is not None and self.key[2] == key[2]:
                self.close()
            self.conn, self.key = http.client.HTTPConnection(host, port), key
            return self.conn, False
        return self.conn, True

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None


_CONNECTION = _Connection()


def request(method, path, query=None, body=None):
    """One API call. There is deliberately no client timeout: a semaphore acquire may wait up to
    an hour, and maand already bounds every hook by its timeout_seconds."""
    host, port = api_address()
    target = path + encode_query(query)
    data = None if body is None else json.dumps(body).encode("utf-8")
    url = "http://%s:%d%s" % (host, port, target)
    headers = request_headers(data is not None)
    for attempt in (0, 1):
        conn, reused = _CONNECTION.get(host, port)
        try:
            conn.request(method, target, body=data, headers=headers)
            res = conn.getresponse()
            content = res.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
            _CONNECTION.close()
            if reused and attempt == 0:
                continue
            raise api_error(None, "cannot reach the maand runtime API at %s: %s" % (url, e))
        except (OSError, http.client.HTTPException) as e:
            _CONNECTION.close()
            raise api_error(None, "cannot reach the maand runtime API at %s: %s" % (url, e))
        if res.will_close:
            _CONNECTION.close()
        return Response(res.status, res.reason, Headers(res.getheaders()), content, method, url)


# Context: what the hook engine exports to every invocation. Values are the environment's
# strings (None when unset), the same in both SDKs.

def allocation_id():
    return os.environ.get(ENV["allocation_id"])


def allocation_ip():
    return os.environ.get(ENV["allocation_ip"])


def allocation_index():
    return os.environ.get(ENV["allocation_index"])


def job_name():
    return os.environ.get(ENV["job"])


def hook_event():
    return os.environ.get(ENV["event"])


def hook_name():
    return os.environ.get(ENV["hook"])


def is_allocation_disabled():
    return os.environ.get(ENV["disabled"]) == "1"


def is_one_shot(env=None):
    """True for exactly one invocation per run. maand exports ONE_SHOT for the first allocation
    of the first batch; the note's BATCH_INDEX/ALLOCATION_INDEX formula is only the fallback for
    older engines, as it picks nobody when a custom rollout order moves index 0 to a later batch."""
    env = os.environ if env is None else env
    one_shot = env.get(ENV["one_shot"])
    if one_shot:
        return one_shot == "1"
    return env.get(ENV["batch_index"]) == "0" and env.get(ENV["allocation_index"]) == "0"
