"""An echo server in the shape of seed 001's v5, for the benchmark only.

A thread per client; each thread reads with recv(1024) and answers every
read with 收到你的消息 followed by what it read, in one send, as the seed
does. Like the course's servers (and unlike the seed) it binds the address
it is given (127.0.0.1 in the benchmark), prints `listening on ADDR` first,
survives bytes that are not UTF-8, and uses sendall, since send may send
only part. Nothing is printed per message: the seed prints only when a
client connects.

--recv BYTES changes the size of each read: with the seed's 1024, a 16 KiB
message comes in as 16 reads and goes back as 16 small replies, and the
replies after the first wait for the client's delayed acknowledgement
(Nagle's algorithm): about 40 ms per message. With 65536 it is one read and
one reply.

Usage: python3 echo_threads.py [ADDR] [--recv BYTES]    (ADDR default 127.0.0.1:19534)
"""

import socket
import sys
import threading

PREFIX = "收到你的消息"


def serve(cli, addr, recv_size):
    """Answers every read from one client until it closes."""
    print("收到来自ip为{}的连接".format(addr), flush=True)
    try:
        while True:
            data = cli.recv(recv_size)
            if not data:  # 0 bytes: the client closed its side
                break
            # errors="replace": a character cut between two reads, or bytes
            # that are not UTF-8, must not end the thread (the seed's would).
            re_msg = PREFIX + data.decode("utf8", errors="replace")
            cli.sendall(re_msg.encode("utf8"))
    except OSError:
        pass  # a reset: only this client's thread ends
    cli.close()


def main():
    args = sys.argv[1:]
    recv_size = 1024
    if "--recv" in args:
        i = args.index("--recv")
        recv_size = int(args[i + 1])
        del args[i : i + 2]
    host, port = (args[0] if args else "127.0.0.1:19534").rsplit(":", 1)
    ss = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ss.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ss.bind((host, int(port)))
    # The seed's listen(2) would drop connections that arrive together;
    # 128 is what the Rust servers use.
    ss.listen(128)
    print("listening on %s:%d" % ss.getsockname(), flush=True)
    while True:
        cli, addr = ss.accept()
        threading.Thread(target=serve, args=(cli, addr, recv_size), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
