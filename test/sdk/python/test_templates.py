"""Unit tests of the hand-written Python SDK templates (codegen/templates/python).

Run by test/sdk/templates.test.ts, which fills the templates' codegen:value lines with the
generator's real values into MAAND_TEMPLATE_DIR and passes those values as MAAND_SDK_VALUES,
so nothing here repeats a header name or variable name.
"""
import http.server
import json
import os
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.environ["MAAND_TEMPLATE_DIR"])
sys.dont_write_bytecode = True

import runtime  # noqa: E402
import ssh  # noqa: E402

VALUES = json.loads(os.environ["MAAND_SDK_VALUES"])
ENV = VALUES["ENV"]
DEFAULT_CONF_TEXT = os.environ["MAAND_DEFAULT_CONF"]
DEFAULT_CONF = json.loads(os.environ["MAAND_DEFAULT_CONF_JSON"])

# ssh.py's codegen:strip imports are gone in the filled copy; wire in what it uses.
ssh.allocation_ip = runtime.allocation_ip
ssh.job_name = runtime.job_name


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class EnvCase(unittest.TestCase):
    def setUp(self):
        self._saved = dict(os.environ)
        for name in ENV.values():
            os.environ.pop(name, None)

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self._saved)


class FilledValues(unittest.TestCase):
    def test_generator_filled_every_constant(self):
        for name in ("HEADER_ENV", "AUTH_HEADER", "AUTH_SCHEME", "CONTENT_TYPE_HEADER", "JSON_CONTENT_TYPE", "DEFAULT_HOST", "DEFAULT_PORT", "ENV"):
            self.assertEqual(getattr(runtime, name), VALUES[name], name)
        self.assertEqual(ssh.SSH_DEFAULTS, VALUES["SSH_DEFAULTS"])


class ResponseTest(unittest.TestCase):
    def make(self, status, body, reason="R"):
        return runtime.Response(status, reason, {}, body.encode("utf-8"), "GET", "http://x/y")

    def test_ok_and_accessors(self):
        r = self.make(200, '{"a": 1}')
        self.assertTrue(r.ok)
        self.assertTrue(bool(r))
        self.assertEqual(r.text, '{"a": 1}')
        self.assertEqual(r.json(), {"a": 1})
        self.assertIs(r.raise_for_status(), r)
        self.assertEqual(repr(r), "<Response [200]>")
        self.assertTrue(self.make(302, "").ok)

    def test_raise_for_status_carries_status_message_and_code(self):
        r = self.make(400, '{"message": "Invalid or unauthorized namespace", "code": "X"}')
        self.assertFalse(r.ok)
        self.assertFalse(bool(r))
        with self.assertRaises(runtime.MaandAPIError) as cm:
            r.raise_for_status()
        e = cm.exception
        self.assertEqual(e.status_code, 400)
        self.assertEqual(e.message, "Invalid or unauthorized namespace")
        self.assertEqual(e.code, "X")
        self.assertIs(e.response, r)
        self.assertEqual(str(e), "400 Invalid or unauthorized namespace")
        self.assertIs(runtime.HTTPError, runtime.MaandAPIError)

    def test_error_without_json_uses_text_then_reason(self):
        with self.assertRaises(runtime.MaandAPIError) as cm:
            self.make(502, "bad gateway\n").raise_for_status()
        self.assertEqual(cm.exception.message, "bad gateway")
        with self.assertRaises(runtime.MaandAPIError) as cm:
            self.make(500, "", reason="Internal Server Error").raise_for_status()
        self.assertEqual(cm.exception.message, "Internal Server Error")
        self.assertIsNone(cm.exception.code)

    def test_json_of_non_json_raises_value_error(self):
        with self.assertRaises(ValueError):
            self.make(200, "not json").json()


class AddressAndHeaders(EnvCase):
    def test_address_defaults_to_the_document_server(self):
        self.assertEqual(runtime.api_address({}), (VALUES["DEFAULT_HOST"], VALUES["DEFAULT_PORT"]))
        env = {ENV["api_host"]: "127.0.0.9", ENV["api_port"]: "9999"}
        self.assertEqual(runtime.api_address(env), ("127.0.0.9", 9999))

    def test_bad_port_is_a_clear_error(self):
        with self.assertRaises(runtime.MaandAPIError) as cm:
            runtime.api_address({ENV["api_port"]: "80a"})
        self.assertIn(ENV["api_port"], cm.exception.message)
        self.assertIsNone(cm.exception.status_code)

    def test_scope_headers_token_and_content_type(self):
        env = {ENV["allocation_id"]: "A", ENV["event"]: "cli", ENV["hook"]: "h", ENV["command"]: "c", ENV["api_token"]: "T"}
        headers = runtime.request_headers(True, env)
        expected = {}
        for name, variables in VALUES["HEADER_ENV"].items():
            expected[name] = next(env[v] for v in variables if env.get(v))
        expected[VALUES["AUTH_HEADER"]] = VALUES["AUTH_SCHEME"] + " T"
        expected[VALUES["CONTENT_TYPE_HEADER"]] = VALUES["JSON_CONTENT_TYPE"]
        self.assertEqual(headers, expected)

    def test_hook_name_wins_over_command_and_command_is_the_fallback(self):
        command_header = [h for h, vs in VALUES["HEADER_ENV"].items() if ENV["hook"] in vs][0]
        self.assertEqual(runtime.request_headers(False, {ENV["hook"]: "h", ENV["command"]: "c"})[command_header], "h")
        self.assertEqual(runtime.request_headers(False, {ENV["hook"]: "", ENV["command"]: "c"})[command_header], "c")

    def test_unset_values_are_left_out(self):
        self.assertEqual(runtime.request_headers(False, {}), {})
        self.assertEqual(runtime.request_headers(False, {ENV["api_token"]: ""}), {})

    def test_encode_query(self):
        self.assertEqual(runtime.encode_query(None), "")
        self.assertEqual(runtime.encode_query({"a": None}), "")
        self.assertEqual(runtime.encode_query({"ns": "vars/job/a b", "n": 3, "t": True, "f": False, "x": None}),
                         "?ns=vars%2Fjob%2Fa+b&n=3&t=true&f=false")

    def test_drop_none(self):
        self.assertEqual(runtime.drop_none({"a": None, "b": 0, "c": ""}), {"b": 0, "c": ""})


class Context(EnvCase):
    def test_context_reads_the_hook_environment(self):
        self.assertIsNone(runtime.allocation_id())
        os.environ.update({ENV["allocation_id"]: "id", ENV["allocation_ip"]: "10.0.0.1", ENV["allocation_index"]: "2",
                           ENV["job"]: "api", ENV["event"]: "cli", ENV["hook"]: "hook_x", ENV["disabled"]: "1"})
        self.assertEqual((runtime.allocation_id(), runtime.allocation_ip(), runtime.allocation_index(), runtime.job_name(),
                          runtime.hook_event(), runtime.hook_name()), ("id", "10.0.0.1", "2", "api", "cli", "hook_x"))
        self.assertTrue(runtime.is_allocation_disabled())
        os.environ[ENV["disabled"]] = "0"
        self.assertFalse(runtime.is_allocation_disabled())

    def test_one_shot_prefers_ONE_SHOT(self):
        b, a, o = ENV["batch_index"], ENV["allocation_index"], ENV["one_shot"]
        self.assertTrue(runtime.is_one_shot({b: "0", a: "0"}))
        self.assertFalse(runtime.is_one_shot({b: "1", a: "0"}))
        self.assertFalse(runtime.is_one_shot({b: "0", a: "1"}))
        self.assertFalse(runtime.is_one_shot({}))
        # a custom rollout order put index 0 in batch 1: ONE_SHOT decides, both ways
        self.assertTrue(runtime.is_one_shot({o: "1", b: "0", a: "3"}))
        self.assertFalse(runtime.is_one_shot({o: "0", b: "0", a: "0"}))
        self.assertTrue(runtime.is_one_shot({o: "", b: "0", a: "0"}))
        os.environ.update({o: "1", b: "5", a: "5"})
        self.assertTrue(runtime.is_one_shot())


class Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else None
        Recorder.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        status = 404 if self.path.startswith("/missing") else 200
        payload = json.dumps({"message": "nope", "code": "NOPE"} if status == 404 else {"ok": True}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = handle_any


class RequestOverHttp(EnvCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        super().setUp()
        Recorder.seen = []
        os.environ.update({ENV["api_host"]: "127.0.0.1", ENV["api_port"]: str(self.server.server_address[1]),
                           ENV["allocation_id"]: "alloc-1", ENV["event"]: "cli", ENV["hook"]: "hook_x", ENV["api_token"]: "tok"})

    def header(self, seen, name):
        return {k.lower(): v for k, v in seen["headers"].items()}.get(name.lower())

    def test_get_sends_query_and_no_body(self):
        r = runtime.request("GET", "/p", query={"namespace": "vars/job/api", "key": "k", "skip": None})
        self.assertEqual((r.status_code, r.json()), (200, {"ok": True}))
        seen = Recorder.seen[0]
        self.assertEqual((seen["method"], seen["path"], seen["body"]), ("GET", "/p?namespace=vars%2Fjob%2Fapi&key=k", None))
        self.assertIsNone(self.header(seen, VALUES["CONTENT_TYPE_HEADER"]))
        self.assertEqual(self.header(seen, VALUES["AUTH_HEADER"]), VALUES["AUTH_SCHEME"] + " tok")
        for name, variables in VALUES["HEADER_ENV"].items():
            self.assertEqual(self.header(seen, name), next(os.environ[v] for v in variables if os.environ.get(v)))

    def test_put_sends_json_body(self):
        r = runtime.request("PUT", "/p", body={"value": "é", "ttl": 0})
        self.assertTrue(r.ok)
        seen = Recorder.seen[0]
        self.assertEqual(json.loads(seen["body"]), {"value": "é", "ttl": 0})
        self.assertEqual(self.header(seen, VALUES["CONTENT_TYPE_HEADER"]), VALUES["JSON_CONTENT_TYPE"])

    def test_error_status_is_a_response_not_an_exception(self):
        r = runtime.request("DELETE", "/missing")
        self.assertEqual(r.status_code, 404)
        with self.assertRaises(runtime.MaandAPIError) as cm:
            r.raise_for_status()
        self.assertEqual((cm.exception.status_code, cm.exception.message, cm.exception.code), (404, "nope", "NOPE"))

    def test_unreachable_api_raises_with_the_address(self):
        port = closed_port()
        os.environ[ENV["api_port"]] = str(port)
        with self.assertRaises(runtime.MaandAPIError) as cm:
            runtime.request("GET", "/p")
        self.assertIsNone(cm.exception.status_code)
        self.assertIn("127.0.0.1:%d" % port, cm.exception.message)


class Toml(unittest.TestCase):
    def test_minimal_reader_reads_the_default_maand_conf(self):
        self.assertEqual(ssh.parse_toml_minimal(DEFAULT_CONF_TEXT), DEFAULT_CONF)
        self.assertEqual(ssh.parse_toml(DEFAULT_CONF_TEXT), DEFAULT_CONF)

    def test_minimal_reader_values(self):
        text = "\n".join([
            "# comment", "", 'a = "x\\"y\\\\z\\n\\u00e9"  # trailing', "b = 'C:\\path'", "c = 1_000", "d = -7",
            "e = 0x1F", "f = 2.5", "g = true", "h = false  # no", '"quoted key" = 1',
        ])
        expected = {"a": 'x"y\\z\né', "b": "C:\\path", "c": 1000, "d": -7, "e": 31, "f": 2.5, "g": True, "h": False, "quoted key": 1}
        self.assertEqual(ssh.parse_toml_minimal(text), expected)
        if ssh._tomllib is not None:
            self.assertEqual(ssh._tomllib.loads(text), expected)

    def test_minimal_reader_rejects_what_it_does_not_understand(self):
        for bad, where in [("[table]", "line 1"), ("novalue", "line 1"), ('x = "open', "line 1"), ("\nx = yes", "line 2"),
                           ('x = "a" b', "line 1"), ('x = "\\q"', "line 1")]:
            with self.assertRaises(ValueError) as cm:
                ssh.parse_toml_minimal(bad)
            self.assertIn(where, str(cm.exception), bad)


class LoadSsh(EnvCase):
    def write_conf(self, text):
        import tempfile
        root = tempfile.mkdtemp(prefix="maand-ssh-")
        with open(os.path.join(root, "maand.conf"), "w") as f:
            f.write(text)
        return root

    def test_reads_maand_conf_under_BUCKET_ROOT(self):
        root = self.write_conf('ssh_user = "deploy"\nssh_key = "id_ed25519"\nssh_port = 2222\nuse_sudo = false\nhook_api_port = 0\n')
        os.environ[ENV["bucket_root"]] = root
        conf = ssh.load_ssh()
        user, key_path, use_sudo = conf
        self.assertEqual((user, key_path, use_sudo, conf.port), ("deploy", os.path.join(root, "secrets", "id_ed25519"), False, 2222))

    def test_defaults_for_absent_settings(self):
        conf = ssh.load_ssh(self.write_conf(""))
        d = VALUES["SSH_DEFAULTS"]
        self.assertEqual((conf.user, os.path.basename(conf.key_path), conf.use_sudo, conf.port),
                         (d["ssh_user"], d["ssh_key"], d["use_sudo"], d["ssh_port"]))

    def test_missing_root_or_conf_is_a_clear_error(self):
        with self.assertRaises(ssh.MaandSSHError) as cm:
            ssh.load_ssh()
        self.assertIn(ENV["bucket_root"], str(cm.exception))
        with self.assertRaises(ssh.MaandSSHError) as cm:
            ssh.load_ssh("/nonexistent-maand-bucket")
        self.assertIn("/nonexistent-maand-bucket/maand.conf", str(cm.exception))
        with self.assertRaises(ssh.MaandSSHError) as cm:
            ssh.load_ssh(self.write_conf("ssh_port = \n"))
        self.assertIn("maand.conf", str(cm.exception))


class SshCommands(EnvCase):
    conf = ssh.SshConfig("agent", "/b/secrets/worker.key", True, 2222)

    def test_ssh_argv(self):
        argv = ssh.ssh_command("10.0.0.1", "uptime && df", self.conf)
        self.assertEqual(argv[:5], ["ssh", "-i", "/b/secrets/worker.key", "-p", "2222"])
        self.assertIn("BatchMode=yes", argv)
        self.assertIn("ConnectTimeout=%d" % ssh.DEFAULT_CONNECT_TIMEOUT, argv)
        self.assertEqual(argv[-3:], ["--", "agent@10.0.0.1", "uptime && df"])

    def test_list_commands_are_quoted_and_sudo_wraps_the_whole_command(self):
        argv = ssh.ssh_command("10.0.0.1", ["echo", "a b", "$HOME"], self.conf, sudo=True, options=("-o", "X=1"))
        self.assertEqual(argv[-1], "sudo -n sh -c " + "'echo '\"'\"'a b'\"'\"' '\"'\"'$HOME'\"'\"''")
        self.assertEqual(argv[-5:-3], ["-o", "X=1"])

    def test_timeout_wraps_the_whole_remote_command_inside_sudo(self):
        argv = ssh.ssh_command("10.0.0.1", "a | b", self.conf, timeout=300, connect_timeout=7)
        self.assertEqual(argv[-1], "timeout 300 sh -c 'a | b'")
        self.assertIn("ConnectTimeout=7", argv)
        argv = ssh.ssh_command("10.0.0.1", "a | b", self.conf, sudo=True, timeout=5)
        self.assertEqual(argv[-1], "sudo -n timeout 5 sh -c 'a | b'")

    def test_host_keys_go_to_the_buckets_known_hosts(self):
        conf = ssh.SshConfig("agent", "/b/secrets/worker.key", False, 22, "/b")
        argv = ssh.ssh_command("10.0.0.1", "true", conf)
        self.assertIn("UserKnownHostsFile=/b/secrets/" + VALUES["KNOWN_HOSTS_FILE"], argv)

    def test_runner_and_make_commands(self):
        # runner.py <bucket_id> <target> --jobs <job>: the command line the worker-side runner takes
        self.assertEqual(ssh.runner_command("start", "api", "b1"), ["python3", "/opt/worker/b1/bin/runner.py", "b1", "start", "--jobs", "api"])
        self.assertEqual(ssh.make_command("reload", "api", "b1"), ["make", "-C", "/opt/worker/b1/jobs/api", "reload"])

    def test_target_context_uses_the_hook_environment(self):
        os.environ.update({ENV["allocation_ip"]: "10.0.0.7", ENV["job"]: "api"})
        self.assertEqual(ssh._target_context(None, None, "b1"), ("10.0.0.7", "api", "b1"))
        os.environ.pop(ENV["job"])
        with self.assertRaises(ssh.MaandSSHError):
            ssh._target_context(None, None, "b1")

    def test_run_ssh_runs_the_real_ssh_binary_captures_output_and_checks_by_default(self):
        import subprocess
        port = closed_port()
        conf = ssh.SshConfig("agent", "/nonexistent/key", False, port)
        res = ssh.run_ssh("127.0.0.1", "true", conf=conf, check=False, options=("-o", "UserKnownHostsFile=/dev/null"))
        self.assertEqual(res.returncode, 255)
        self.assertIn("port %d" % port, res.stderr)
        with self.assertRaises(subprocess.CalledProcessError) as cm:
            ssh.run_make_target("start", worker_ip="127.0.0.1", job="api", bucket_id="b1", conf=conf,
                                options=("-o", "UserKnownHostsFile=/dev/null"))
        self.assertEqual(cm.exception.returncode, 255)
        self.assertIn("port %d" % port, cm.exception.stderr)


class FindBucketRoot(EnvCase):
    def test_bucket_root_variable_then_the_nearest_maand_conf_above_the_working_directory(self):
        import pathlib
        import tempfile
        root = pathlib.Path(tempfile.mkdtemp(prefix="maand-root-")).resolve()
        (root / "maand.conf").write_text("")
        deep = root / "tmp" / "workers" / "10.0.0.1" / "jobs" / "api" / "_hooks"
        deep.mkdir(parents=True)
        os.environ[ENV["bucket_root"]] = str(root)
        self.assertEqual(ssh.find_bucket_root(), root)
        os.environ.pop(ENV["bucket_root"])
        cwd = os.getcwd()
        try:
            os.chdir(str(deep))
            self.assertEqual(ssh.find_bucket_root(), root)
            self.assertEqual(ssh.load_ssh().key_path, str(root / "secrets" / VALUES["SSH_DEFAULTS"]["ssh_key"]))
            os.chdir(tempfile.mkdtemp(prefix="maand-nobucket-"))
            with self.assertRaises(FileNotFoundError):
                ssh.find_bucket_root()
        finally:
            os.chdir(cwd)

    def test_key_in_the_bucket_root_is_the_originals_fallback(self):
        import tempfile
        root = tempfile.mkdtemp(prefix="maand-key-")
        with open(os.path.join(root, "maand.conf"), "w") as f:
            f.write('ssh_key = "k"\n')
        self.assertEqual(ssh.load_ssh(root).key_path, os.path.join(root, "secrets", "k"))
        open(os.path.join(root, "k"), "w").close()
        self.assertEqual(ssh.load_ssh(root).key_path, os.path.join(root, "k"))


class RequestsCompatibility(unittest.TestCase):
    """Scripts for the original catch requests.exceptions.HTTPError; once requests is loaded our
    errors are that class too. A stand-in module keeps this runnable where requests is not
    installed; test/sdk/original-clients.test.ts runs the real requests."""

    def test_errors_are_requests_http_errors_once_requests_is_loaded(self):
        import types
        saved = sys.modules.get("requests.exceptions")
        fake = types.ModuleType("requests.exceptions")

        class HTTPError(IOError):
            def __init__(self, *args, **kwargs):
                self.response = kwargs.pop("response", None)
                super().__init__(*args, **kwargs)

        fake.HTTPError = HTTPError
        try:
            res = runtime.Response(404, "Not Found", runtime.Headers(), b'{"message": "m", "code": "C", "detail": "d"}', "GET", "u")
            sys.modules.pop("requests.exceptions", None)
            with self.assertRaises(runtime.MaandAPIError) as plain:
                res.raise_for_status()
            self.assertNotIsInstance(plain.exception, HTTPError)
            sys.modules["requests.exceptions"] = fake
            with self.assertRaises(HTTPError) as cm:
                res.raise_for_status()
            e = cm.exception
            self.assertIsInstance(e, runtime.MaandAPIError)
            self.assertIs(e.response, res)
            self.assertEqual((e.status_code, e.message, e.code, e.detail), (404, "m", "C", "d"))
            self.assertEqual(str(e), "404 m: d")
        finally:
            if saved is None:
                sys.modules.pop("requests.exceptions", None)
            else:
                sys.modules["requests.exceptions"] = saved

    def test_headers_are_case_insensitive(self):
        h = runtime.Headers([("Content-Type", "application/json"), ("X-A", "1")])
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual(h.get("CONTENT-TYPE"), "application/json")
        self.assertIn("x-a", h)
        self.assertEqual(sorted(h), ["Content-Type", "X-A"])


if __name__ == "__main__":
    unittest.main()
