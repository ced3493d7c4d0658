"""cdp.py — a minimal Chrome DevTools Protocol client for the tests:
headless Chromium started with --remote-debugging-pipe (fds 3 and 4, no
port), optionally inside an empty network namespace (unshare -n)."""
import fcntl
import json
import os
import select
import subprocess
import time


class Browser:
    def __init__(self, profile, isolated, deadline):
        self.deadline = deadline
        to_chrome, self.w = os.pipe()
        self.r, from_chrome = os.pipe()
        # move the child's ends above 10, so dup2 onto 3 and 4 cannot clobber them
        a, b = fcntl.fcntl(to_chrome, fcntl.F_DUPFD, 10), fcntl.fcntl(from_chrome, fcntl.F_DUPFD, 10)
        os.close(to_chrome), os.close(from_chrome)

        def wire():
            os.dup2(a, 3)
            os.dup2(b, 4)

        cmd = (["unshare", "-n"] if isolated else []) + ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
               "--remote-debugging-pipe", "--user-data-dir=" + profile, "--no-first-run",
               "--no-default-browser-check", "--disable-background-networking", "--disable-extensions",
               "--disable-sync", "--disable-component-update", "--window-size=1280,1000", "about:blank"]
        self.proc = subprocess.Popen(cmd, pass_fds=(3, 4), preexec_fn=wire, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(profile, "stderr.txt"), "wb"))
        os.close(a), os.close(b)
        self.buf, self.next_id, self.events = b"", 0, []

    def _read_message(self):
        while b"\0" not in self.buf:
            left = self.deadline - time.time()
            assert left > 0, "browser timed out"
            ready, _, _ = select.select([self.r], [], [], left)
            assert ready, "browser timed out"
            chunk = os.read(self.r, 1 << 20)
            assert chunk, "browser exited"
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read_message()
            if m.get("id") == self.next_id:
                assert "error" not in m, (method, m["error"])
                return m["result"]
            self.events.append(m)

    def wait_event(self, name):
        for i, e in enumerate(self.events):
            if e.get("method") == name:
                return self.events.pop(i)
        while True:
            m = self._read_message()
            if m.get("method") == name:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.call("Browser.close")
        except AssertionError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def evaluate(br, session, expr):
    r = br.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session)
    assert "exceptionDetails" not in r, r
    return r["result"].get("value")


def wait_ready(br, session, want):
    while True:
        if evaluate(br, session, "document.body && document.body.dataset.ready") == want:
            return
        assert time.time() < br.deadline, ("page never ready", want)
        time.sleep(0.05)
