"""Plays systemd's notify socket for a test: binds a datagram socket at the
path given, appends every message received to a log file (one datagram per
record, separated by a blank line), until killed."""
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", encoding="utf-8") as out:
    out.write("")
    out.flush()
    while True:
        data = s.recv(4096)
        out.write(data.decode("utf-8", "replace") + "\n\n")
        out.flush()
