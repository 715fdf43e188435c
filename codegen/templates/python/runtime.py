# maand hook SDK, Python runtime: hand-written in codegen/templates/python/runtime.py.
#
# Standard library only, Python >= 3.9: hook scripts must run on a bare interpreter without
# `pip install`. In the template, each constant marked "codegen:value" is left empty; the
# generator fills it from openapi/openapi.json and the router's and hook engine's definitions,
# so no header name, route path or variable name is written by hand.
import http.client
import json
import os
import urllib.parse

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


class MaandAPIError(Exception):
    """An API call failed: `status_code` is the HTTP status (None when the API could not be
    reached), `message` and `code` are the server's."""

    def __init__(self, status_code, message, code=None, response=None):
        super().__init__("%s %s" % (status_code, message) if status_code else message)
        self.status_code = status_code
        self.message = message
        self.code = code
        self.response = response


# The name `requests` users catch.
HTTPError = MaandAPIError


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
        """(message, code) from an error response; falls back to the raw text or reason."""
        try:
            body = self.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return body["message"], body.get("code")
        return (self.text.strip() or self.reason), None

    def raise_for_status(self):
        if not self.ok:
            message, code = self.error_body()
            raise MaandAPIError(self.status_code, message, code, self)
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
        raise MaandAPIError(None, "%s must be a port number, got %r" % (ENV["api_port"], port))


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


def request(method, path, query=None, body=None):
    """One API call. There is deliberately no client timeout: a semaphore acquire may wait up to
    an hour, and maand already bounds every hook by its timeout_seconds."""
    host, port = api_address()
    target = path + encode_query(query)
    data = None if body is None else json.dumps(body).encode("utf-8")
    url = "http://%s:%d%s" % (host, port, target)
    conn = http.client.HTTPConnection(host, port)
    try:
        conn.request(method, target, body=data, headers=request_headers(data is not None))
        res = conn.getresponse()
        content = res.read()
        return Response(res.status, res.reason, dict(res.getheaders()), content, method, url)
    except (OSError, http.client.HTTPException) as e:
        raise MaandAPIError(None, "cannot reach the maand runtime API at %s: %s" % (url, e))
    finally:
        conn.close()


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
