# A --console-socket peer, as conmon or containerd's shim is one: receives the pty master
# over SCM_RIGHTS, types INPUT into it, and prints everything the container writes.
import os, socket, sys

path, data = sys.argv[1], sys.argv[2].encode()
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("listening", flush=True)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 1024, 4)
master = fds[0]
os.write(master, data)
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:  # EIO: the last slave fd closed
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode(errors="replace"))
