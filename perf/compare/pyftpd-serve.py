"""pyftpdlib for `npm run bench:compare`: anonymous read-write on loopback.

Usage: /usr/bin/python3 pyftpd-serve.py ROOT PORT PASV_LOW PASV_HIGH
Prints "listening on 127.0.0.1:PORT" once it accepts connections; SIGTERM stops it.
Uses pyftpdlib's defaults otherwise (single process, sendfile() for downloads).
"""
import logging
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    root, port, low, high = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    # Without this serve_forever() logs every command at INFO, which would time the logging.
    logging.basicConfig(level=logging.WARNING)
    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(root, perm="elradfmwMT")

    class Handler(FTPHandler):
        pass

    Handler.authorizer = authorizer
    Handler.passive_ports = range(low, high + 1)
    Handler.banner = "pyftpdlib bench"
    server = FTPServer(("127.0.0.1", port), Handler, backlog=128)
    server.max_cons = 0
    server.max_cons_per_ip = 0
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
