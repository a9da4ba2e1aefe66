# objects.py: a live CPython for check_python, from 2.7 to 3.13+.
#
# Prints "NAME 0xVALUE" lines, then "ready", and waits for stdin to
# close (tests/tutil.h's protocol):
#   version      sys.version_info as 0xMMmmuu
#   int_N int_mN id() of N (m: minus) for 20 random N in -5..256
#   big_N        id() of ints outside the cache
#   tuple_K      id() of live 2-tuples (kept in a list), float_K of floats
#   tuple_size, tuple_pre   sys.getsizeof of one, and the bytes before
#                id() (the GC header): getsizeof - __sizeof__
#   float_size, float_pre   the same for a float
#   freed        id() of a freed 201-byte bytes object whose pool lives on,
#   freed_size   and sys.getsizeof of one like it
#   arenas       pymalloc's own count of arenas (3.3+), last of all
import os
import random
import sys
import tempfile


def show(name, value):
    sys.stdout.write("%s 0x%x\n" % (name, value))


def arenas_now():
    """'# arenas allocated current' of sys._debugmallocstats(), or None."""
    if not hasattr(sys, "_debugmallocstats"):
        return None
    out = tempfile.TemporaryFile()
    saved = os.dup(2)
    sys.stderr.flush()
    os.dup2(out.fileno(), 2)
    try:
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    out.seek(0)
    for line in out.read().decode("ascii", "replace").splitlines():
        if line.startswith("# arenas allocated current"):
            return int(line.split("=")[1].replace(",", ""))
    return None


def main():
    vi = sys.version_info
    show("version", vi[0] << 16 | vi[1] << 8 | vi[2])
    for n in random.sample(range(-5, 257), 20):
        show("int_%s" % (("m%d" % -n) if n < 0 else n), id(n))
    big = [int("1000"), -6, 257, 2 ** 40, -1000, 10 ** 20, 300, -257,
           2 ** 30, 258]
    for n in big:
        show("big_%s" % (("m%d" % -n) if n < 0 else n), id(n))
    tuples = [(i, i + 1) for i in range(1000)]
    floats = [float(i) + 0.5 for i in range(1000)]
    for k in (0, 500, 999):
        show("tuple_%d" % k, id(tuples[k]))
        show("float_%d" % k, id(floats[k]))
    show("tuple_size", sys.getsizeof(tuples[0]))
    show("tuple_pre", sys.getsizeof(tuples[0]) - tuples[0].__sizeof__())
    show("float_size", sys.getsizeof(floats[0]))
    show("float_pre", sys.getsizeof(floats[0]) - floats[0].__sizeof__())
    # Free every other one, the 10th-freed printed: 90 frees of its class
    # stand between it and reuse, and live neighbours keep its pool.
    blobs = [(b"%03d" % i if vi[0] > 2 else "%03d" % i) * 67
             for i in range(200)]
    freed = id(blobs[21])
    del blobs[1::2]
    show("freed", freed)
    show("freed_size", sys.getsizeof(blobs[0]))
    n = arenas_now()
    if n is not None:
        show("arenas", n)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()
    return len(tuples) + len(floats) + len(blobs) + len(big)


if __name__ == "__main__":
    main()
