#!/usr/bin/env python3
"""Runs a command on a new pty as its controlling terminal, the way a person at a terminal
would: types input, resizes the window, collects the screen output, and checks that the
terminal settings are the same afterwards.

usage: ptyrun.py [--size ROWSxCOLS] [--type TEXT [--type TEXT ...]] [--delay S]
                 [--resize ROWSxCOLS --resize-after S] [--timeout S] -- CMD...
Prints the output; exits with the command's exit status, or 90 if the terminal settings were
not restored, or 91 on timeout."""
import argparse, fcntl, os, select, signal, struct, sys, termios, time

p = argparse.ArgumentParser()
p.add_argument("--size", default="24x80")
p.add_argument("--type", action="append", default=[])
p.add_argument("--delay", type=float, default=0.5)
p.add_argument("--resize")
p.add_argument("--resize-after", type=float, default=0.5)
p.add_argument("--timeout", type=float, default=30)
p.add_argument("cmd", nargs="+")
a = p.parse_args()

def winsize(fd, spec):
    rows, cols = (int(x) for x in spec.split("x"))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

master, slave = os.openpty()
winsize(slave, a.size)
before = termios.tcgetattr(slave)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for i in range(3):
        os.dup2(slave, i)
    os.close(master)
    if slave > 2:
        os.close(slave)
    os.execvp(a.cmd[0], a.cmd)

start = time.monotonic()
inputs = [bytes(t, "utf-8").decode("unicode_escape").encode("latin-1") for t in a.type]
next_input = start + a.delay
resized = a.resize is None
out = bytearray()
status = None
while True:
    now = time.monotonic()
    if now - start > a.timeout:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stdout.write(out.decode("utf-8", "replace"))
        print("\nptyrun: timeout", file=sys.stderr)
        sys.exit(91)
    if inputs and now >= next_input:
        os.write(master, inputs.pop(0))
        next_input = now + a.delay
    if not resized and now - start >= a.resize_after:
        winsize(master, a.resize)
        resized = True
    r, _, _ = select.select([master], [], [], 0.02)
    if r:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        out += data
    if status is None:
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            status = os.waitstatus_to_exitcode(st)
            deadline = time.monotonic() + 0.3
    elif not r and time.monotonic() > deadline:
        break

after = termios.tcgetattr(slave)
sys.stdout.write(out.decode("utf-8", "replace"))
if before != after:
    print("\nptyrun: terminal settings were not restored", file=sys.stderr)
    sys.exit(90)
sys.exit(status if status >= 0 else 128 - status)
