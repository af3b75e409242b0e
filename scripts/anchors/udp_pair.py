"""A UDP sender and receiver in the shape of seed 002's, for the benchmark
only: the same work as udp-sender and udp-receiver (one datagram per stdin
line, one printed line per datagram), written the way the seed writes it.

Usage: python3 udp_pair.py receive HOST:PORT     (prints "listening on ...")
       python3 udp_pair.py send HOST:PORT < lines
"""

import socket
import sys


def split(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)


def receive(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(split(addr))
    print("listening on %s:%d" % s.getsockname(), flush=True)
    while True:
        data, sender = s.recvfrom(65535)
        print("[%s:%d]: %s" % (sender[0], sender[1], data.decode("utf-8", "replace")), flush=True)


def send(addr):
    target = split(addr)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for line in sys.stdin:
        n = s.sendto(line.rstrip("\n").encode("utf-8"), target)
        print("sent %d bytes to %s:%d" % (n, target[0], target[1]))


if __name__ == "__main__":
    try:
        if sys.argv[1] == "receive":
            receive(sys.argv[2])
        else:
            send(sys.argv[2])
    except KeyboardInterrupt:
        pass
