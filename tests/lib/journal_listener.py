"""Plays journald's native socket for a test: binds a datagram socket at the
path given and writes each entry received to OUT as one JSON object per line
(field name -> value; a field given twice becomes a list), until killed.

    journal_listener.py SOCKET OUT

The native protocol (systemd's "Native Journal Protocol"): a datagram holds
fields separated by newlines, each either KEY=value (no newline in value)
or KEY, a newline, the value's length as a 64-bit little-endian integer,
the value's bytes and a newline. A client whose entry is too big for one
datagram sends an empty datagram with a memfd (SCM_RIGHTS) holding it."""
import array
import json
import os
import socket
import struct
import sys


def parse(data):
    fields = {}
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            raise ValueError("field without its newline at %d" % i)
        line = data[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = nl + 1
        else:
            key = line
            (size,) = struct.unpack_from("<Q", data, nl + 1)
            start = nl + 1 + 8
            value = data[start:start + size]
            if data[start + size:start + size + 1] != b"\n":
                raise ValueError("binary field %r not ended by a newline" % key)
            i = start + size + 1
        k, v = key.decode("ascii", "replace"), value.decode("utf-8", "replace")
        if k in fields:
            fields[k] = (fields[k] if isinstance(fields[k], list) else [fields[k]]) + [v]
        else:
            fields[k] = v
    return fields


def main():
    path, out_path = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    fds_size = socket.CMSG_SPACE(4 * array.array("i").itemsize)
    with open(out_path, "a", encoding="utf-8") as out:
        while True:
            data, anc, _flags, _addr = s.recvmsg(1 << 20, fds_size)
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds = array.array("i")
                    fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
                    for fd in fds:
                        with os.fdopen(fd, "rb") as f:
                            f.seek(0)
                            data += f.read()
            try:
                entry = parse(data)
            except (ValueError, struct.error) as e:
                entry = {"_BAD": str(e), "_RAW": data.decode("utf-8", "replace")}
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            out.flush()


main()
