"""A chat server in the shape of seed 000's, for the benchmark only.

One thread per client, and every message is broadcast from its sender's
thread by writing to each client's socket in turn, as the seed does. Unlike
the seed it frames messages by lines and speaks chat-server's protocol, so
that chat-bench can drive both servers the same way. Lesson 04 explains why
this shape stalls when a client stops reading; the benchmark never does that.

Usage: python3 chat_server_threads.py 127.0.0.1:0
"""

import socket
import sys
import threading
import time


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, int(port)))
    server.listen(128)
    print("listening on %s:%d" % server.getsockname(), flush=True)

    clients = []
    lock = threading.Lock()

    def broadcast(text):
        data = text.encode("utf-8")
        with lock:
            targets = list(clients)
        for client in targets:
            try:
                client.sendall(data)
            except OSError:
                pass

    def serve(conn):
        reader = conn.makefile("rb")
        try:
            conn.sendall("连接成功!,请输入昵称\n".encode("utf-8"))
            nick = reader.readline().decode("utf-8", "replace").strip()
            with lock:
                clients.append(conn)
            broadcast("* %s 加入了聊天室 (%s joined)\n" % (nick, nick))
            for line in reader:
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                if text.upper() == "QUIT":
                    break
                broadcast("[%s] %s: %s\n" % (time.strftime("%H:%M:%S"), nick, text))
        except OSError:
            pass
        with lock:
            if conn in clients:
                clients.remove(conn)
        conn.close()

    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
