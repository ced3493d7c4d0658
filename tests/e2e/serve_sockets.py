#!/usr/bin/env python3
"""Raw-socket clients for tests/e2e/serve.sh (loopback only, every wait
bounded): what curl cannot send or hold.

    serve_sockets.py bytes PORT TOKEN      # requests with NUL/control bytes -> prints statuses
    serve_sockets.py trickle PORT TOKEN    # a head at one byte per 0.3 s -> prints "closed after S"
    serve_sockets.py body PORT TOKEN       # a body at one byte per 0.3 s -> same
    serve_sockets.py flood PORT TOKEN N ADDR… # N idle connections per ADDR, then a request from
                                           # 127.0.0.1; prints its status and which idle ones closed
"""
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def status_of(port, raw, src=None, timeout=10):
    s = socket.create_connection((HOST, port), timeout=timeout, source_address=(src, 0) if src else None)
    try:
        s.sendall(raw)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return "closed"
            data += chunk
        return data.split(b"\r\n")[0].split(b" ")[1].decode()
    finally:
        s.close()


def request(path, token, extra=b""):
    return b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + b"\r\n" + extra + b"\r\n"


def cmd_bytes(port, token):
    t = token.encode()
    cases = [
        ("clean", request(b"/v1/catalog", t)),
        ("nul-in-path", request(b"/v1/catalog\x00junk", t)),
        ("nul-in-token", request(b"/v1/catalog", t + b"\x00zz")),
        ("ctl-in-token", request(b"/v1/catalog", t + b"\x01")),
        ("del-in-token", request(b"/v1/catalog", t + b"\x7f")),
        ("nul-in-range", request(b"/v1/bundles/75/2026-10", t, b"Range: bytes=0-9\x00,5-6\r\n")),
        ("ctl-in-header", request(b"/v1/catalog", t, b"X-Note: a\x1bb\r\n")),
        ("nul-in-name", request(b"/v1/catalog", t, b"X-N\x00ote: ab\r\n")),
    ]
    for name, raw in cases:
        print(name, status_of(port, raw))


def time_to_close(s, payload, step=0.3, limit=12.0):
    """Sends payload one byte per step; returns seconds until the server
    closed the connection, or None when it was still open after limit."""
    t0 = time.monotonic()
    s.settimeout(step)
    for b in payload:
        if time.monotonic() - t0 > limit:
            return None
        try:
            s.sendall(bytes([b]))
        except OSError:
            return time.monotonic() - t0
        try:
            if s.recv(4096) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            pass
        except OSError:
            return time.monotonic() - t0
    return None


def cmd_trickle(port, token):
    s = socket.create_connection((HOST, port), timeout=5)
    # a long head: it would take 0.3 s × ~200 bytes = 60 s to send whole
    head = request(b"/v1/catalog", token.encode(), b"X-Pad: " + b"p" * 120 + b"\r\n")
    t = time_to_close(s, head)
    print("closed after %.1f" % t if t is not None else "still open")


def cmd_body(port, token):
    s = socket.create_connection((HOST, port), timeout=5)
    head = (b"GET /v1/catalog HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
            b"\r\nContent-Length: 200\r\n\r\n")
    s.sendall(head)
    t = time_to_close(s, b"b" * 200)
    print("closed after %.1f" % t if t is not None else "still open")


def closed_ones(socks, wait=0.05):
    """Indexes of the sockets the server has closed: each one is given
    `wait` seconds (all at once, not one after the other: 129 sockets
    waited for in turn took 6 s), then read without blocking."""
    time.sleep(wait)
    ready, _, _ = select.select(socks, [], [], 0)
    gone = []
    for i, s in enumerate(socks):
        if s not in ready:
            continue
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                gone.append(i)
        except BlockingIOError:
            pass
        except OSError:
            gone.append(i)
    return gone


def cmd_flood(port, token, n, addrs):
    idle = []
    for a in addrs:
        for _ in range(n):
            idle.append((a, socket.create_connection((HOST, port), timeout=5, source_address=(a, 0))))
            time.sleep(0.002)  # a clear "oldest"
    time.sleep(0.3)
    t0 = time.monotonic()
    st = status_of(port, request(b"/v1/catalog", token.encode()), timeout=8)
    print("request", st, "after %.1f" % (time.monotonic() - t0))
    time.sleep(0.3)
    gone = closed_ones([s for _, s in idle])
    print("closed", " ".join(map(str, gone)) if gone else "none")
    for _, s in idle:
        s.close()


def main():
    cmd, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if cmd == "bytes":
        cmd_bytes(port, token)
    elif cmd == "trickle":
        cmd_trickle(port, token)
    elif cmd == "body":
        cmd_body(port, token)
    elif cmd == "flood":
        cmd_flood(port, token, int(sys.argv[4]), sys.argv[5:])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
