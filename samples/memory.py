"""memory.py: the article's Python experiment, with memwalk to say where
each address is, not only what it is.

Prints "label 0xaddress" for: small ints (one object per value, from
CPython's cache), big ints (an object per value), a Point, two strings,
and the frame of each level of a bounded recursion (sys._getframe, the
article's my_rec_one), then "ready", and waits for its stdin to close.
Run it and ask memwalk about every address it printed:

    python3 samples/memory.py > addrs &
    cut -d' ' -f2 addrs | memwalk where $! -

The article read /proc/PID/maps by hand and concluded that the frames
were on the stack: memwalk shows them in CPython's own allocator
(pymalloc arenas, anonymous memory), and the small ints where the
running version keeps its cache (the static _PyRuntime in 3.11 and
later, heap objects in 3.9 and 3.10).
"""
import sys


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def p_mem(label, v):
    print("%s 0x%x" % (label, id(v)))


def my_rec_one(level):
    sf = sys._getframe(0)
    if level > 0:
        my_rec_one(level - 1)
    p_mem("rec_%d" % level, sf)


def main():
    a, b, c, d, e = 1, 2, 3, 5, 1
    x, y, z = 1231231, 1231232, 1231233
    t = int("1231233")      # equal to z, another object
    for label, v in zip("abcdexyzt", (a, b, c, d, e, x, y, z, t)):
        p_mem(label, v)
    p_mem("p1", Point(1, 32))
    p_mem("hello", "Hello")
    p_mem("world", "World")
    my_rec_one(10)
    print("ready", flush=True)
    sys.stdin.read()


main()
