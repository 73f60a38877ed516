// Sockets inside one sandbox, with real programs: a python3 HTTP server and client over
// loopback move a 100 MiB body intact; a UDP echo; file descriptors passed over a unix
// socket between processes. Each script prints a verdict the native run must print too.

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native, sandboxed } from './helpers.js';

const PY = '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'tsvisor-net-'));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

const HTTP = script('http_big.py', `
import hashlib, http.server, sys, threading, urllib.request
SIZE = int(sys.argv[1])
block = bytes(range(256)) * 4096
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        left = SIZE
        while left:
            n = min(left, len(block))
            self.wfile.write(block[:n])
            left -= n
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
t = threading.Thread(target=srv.handle_request)
t.start()
got, n = hashlib.sha256(), 0
with urllib.request.urlopen("http://127.0.0.1:%d/" % srv.server_address[1]) as r:
    while True:
        d = r.read(1 << 20)
        if not d: break
        got.update(d); n += len(d)
t.join()
want, left = hashlib.sha256(), SIZE
while left:
    k = min(left, len(block)); want.update(block[:k]); left -= k
print("bytes", n, "intact", got.hexdigest() == want.hexdigest())
`);

const UDP_ECHO = script('udp_echo.py', `
import os, socket
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 0))
port = srv.getsockname()[1]
pid = os.fork()
if pid == 0:
    for _ in range(100):
        data, addr = srv.recvfrom(2048)
        srv.sendto(data.upper(), addr)
    os._exit(0)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(10)
ok = 0
for i in range(100):
    msg = b"echo-%d" % i
    c.sendto(msg, ("127.0.0.1", port))
    data, addr = c.recvfrom(2048)
    ok += data == msg.upper() and addr == ("127.0.0.1", port)
os.waitpid(pid, 0)
print("udp echoes", ok)
`);

const FD_PASS = script('fd_pass.py', `
import os, socket
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    a.close()
    msg, fds, flags, addr = socket.recv_fds(b, 16, 4)
    data = os.read(fds[0], 64)
    b.sendall(b"child got " + msg + b" and " + data)
    os._exit(0)
b.close()
socket.send_fds(a, [b"fd"], [r])
os.close(r)
os.write(w, b"pipe data")
print(a.recv(64).decode())
os.waitpid(pid, 0)
l = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
l.bind("\\0tsvisor-test-%d" % os.getpid())
l.listen(1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
c.connect(l.getsockname())
s, _ = l.accept()
c.send(b"one"); c.send(b"two")
print("seqpacket", s.recv(10), s.recv(10), s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED) != 0)
`);

const ASYNCIO = script('asyncio_echo.py', `
import asyncio
async def handle(r, w):
    while True:
        d = await r.read(65536)
        if not d: break
        w.write(d); await w.drain()
    w.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async def client(i):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        data = bytes([i]) * 200000
        w.write(data); await w.drain()
        got = await r.readexactly(len(data))
        w.close(); await w.wait_closed()
        return got == data
    res = await asyncio.gather(*(client(i) for i in range(20)))
    print("asyncio clients ok", sum(res))
    srv.close(); await srv.wait_closed()
asyncio.run(main())
`);

describe.skipIf(!existsSync(PY))('sockets inside one sandbox (python3)', () => {
  it('HTTP over loopback moves a 100 MiB body intact', () => {
    const argv = [PY, HTTP, String(100 * 1024 * 1024)];
    const s = sandboxed(argv);
    expect(s.stderr).not.toMatch(/Traceback/);
    expect(s.stdout.trim()).toBe('bytes 104857600 intact True');
    expect(s.status).toBe(0);
  }, 120_000);

  it('UDP echo between two processes', () => {
    const n = native([PY, UDP_ECHO]);
    expect(n.stdout.trim()).toBe('udp echoes 100');
    const s = sandboxed([PY, UDP_ECHO]);
    expect(s.stdout).toBe(n.stdout);
    expect(s.status).toBe(0);
  }, 60_000);

  it('passes a pipe fd over a unix socket and keeps seqpacket boundaries', () => {
    const n = native([PY, FD_PASS]);
    expect(n.stdout).toContain('child got fd and pipe data');
    const s = sandboxed([PY, FD_PASS]);
    expect(s.stdout).toBe(n.stdout);
    expect(s.status).toBe(0);
  }, 60_000);

  it('serves 20 concurrent asyncio (epoll) echo clients', () => {
    const s = sandboxed([PY, ASYNCIO]);
    expect(s.stdout.trim()).toBe('asyncio clients ok 20');
    expect(s.status).toBe(0);
  }, 60_000);
});
