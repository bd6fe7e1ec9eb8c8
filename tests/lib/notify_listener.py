"""Plays systemd's notify socket for a test: binds a datagram socket at the
path given, appends every message received to a log file (one datagram per
record, separated by a blank line), until killed.

    notify_listener.py SOCKET LOG [ON_READY_COMMAND]

With ON_READY_COMMAND, the first datagram that says READY=1 runs that shell
command before anything else is read, its standard output going to LOG.ready:
what it sees is the state the daemon was in when it declared itself ready."""
import socket
import subprocess
import sys

path, log = sys.argv[1], sys.argv[2]
on_ready = sys.argv[3] if len(sys.argv) > 3 else None
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", encoding="utf-8") as out:
    out.write("")
    out.flush()
    while True:
        data = s.recv(4096).decode("utf-8", "replace")
        if on_ready and "READY=1" in data.split("\n"):
            with open(log + ".ready", "w", encoding="utf-8") as ready:
                subprocess.run(on_ready, shell=True, stdout=ready, check=False)
            on_ready = None
        out.write(data + "\n\n")
        out.flush()
