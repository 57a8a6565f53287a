#!/usr/bin/env python3
"""Misbehaving clients for fault_test.sh, speaking the SP-over-TCP/IPC
framing of nng by hand: an 8-byte header (0x00 'S' 'P' 0x00, protocol,
2 reserved bytes), then messages as a 64-bit big-endian length and the
bytes (a REQ message starts with its 32-bit request id, high bit set).

  fault_tool.py garbage ADDR              random bytes, then close; then an
                                          SP header and a frame claiming 2^62
                                          bytes, then close
  fault_tool.py halftls HOST:PORT N SECS  N connections that send half a TLS
                                          ClientHello and wait SECS seconds
  fault_tool.py hold ADDR N SECS [sub]    N SP connections (REQ, or SUB with
                                          "sub") held open SECS s; prints how
                                          many the agent kept
  fault_tool.py noread ADDR N SECS        one connection pipelining N valid
                                          requests, never reading, held SECS
ADDR is HOST:PORT or a path (ipc).
"""
import os
import socket
import struct
import sys
import time

REQ = 0x30  # nng protocol numbers: REQ v0, SUB v0
SUB = 0x21
SP_HEADER = bytes([0, ord("S"), ord("P"), 0]) + struct.pack(">H", REQ) + b"\0\0"
SUB_HEADER = bytes([0, ord("S"), ord("P"), 0]) + struct.pack(">H", SUB) + b"\0\0"


def connect(addr, timeout=5.0):
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(addr)
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=timeout)
    return s


def request(req_id, method):
    """A secstat.v1.Request {request_id, method} as REQ sends it."""
    m = method.encode()
    body = bytes([0x08, req_id & 0x7F, 0x12, len(m)]) + m
    payload = struct.pack(">I", 0x80000000 | req_id) + body
    return struct.pack(">Q", len(payload)) + payload


def garbage(addr):
    s = connect(addr)
    s.sendall(os.urandom(4096))
    s.close()
    s = connect(addr)
    s.sendall(SP_HEADER + struct.pack(">Q", 1 << 62) + os.urandom(512))
    time.sleep(0.2)
    s.close()
    s = connect(addr)  # a header that is not SP at all
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    time.sleep(0.2)
    s.close()


def halftls(addr, n, secs):
    # TLS record header of a handshake message announcing 512 bytes, then
    # the first few bytes of a ClientHello: the agent waits for the rest.
    part = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03])
    socks = []
    for _ in range(n):
        s = connect(addr)
        s.sendall(part)
        socks.append(s)
    time.sleep(secs)
    for s in socks:
        s.close()


def alive(s):
    """True while the peer has not closed the connection."""
    s.setblocking(False)
    try:
        # Past the agent's SP header: EOF means it hung up on us.
        for _ in range(16):
            if s.recv(4096) == b"":
                return False
        return True
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def hold(addr, n, secs, header=SP_HEADER):
    socks = []
    for _ in range(n):
        s = connect(addr)
        s.sendall(header)
        socks.append(s)
    # Let the agent read the headers and decide.
    time.sleep(min(2.0, secs))
    kept = sum(1 for s in socks if alive(s))
    print(kept, flush=True)
    time.sleep(max(0.0, secs - 2.0))
    for s in socks:
        s.close()


def noread(addr, n, secs):
    s = connect(addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(SP_HEADER)
    s.settimeout(secs)
    sent = 0
    try:
        for i in range(n):
            s.sendall(request(i % 100 + 1, "GetCapabilities"))
            sent += 1
    except (socket.timeout, OSError):
        pass
    print(sent, flush=True)
    time.sleep(secs)
    s.close()


def main():
    cmd = sys.argv[1]
    if cmd == "garbage":
        garbage(sys.argv[2])
    elif cmd == "halftls":
        halftls(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "hold":
        sub = len(sys.argv) > 5 and sys.argv[5] == "sub"
        hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
             SUB_HEADER if sub else SP_HEADER)
    elif cmd == "noread":
        noread(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
