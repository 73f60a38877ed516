import os, sys, signal, threading, subprocess, select, time, multiprocessing

results = []
lock = threading.Lock()
def work(n):
    s = sum(range(n * 1000))
    with lock:
        results.append((n, s))
ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("threads", sorted(results)[:3], len(results))
ev = threading.Event()
threading.Timer(0.05, ev.set).start()
print("event", ev.wait(5))
cond = threading.Condition()
box = []
def producer():
    with cond:
        box.append(1)
        cond.notify()
with cond:
    threading.Thread(target=producer).start()
    cond.wait_for(lambda: box, timeout=5)
print("condition", box)

got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
signal.signal(signal.SIGALRM, lambda s, f: got.append(s))
signal.setitimer(signal.ITIMER_REAL, 0.05)
time.sleep(0.5)
print("signals", got)
try:
    signal.signal(signal.SIGALRM, lambda s, f: (_ for _ in ()).throw(TimeoutError("alarm")))
    signal.alarm(1)
    time.sleep(5)
except TimeoutError as e:
    print("alarm raised", e)

out = subprocess.run(["/bin/echo", "hello", "from", "child"], capture_output=True, text=True)
print("subprocess", out.returncode, out.stdout.strip())
p = subprocess.Popen(["/bin/cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
o, _ = p.communicate(b"piped data\n")
print("popen", p.returncode, o)
print("exit code", subprocess.run(["/bin/sh", "-c", "exit 3"]).returncode)
p = subprocess.Popen(["/bin/sleep", "10"])
p.terminate()
print("terminated", p.wait())
try:
    subprocess.run(["/bin/sleep", "5"], timeout=0.2)
except subprocess.TimeoutExpired:
    print("timeout expired")

r, w = os.pipe()
print("select empty", select.select([r], [], [], 0.01)[0])
os.write(w, b"x")
print("select ready", select.select([r], [], [], 1)[0] == [r])

def child(conn, x):
    conn.send(x * x)
    conn.close()
if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    vals = []
    for i in range(4):
        a, b = ctx.Pipe()
        pr = ctx.Process(target=child, args=(b, i + 2))
        pr.start()
        vals.append(a.recv())
        pr.join()
        vals.append(pr.exitcode)
    print("multiprocessing", vals)
    pr = ctx.Process(target=os._exit, args=(5,))
    pr.start()
    pr.join()
    print("process exitcode", pr.exitcode)
