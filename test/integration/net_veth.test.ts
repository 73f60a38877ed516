// Across the sandbox boundary with `tsvisor do --network=sandbox`: the CLI builds a network
// namespace and a veth pair, the netstack drives the sandbox end through AF_PACKET. Only the
// /30 that the run itself creates (10.200.0.0/16) is used. Needs root, ip(8), python3, curl
// and iperf3; skipped otherwise.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUSYBOX } from './helpers.js';
import { NetRun } from './net_run.js';

const PY = '/usr/bin/python3';
const usable = process.getuid?.() === 0 && ['/usr/sbin/ip', PY, '/usr/bin/curl'].every((p) => existsSync(p));
const dir = mkdtempSync(join(tmpdir(), 'tsvisor-veth-'));

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

const runs: NetRun[] = [];
afterEach(() => {
  // SIGTERM lets the CLI remove the namespace and the NAT rule it made.
  for (const r of runs.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGTERM');
});

/** Every sandbox this file started, for the final check that each cleaned up. */
const startedPids: number[] = [];

function start(argv: string[]): NetRun {
  const r = new NetRun('sandbox', argv);
  runs.push(r);
  if (r.child.pid !== undefined) startedPids.push(r.child.pid);
  return r;
}

const SERVER = script('serve.py', `
import http.server, subprocess
out = subprocess.run(["${BUSYBOX}", "ip", "-4", "addr", "show", "eth0"], capture_output=True, text=True).stdout
addr = out.split("inet ")[1].split("/")[0]
body = bytes(range(256)) * 4096
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("0.0.0.0", 8080), H)
print("READY", addr, flush=True)
srv.handle_request()
`);

const CLIENT = script('fetch.py', `
import hashlib, subprocess, sys, urllib.request
routes = subprocess.run(["${BUSYBOX}", "ip", "route"], capture_output=True, text=True).stdout
gw = [l.split()[2] for l in routes.splitlines() if l.startswith("default")][0]
print("GW", gw, flush=True)
port = int(sys.stdin.readline())
data = urllib.request.urlopen("http://%s:%d/" % (gw, port), timeout=20).read()
print("GOT", len(data), hashlib.sha256(data).hexdigest(), flush=True)
`);

// Malformed frames for the sandbox's MAC: random bytes, short and bad-checksum IPv4
// headers, bad TCP checksums, bogus TCP options and data offsets, overlapping fragments,
// a SYN flood from the host end's address (its SYN-ACKs stay on the veth), ARP garbage.
const FLOOD = script('flood.py', `import random, socket, struct, sys
ifname, dmac, dip, sip, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
dm = bytes.fromhex(dmac.replace(":", ""))
sm = s.getsockname()[4]
d4, s4 = socket.inet_aton(dip), socket.inet_aton(sip)
rnd = random.Random(7)
def csum(b):
    if len(b) % 2: b += b"\\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
def ip(proto, payload, frag=0, ident=1, bad=False, ihl=5, opts=b""):
    h = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, 20 + len(opts) + len(payload), ident, frag, 64, proto, 0, s4, d4) + opts
    c = csum(h) ^ (0x1234 if bad else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload
def tcp(sport, dport, flags, opts=b"", bad=False, doff=None):
    off = doff if doff is not None else (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, rnd.getrandbits(32), 0, off << 4, flags, 65535, 0, 0) + opts
    c = csum(s4 + d4 + struct.pack("!BBH", 0, 6, len(h)) + h) ^ (0x4321 if bad else 0)
    return h[:16] + struct.pack("!H", c) + h[18:]
def send(payload, etype=0x0800):
    s.send(dm + sm + struct.pack("!H", etype) + payload)
ll = bytes.fromhex("fe80000000000000") + bytes([dm[0] ^ 2]) + dm[1:3] + b"\\xff\\xfe" + dm[3:6]
def ip6(nh, payload, src=None, hop=64, plen=None):
    src = src or (bytes.fromhex("fe80000000000000") + rnd.getrandbits(64).to_bytes(8, "big"))
    return struct.pack("!IHBB", 6 << 28, len(payload) if plen is None else plen, nh, hop) + src + ll + payload
for i in range(count):
    k = i % 13
    if k == 0: send(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 80))))
    elif k == 1: send(ip(6, b"")[:rnd.randrange(1, 20)])
    elif k == 2: send(ip(6, tcp(1000 + i, 8080, 0x02), bad=True))
    elif k == 3: send(ip(6, tcp(1000 + i, 8080, 0x02, bad=True)))
    elif k == 4: send(ip(6, tcp(1000 + i, 8080, 0x02, opts=b"\\x02\\x00\\x05\\xb4\\x03\\x09\\x00\\x00")))
    elif k == 5: send(ip(6, tcp(1000 + i, 8080, 0x10, doff=15)))
    elif k == 6:
        body = bytes(rnd.getrandbits(8) for _ in range(64))
        send(ip(17, body[:32], frag=0x2000 | 0, ident=i & 0xffff))
        send(ip(17, body[8:], frag=(1), ident=i & 0xffff))
    elif k == 7: send(ip(6, tcp(20000 + (i % 30000), 8080, 0x02)))
    elif k == 8: send(bytes(rnd.getrandbits(8) for _ in range(28)), 0x0806)
    elif k == 9: send(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 120))), 0x86dd)
    elif k == 10: send(ip6(60, b"\\x3a\\x05" + bytes(6), plen=200), 0x86dd)
    elif k == 11:
        # Overlapping IPv6 fragments, then an ICMPv6 echo with a bad checksum.
        send(ip6(44, struct.pack("!BBHI", 58, 0, 1, i) + bytes(16)), 0x86dd)
        send(ip6(44, struct.pack("!BBHI", 58, 0, 8, i) + bytes(16)), 0x86dd)
        send(ip6(58, b"\\x80\\x00\\x12\\x34" + bytes(8)), 0x86dd)
    else:
        # Neighbor solicitations for our address from spoofed sources, some with a bad hop limit.
        ns = b"\\x87\\x00\\x00\\x00" + bytes(4) + ll + b"\\x01\\x01" + bytes([2, 0, 0, 0, i >> 8 & 0xff, i & 0xff])
        send(ip6(58, ns, hop=255 if i % 2 else 64), 0x86dd)
print("sent", count)
`);

const SERVER_MAC = script('serve_mac.py', `
import http.server, subprocess
out = subprocess.run(["${BUSYBOX}", "ip", "addr", "show", "eth0"], capture_output=True, text=True).stdout
addr = out.split("inet ")[1].split("/")[0]
mac = out.split("link/ether ")[1].split()[0]
routes = subprocess.run(["${BUSYBOX}", "ip", "route"], capture_output=True, text=True).stdout
gw = [l.split()[2] for l in routes.splitlines() if l.startswith("default")][0]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = b"still serving"
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("0.0.0.0", 8080), H)
print("READY", addr, mac, gw, flush=True)
srv.handle_request()
`);

// An HTTP server on the sandbox's own fd00:: address (TCP over native IPv6 in the netstack).
const SERVER6 = script('serve6.py', `
import http.server, socket, subprocess
out = subprocess.run(["${BUSYBOX}", "ip", "-6", "addr", "show", "eth0"], capture_output=True, text=True).stdout
addr = [l.split()[1].split("/")[0] for l in out.splitlines() if "scope global" in l][0]
class S(http.server.HTTPServer):
    address_family = socket.AF_INET6
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = ("hello %s" % self.client_address[0]).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
srv = S((addr, 8080), H)
print("READY", addr, flush=True)
srv.handle_request()
`);

const GATEWAY = `gw=$(${BUSYBOX} ip route | ${BUSYBOX} awk '/default/ {print $3}'); echo "GW $gw"`;

// One server on "[::]" (IPV6_V6ONLY off): it answers the host over IPv4 and over IPv6, and
// reports each client's address as the socket saw it. Also prints the IPv6 routing table.
const SERVER_DUAL = script('serve_dual.py', `
import http.server, socket, subprocess
out = subprocess.run(["${BUSYBOX}", "ip", "addr", "show", "eth0"], capture_output=True, text=True).stdout
v4 = out.split("inet ")[1].split("/")[0]
v6 = [l.split()[1].split("/")[0] for l in out.splitlines() if "inet6" in l and "scope global" in l][0]
routes6 = subprocess.run(["${BUSYBOX}", "cat", "/proc/net/ipv6_route"], capture_output=True, text=True).stdout
class S(http.server.HTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = ("hello %s" % self.client_address[0]).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
srv = S(("::", 8080), H)
print("ROUTES6", len(routes6.splitlines()), flush=True)
print("READY", v4, v6, flush=True)
srv.handle_request()
srv.handle_request()
`);

describe.skipIf(!usable)('--network=sandbox over a veth pair', () => {
  it('curl on the host fetches a page from an HTTP server in the sandbox', async () => {
    const r = start([PY, SERVER]);
    const [addr] = await r.line('READY');
    expect(addr).toMatch(/^10\.200\.\d+\.\d+$/);
    const c = spawnSync('curl', ['-s', '-m', '20', `http://${addr}:8080/`], { maxBuffer: 4 << 20 });
    expect(c.status).toBe(0);
    expect(c.stdout.length).toBe(1 << 20);
    expect(c.stdout.equals(Buffer.from(new Uint8Array(1 << 20).map((_, i) => i & 0xff)))).toBe(true);
    expect(await r.exited).toBe(0);
  }, 60_000);

  it('a client in the sandbox fetches from a server on the host end', async () => {
    const r = start([PY, CLIENT]);
    const [gw] = await r.line('GW');
    const body = Buffer.from(new Uint8Array(3 << 20).map((_, i) => (i * 7) & 0xff));
    const srv = createServer((_req, res) => res.end(body));
    await new Promise<void>((res) => srv.listen(0, gw, res));
    try {
      r.child.stdin.write(`${(srv.address() as AddressInfo).port}\n`);
      const [len, hash] = await r.line('GOT');
      expect(Number(len)).toBe(body.length);
      const { createHash } = await import('node:crypto');
      expect(hash).toBe(createHash('sha256').update(body).digest('hex'));
      expect(await r.exited).toBe(0);
    } finally {
      srv.close();
    }
  }, 60_000);

  it('ping from the sandbox reaches the veth peer', async () => {
    const r = start([BUSYBOX, 'sh', '-c', `${GATEWAY}; ${BUSYBOX} ping -c 3 -i 0.2 -W 2 $gw`]);
    expect(await r.exited).toBe(0);
    expect(r.stdout).toContain('3 packets transmitted, 3 packets received, 0% packet loss');
  }, 60_000);

  it('the host pings the sandbox\'s IPv6 link-local and fd00:: addresses (NDP and ICMPv6 in the netstack)', async () => {
    const r = start([BUSYBOX, 'sh', '-c', `${BUSYBOX} ip -6 addr show eth0; echo READY go; read done`]);
    await r.line('READY');
    const ll = /inet6 (fe80::[0-9a-f:]+)\/64 scope link/.exec(r.stdout)?.[1];
    expect(ll).toBeDefined();
    const hostIf = `tsvh${r.child.pid}`.slice(0, 15);
    // The host end's own link-local address is usable once its duplicate address detection ends (~1 s).
    let p = spawnSync(BUSYBOX, ['ping6', '-c', '2', '-i', '0.2', '-W', '3', '-I', hostIf, `${ll}`], { encoding: 'utf8' });
    for (let i = 0; i < 20 && p.stderr.includes('Cannot assign requested address'); i++) {
      await new Promise((res) => setTimeout(res, 250));
      p = spawnSync(BUSYBOX, ['ping6', '-c', '2', '-i', '0.2', '-W', '3', '-I', hostIf, `${ll}`], { encoding: 'utf8' });
    }
    expect(p.stdout, p.stderr).toContain('2 packets transmitted, 2 packets received, 0% packet loss');
    // One reply per request: the namespace's kernel stays quiet on the sandbox's link.
    expect(p.stdout).not.toContain('DUP!');
    // The address the CLI configured on the namespace's interface, now served by the netstack,
    // which resolves the host's own fd00:: address by Neighbor Discovery to answer.
    const global = /inet6 (fd00:[0-9a-f:]+)\/64 scope global/.exec(r.stdout)?.[1];
    expect(global).toBeDefined();
    const g = spawnSync(BUSYBOX, ['ping6', '-c', '2', '-i', '0.2', '-W', '3', `${global}`], { encoding: 'utf8' });
    expect(g.stdout, g.stderr).toContain('2 packets transmitted, 2 packets received, 0% packet loss');
    expect(g.stdout).not.toContain('DUP!');
    r.child.stdin.write('done\n');
    expect(await r.exited).toBe(0);
  }, 60_000);

  it('ping6 from the sandbox reaches the host end\'s fd00:: address (outbound Neighbor Discovery)', async () => {
    const peer6 = `${BUSYBOX} ip -6 addr show eth0 | ${BUSYBOX} awk '/scope global/ {print $2}' | ${BUSYBOX} sed 's|::2/64|::1|'`;
    const r = start([BUSYBOX, 'sh', '-c', `${BUSYBOX} ping6 -c 2 -i 0.2 -W 3 $(${peer6})`]);
    expect(await r.exited).toBe(0);
    expect(r.stdout).toMatch(/^64 bytes from fd00:[0-9a-f:]+::1: seq=0 ttl=64/m);
    expect(r.stdout).toContain('2 packets transmitted, 2 packets received, 0% packet loss');
  }, 60_000);

  it('curl on the host fetches over IPv6 from a server on the sandbox\'s fd00:: address', async () => {
    const r = start([PY, SERVER6]);
    const [addr] = await r.line('READY');
    expect(addr).toMatch(/^fd00:7473:7600:/);
    const c = spawnSync('curl', ['-s', '-g', '-m', '20', `http://[${addr}]:8080/`], { encoding: 'utf8' });
    expect(c.status).toBe(0);
    expect(c.stdout).toBe(`hello ${addr.replace(/::2$/, '::1')}`);
    expect(await r.exited).toBe(0);
  }, 60_000);

  it('one [::] server answers the host over IPv4 (v4-mapped) and IPv6 at once', async () => {
    const r = start([PY, SERVER_DUAL]);
    const [v4, v6] = await r.line('READY');
    expect(v4).toMatch(/^10\.200\.\d+\.\d+$/);
    expect(v6).toMatch(/^fd00:7473:7600:/);
    // ::1/128 on lo, fe80::/64 and the /64 on eth0, and each address's local route.
    expect(Number((await r.line('ROUTES6'))[0])).toBeGreaterThanOrEqual(6);
    const c4 = spawnSync('curl', ['-s', '-m', '20', `http://${v4}:8080/`], { encoding: 'utf8' });
    expect(c4.status).toBe(0);
    // The host end of the /30 is the address just below the sandbox's.
    const host4 = v4.replace(/\d+$/, (d) => String(Number(d) - 1));
    expect(c4.stdout).toBe(`hello ::ffff:${host4}`);
    const c6 = spawnSync('curl', ['-s', '-g', '-m', '20', `http://[${v6}]:8080/`], { encoding: 'utf8' });
    expect(c6.status).toBe(0);
    expect(c6.stdout).toBe(`hello ${v6.replace(/::2$/, '::1')}`);
    expect(await r.exited).toBe(0);
  }, 60_000);

  it.skipIf(!existsSync('/usr/bin/iperf3'))('iperf3 from the sandbox to the host runs 5 s without errors', async () => {
    const r = start([BUSYBOX, 'sh', '-c', `${GATEWAY}; read port; exec /usr/bin/iperf3 -c $gw -p $port -t 5 -J`]);
    const [gw] = await r.line('GW');
    const port = 5201 + (process.pid % 1000);
    const server = spawn('iperf3', ['-s', '-1', '-B', gw, '-p', String(port), '-J']);
    let sjson = '';
    server.stdout.on('data', (d: Buffer) => (sjson += d.toString()));
    const serverDone = new Promise<number>((res) => server.on('close', (c) => res(c ?? -1)));
    await new Promise((res) => setTimeout(res, 500));
    r.child.stdin.write(`${port}\n`);
    expect(await r.exited).toBe(0);
    expect(await serverDone).toBe(0);
    const client = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { end: { sum_sent: { bytes: number; seconds: number } } };
    expect(client.end.sum_sent.seconds).toBeGreaterThan(4.9);
    expect(client.end.sum_sent.bytes).toBeGreaterThan(0);
    const s = JSON.parse(sjson) as { end: { sum_received: { bytes: number } }; error?: string };
    expect(s.error).toBeUndefined();
    // The server's total stops at its last interval; within a few segments of what was sent.
    expect(s.end.sum_received.bytes).toBeGreaterThan(client.end.sum_sent.bytes * 0.99);
    expect(s.end.sum_received.bytes).toBeLessThanOrEqual(client.end.sum_sent.bytes);
  }, 60_000);

  it('moves the addresses out of the host kernel: the namespace keeps no IPv4 or IPv6 address', async () => {
    const r = start([BUSYBOX, 'sh', '-c', `${GATEWAY}; read x`]);
    await r.line('GW');
    const ns = `tsvisor-${r.child.pid}`;
    const addrs = spawnSync('ip', ['-n', ns, '-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
    expect(addrs.status).toBe(0);
    expect(addrs.stdout.trim()).toBe('');
    // Nor IPv6: the veth end keeps neither its fd00:: address nor a link-local one.
    const addrs6 = spawnSync('ip', ['-n', ns, '-6', '-o', 'addr', 'show'], { encoding: 'utf8' });
    expect(addrs6.status).toBe(0);
    expect(addrs6.stdout.trim()).toBe('');
    const link = spawnSync('ip', ['-n', ns, '-o', 'link', 'show'], { encoding: 'utf8' });
    expect(link.stdout).toMatch(/tsvs\d+@/);
    r.child.stdin.write('done\n');
    expect(await r.exited).toBe(0);
  }, 60_000);

  it('a flood of malformed frames on the link leaves the stack serving the next honest connection', async () => {
    const r = start([PY, SERVER_MAC]);
    const [addr, mac, gw] = await r.line('READY');
    const hostIf = `tsvh${r.child.pid}`;
    const f = spawnSync(PY, [FLOOD, hostIf, mac, addr, gw, '20000'], { encoding: 'utf8' });
    expect(f.stderr).toBe('');
    expect(f.stdout.trim()).toBe('sent 20000');
    const c = spawnSync('curl', ['-s', '-m', '20', `http://${addr}:8080/`], { encoding: 'utf8' });
    expect(c.stdout).toBe('still serving');
    expect(await r.exited).toBe(0);
  }, 60_000);

  it('leaves no namespace or veth behind', async () => {
    // Only this file's sandboxes: other test files may run --network=sandbox meanwhile. The
    // last sandbox was just sent SIGTERM, and the kernel drops a veth shortly after its netns:
    // give the teardown a few seconds.
    expect(startedPids.length).toBeGreaterThan(5);
    const leftovers = (): string[] => {
      const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
      const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
      return startedPids.flatMap((pid) => [
        ...(new RegExp(`\\btsvisor-${pid}\\b`).test(ns) ? [`netns tsvisor-${pid}`] : []),
        ...(new RegExp(`\\btsvh${pid}\\b`).test(links) ? [`link tsvh${pid}`] : []),
      ]);
    };
    const end = Date.now() + 10_000;
    let left = leftovers();
    while (left.length > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      left = leftovers();
    }
    expect(left).toEqual([]);
  });
});
