// `--network=host` (hostinet): the app's TCP and UDP sockets are host sockets the Sentry
// drives, so the sandbox and the host meet on the host's loopback. A python HTTP server in
// the sandbox serves host curl, a client in the sandbox fetches from a host server, UDP
// echoes with a host socket, and an OCI container run with --network=host reaches a host
// server. Needs python3 and curl.

import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { compileC, ENV, native, sandboxed, TSVISOR } from './helpers.js';
import { NetRun } from './net_run.js';
import { OciDriver } from './oci_helpers.js';

const PY = '/usr/bin/python3';
const usable = ['/usr/bin/curl', PY].every((p) => existsSync(p));
const dir = mkdtempSync(join(tmpdir(), 'tsvisor-hostnet-'));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

const runs: NetRun[] = [];
function start(argv: string[]): NetRun {
  const r = new NetRun('host', argv);
  runs.push(r);
  return r;
}
afterEach(() => {
  for (const r of runs.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});

/** curl run asynchronously (the test's own servers must keep serving meanwhile). */
function curl(url: string): Promise<{ status: number; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn('curl', ['-s', '-m', '20', url], { env: ENV });
    let stdout = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.on('close', (code) => resolve({ status: code ?? -1, stdout }));
  });
}

const HTTP_SERVER = script('http_server.py', `
import http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ('hello from the sandbox at ' + self.path + '\\n').encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = socketserver.TCPServer(('127.0.0.1', 0), H)
print('READY', s.server_address[1], flush=True)
s.handle_request()
s.handle_request()
`);

const HTTP_CLIENT = script('http_client.py', `
import sys, urllib.request
print('GOT', urllib.request.urlopen(sys.argv[1], timeout=20).read().decode().strip(), flush=True)
`);

const UDP_CLIENT = script('udp_client.py', `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(20)
s.sendto(b'ping from the sandbox', ('127.0.0.1', int(sys.argv[1])))
data, addr = s.recvfrom(100)
print('ECHO', data.decode().replace(' ', '_'), addr[0], flush=True)
`);

const TCP6_SERVER = script('tcp6_server.py', `
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.bind(('::1', 0))
s.listen(1)
print('READY', s.getsockname()[1], flush=True)
c, a = s.accept()
data = b''
while not data.endswith(b'\\n'):
    chunk = c.recv(100)
    if not chunk:
        break
    data += chunk
c.sendall(data.upper())
c.close()
print('PEER', a[0], flush=True)
`);

function listening(s: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

describe.skipIf(!usable)('--network=host (hostinet)', () => {
  const closers: (() => void)[] = [];
  afterAll(() => {
    for (const c of closers) c();
  });

  it('a server in the sandbox on 127.0.0.1 serves host curl', async () => {
    const r = start([PY, HTTP_SERVER]);
    const [port] = await r.line('READY');
    const a = await curl(`http://127.0.0.1:${port}/first`);
    expect(a.stdout).toBe('hello from the sandbox at /first\n');
    const b = await curl(`http://127.0.0.1:${port}/second`);
    expect(b.stdout).toBe('hello from the sandbox at /second\n');
    expect(await r.exited).toBe(0);
  }, 60_000);

  it('a client in the sandbox fetches from a host server on loopback', async () => {
    const srv = createHttpServer((_req, res) => res.end('hello from the host\n'));
    closers.push(() => srv.close());
    const port = await listening(srv);
    const r = start([PY, HTTP_CLIENT, `http://127.0.0.1:${port}/`]);
    expect(await r.line('GOT')).toEqual(['hello', 'from', 'the', 'host']);
    expect(await r.exited).toBe(0);
    // curl itself (a C program with non-blocking connect and poll) in the sandbox.
    const c = start(['/usr/bin/curl', '-s', '-m', '20', `http://127.0.0.1:${port}/`]);
    expect(await c.exited).toBe(0);
    expect(c.out).toBe('hello from the host\n');
  }, 60_000);

  it('UDP datagrams go to a host socket and its echo comes back', async () => {
    const echo = createSocket('udp4');
    closers.push(() => echo.close());
    echo.on('message', (m, from) => echo.send(m, from.port, from.address));
    const port = await new Promise<number>((resolve) => echo.bind(0, '127.0.0.1', () => resolve(echo.address().port)));
    const r = start([PY, UDP_CLIENT, String(port)]);
    expect(await r.line('ECHO')).toEqual(['ping_from_the_sandbox', '127.0.0.1']);
    expect(await r.exited).toBe(0);
  }, 60_000);

  it('IPv6 TCP on ::1 with passed-through options, and the peer is the host', async () => {
    const r = start([PY, TCP6_SERVER]);
    const [port] = await r.line('READY');
    const reply = await new Promise<string>((resolve, reject) => {
      const c = connect({ host: '::1', port: Number(port) });
      let out = '';
      c.on('data', (d: Buffer) => (out += d.toString()));
      c.on('error', reject);
      c.on('close', () => resolve(out));
      c.end('shout this\n');
    });
    expect(reply).toBe('SHOUT THIS\n');
    expect(await r.line('PEER')).toEqual(['::1']);
    expect(await r.exited).toBe(0);
  }, 60_000);

  it('the Sentry stays in the host network namespace and AF_UNIX stays its own', async () => {
    const r = start([PY, '-c', `
import socket, os
a, b = socket.socketpair()
a.send(b'unix ok')
print('UNIX', b.recv(10).decode().replace(' ', '_'), flush=True)
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print('RAW allowed', flush=True)
except OSError as e:
    print('RAW', e.errno, flush=True)
input()
`]);
    expect(await r.line('UNIX')).toEqual(['unix_ok']);
    expect(await r.line('RAW')).toEqual(['1']); // EPERM: no raw sockets onto the host's network
    // The do process's child is the Sentry: same network namespace as ours.
    const kids = spawnSync('cat', [`/proc/${r.child.pid}/task/${r.child.pid}/children`], { encoding: 'utf8' }).stdout.trim().split(/\s+/);
    const own = spawnSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).stdout.trim();
    const sentryNs = spawnSync('readlink', [`/proc/${kids[0]}/ns/net`], { encoding: 'utf8' }).stdout.trim();
    const sentryPid = spawnSync('readlink', [`/proc/${kids[0]}/ns/pid`], { encoding: 'utf8' }).stdout.trim();
    expect(sentryNs).toBe(own);
    // Still confined otherwise: its own PID namespace.
    expect(sentryPid).not.toBe(spawnSync('readlink', ['/proc/self/ns/pid'], { encoding: 'utf8' }).stdout.trim());
    r.child.stdin.end('\n');
    expect(await r.exited).toBe(0);
  }, 60_000);

  it('socket calls answer as on Linux: non-blocking connect, epoll, timeouts, peek, FIONREAD, truncation, SIOCGIF*', () => {
    const bin = compileC('hostinet_calls', readFileSync(join(import.meta.dirname, 'net_fixtures', 'hostinet_calls.c'), 'utf8'));
    const host = native([bin]);
    expect(host.status, host.stderr).toBe(0);
    const sb = sandboxed([bin], { flags: ['--network=host'] });
    expect(sb.stderr).toBe('');
    expect(sb.stdout).toBe(host.stdout);
    expect(sb.status).toBe(0);
  }, 60_000);

  it('tsvisor debug seccomp sentry --network=host shows the extra socket calls only there', () => {
    const def = spawnSync(process.execPath, [TSVISOR, 'debug', 'seccomp', 'sentry'], { encoding: 'utf8', env: ENV });
    const host = spawnSync(process.execPath, [TSVISOR, 'debug', 'seccomp', 'sentry', '--network=host'], { encoding: 'utf8', env: ENV });
    expect(def.status).toBe(0);
    expect(host.status).toBe(0);
    expect(def.stdout).not.toMatch(/\bsocket\b/);
    expect(host.stdout).toMatch(/\bsocket\b/);
    expect(host.stdout).toMatch(/\bconnect\b/);
  });

  it('an OCI container run with --network=host reaches a host server', async () => {
    const srv = createServer((s) => s.end('pong from the host\n'));
    closers.push(() => srv.close());
    const port = await listening(srv);
    const d = new OciDriver();
    closers.push(() => d.cleanup());
    const b = d.bundle('hostnet', ['sh', '-c', `nc 127.0.0.1 ${port} </dev/null`]);
    const r = await d.start(['--network', 'host', 'run', '--bundle', b, 'hostnet1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('pong from the host\n');
    expect(r.status).toBe(0);
  }, 60_000);
});
