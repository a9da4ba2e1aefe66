#!/usr/bin/env python3
"""samples/: each experiment of the articles, built as a user would
(pkg-config against the staged installation), run, and its lesson
asserted on its output (not its timings).

Each test_* function builds and runs one sample; the run ends with
'N passed, N failed'. Under the sanitizers (MW_SAN_CFLAGS set) the
library is instrumented, the samples only linked with the runtime;
malloc is AddressSanitizer's, in anonymous maps, it keeps freed blocks
in quarantine, and valgrind cannot run: those checks say so and check
what they can.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import mwtest

SRCDIR = os.environ["top_srcdir"]
STAGE = os.environ["MW_STAGE"]
LIBDIR = STAGE + os.environ["MW_LIBDIR"]
CC = os.environ.get("CC", "cc")
SAN = os.environ.get("MW_SAN_CFLAGS", "")
PKG_CONFIG = os.environ.get("PKG_CONFIG", "pkg-config")
HEAP = "anon" if SAN else "heap"
TMP = tempfile.mkdtemp()


def pkg(*args):
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(LIBDIR, "pkgconfig"),
               PKG_CONFIG_SYSROOT_DIR=STAGE)
    return shlex.split(subprocess.run([PKG_CONFIG, *args, "memwalk"],
                                      env=env, check=True, text=True,
                                      capture_output=True).stdout)


def build(name, opt="-O2", extra=()):
    """samples/NAME.c built with OPT, as a user would; the binary. Under
    the sanitizers the sample links their runtime (the library needs
    it) but is not instrumented itself: AddressSanitizer would put red
    zones between its locals and change the layouts the samples show."""
    out = os.path.join(TMP, f"{name}{opt}")
    for cmd in ([CC, opt, *pkg("--cflags"), "-c", "-o", out + ".o",
                 os.path.join(SRCDIR, "samples", f"{name}.c")],
                [CC, "-o", out, out + ".o", *pkg("--libs"),
                 *shlex.split(SAN), *extra]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, (cmd, r.stderr)
    return out


def run(exe, *args):
    # heap_vs_stack leaks on purpose: LeakSanitizer would fail it.
    env = dict(os.environ, LD_LIBRARY_PATH=LIBDIR,
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
               ":detect_leaks=0")
    r = subprocess.run([exe, *args], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, (exe, r.returncode, r.stderr)
    return r.stdout


def mems(out):
    """p_mem lines: label -> (address, kind)."""
    found = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) == 4 and f[0].endswith(":") and f[1].startswith("0x"):
            assert int(f[1], 16) == int(f[2]), line
            found[f[0][:-1]] = (int(f[1], 16), f[3])
    return found


def frames(out):
    """p_frame and p_frames lines: label -> (sp, kind, size, function)."""
    found = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) == 7 and f[0].endswith(":") and f[1].startswith("0x"):
            assert int(f[1], 16) == int(f[2]), line
            found[f[0][:-1]] = (int(f[1], 16), f[3], int(f[4]),
                                f[5].split("+")[0])
    return found


def diffs(out):
    """p_diff lines: label -> (p1, p2, p2 - p1, kind1, kind2)."""
    found = {}
    for line in out.splitlines():
        m = re.fullmatch(r"(.*):\tp1:0x([0-9a-f]+)\tp2:0x([0-9a-f]+)\t"
                         r"diff:\t(-?\d+)\t(\S+)\t(\S+)", line)
        if m:
            p1, p2 = int(m[2], 16), int(m[3], 16)
            assert p2 - p1 == int(m[4]), line
            found[m[1]] = (p1, p2, int(m[4]), m[5], m[6])
    return found


def test_stack_vars():
    out = run(build("stack_vars", "-O0"))
    m, d = mems(out), diffs(out)
    assert set(m) == set("abcxyz"), out
    assert all(kind == "stack" for _, kind in m.values()), out
    for k in ("b-a", "c-b"):
        assert abs(d[k][2]) == 4, d[k]      # sizeof(int)
    for k in ("y-x", "z-y"):
        assert abs(d[k][2]) == 8, d[k]      # sizeof(long)
    assert abs(d["c-a"][2]) == 8 and abs(d["z-x"][2]) == 16, d


def gcc():
    r = subprocess.run([CC, "--version"], capture_output=True, text=True)
    return "Free Software Foundation" in r.stdout and "clang" not in r.stdout


def test_scoped_blocks():
    """Shared slots come from the optimizer: -O2 shares them; GCC at -O0
    (unlike the compiler of the article) does not."""
    for opt in ("-O0", "-O2"):
        out = run(build("scoped_blocks", opt))
        m = mems(out)
        assert all(kind == "stack" for _, kind in m.values()), out
        shared = [m[o][0] == m[n][0] for o, n in zip("abc", "xyz")]
        if opt == "-O2":
            assert all(shared), (opt, out)
        elif gcc():
            assert not any(shared) and len({a for a, _ in m.values()}) == 6, \
                (opt, out)
        print(f"  {opt}: x, y, z {'reuse' if all(shared) else 'do not reuse'}"
              " the slots of a, b, c")


def test_nested_calls():
    out = run(build("nested_calls", "-O0"))
    m, d = mems(out), diffs(out)
    assert m["a"][1] == m["b"][1] == "stack", out
    assert m["b"][0] < m["a"][0], out        # the callee is below
    assert d["callee-caller"][2] < 0, d
    f = frames(out)
    names = [f[f"frames[{i}]"][3] for i in range(3)]
    assert names == ["stack_frame2", "stack_frame1", "main"], names
    sps = [f[f"frames[{i}]"][0] for i in range(3)]
    assert sps == sorted(sps) and len(set(sps)) == 3, sps


def test_heap_vs_stack():
    out = run(build("heap_vs_stack"))
    heap = [int(l.split("\t")[1], 16) for l in out.splitlines()
            if l.startswith("Heap Array:")]
    leak = [int(l.split("\t")[1], 16) for l in out.splitlines()
            if l.startswith("Leaked Heap Array:")]
    stack = {l.split("\t")[3] for l in out.splitlines()
             if l.startswith("Stack Array:")}
    assert len(heap) == len(leak) == 10, out
    assert stack == {"stack"}, out
    # With free, malloc hands the same block back each time (not ASan's
    # malloc: it keeps freed blocks in quarantine).
    assert len(set(heap[1:])) == 1 or SAN, heap
    # Without it, each pass gets new memory (the first may still get the
    # block the freeing passes left).
    assert len(set(leak)) == len(leak), leak
    assert all(b > a for a, b in zip(leak, leak[1:])), leak
    kinds = {l.split("\t")[3] for l in out.splitlines()
             if "Heap Array:" in l}
    assert kinds == {HEAP}, kinds
    for label in ("Array On Stack", "Array On Heap",
                  "Array On Heap, never freed"):
        assert re.search(rf"^----Start \[{label}\]----\n(.*\n)?----End "
                         rf"\[{label}\]----\n----Elapsed \d+\.\d+ ", out,
                         re.M), out


def test_auto_free():
    exe = build("auto_free")
    out = run(exe)
    m = mems(out)
    assert m["P1"][1] == m["P2"][1] == HEAP, out
    if not SAN:     # ASan keeps freed blocks in quarantine
        assert {m["after, Q1"][0], m["after, Q2"][0]} == \
            {m["P1"][0], m["P2"][0]}, out
    if SAN or shutil.which("valgrind") is None:
        print("  (valgrind: not run, " +
              ("sanitizer build" if SAN else "not installed") + ")")
        return
    env = dict(os.environ, LD_LIBRARY_PATH=LIBDIR)
    r = subprocess.run(["valgrind", "--leak-check=full", "--error-exitcode=9",
                        exe], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r"definitely lost: 0 bytes|no leaks are possible",
                     r.stderr), r.stderr[-2000:]


def test_small_ints():
    out = run(build("small_ints"))
    m, d = mems(out), diffs(out)
    cache = m["small 42 (a)"][1]
    for v in (-5, 42, 256):
        assert d[f"small {v} b-a"][2] == 0, d       # one object
        assert m[f"small {v} (a)"][1] == cache, m
    for v in (-6, 257, 1000):
        assert d[f"big {v} b-a"][2] != 0, d         # two objects
        assert m[f"big {v} (a)"][1] == "memwalk-arena", m
    assert cache in ("bss", "data"), m               # static in the library
    assert m["small_ints (local array)"][1] == "stack", m
    assert m["small_ints (global array)"][1] in ("bss", "data"), m


def test_allocator_walk():
    out = run(build("allocator_walk"))
    rows = {}
    for line in out.splitlines():
        g = re.match(r"(.+?) +block (0x[0-9a-f]+)  pool (0x[0-9a-f]+)  index "
                     r" ?(\d+)  class (\d+)  pools used (\d+) full (\d+)  "
                     r"class pools (\d+) blocks (\d+)$", line)
        if g:
            rows[g[1]] = dict(block=int(g[2], 16), pool=int(g[3], 16),
                              index=int(g[4]), cls=int(g[5]),
                              used=int(g[6]), full=int(g[7]),
                              pools=int(g[8]), blocks=int(g[9]))
    first = rows["malloc 0"]
    assert first["cls"] == 31 and first["index"] == 0, first
    for i in range(32):
        r = rows[f"malloc {i}"]
        assert r["pool"] == first["pool"] and r["index"] == i, r
        assert r["blocks"] == i + 1, r
    assert rows["malloc 31"]["full"] == 1, rows["malloc 31"]  # left usedpools
    nxt = rows["malloc (next)"]
    assert nxt["pool"] != first["pool"] and nxt["pools"] == 2, nxt
    back = rows["after free 7"]
    assert back["full"] == 0 and back["blocks"] == 32, back    # back in use
    again = rows["malloc again"]
    assert again["pool"] == first["pool"] and again["index"] == 7, again
    d = diffs(out)
    assert d["again-freed"][2] == 0, d
    m = mems(out)
    assert m["first block"][1] == m["next pool"][1] == "memwalk-arena", m


def test_recursion():
    """One frame per level of the factorial, each below the one before
    by its size; the tail-recursive one reuses a single frame."""
    out = run(build("recursion"))
    f = frames(out)
    fact = [f[f"fact_{n}"] for n in range(8, 0, -1)]
    tail = [f[f"tail_{n}"] for n in range(8, 0, -1)]
    assert all(kind == "stack" for _, kind, _, _ in fact + tail), out
    assert all(fn == "fact" for *_, fn in fact), fact
    assert all(fn.startswith("fact_tail") for *_, fn in tail), tail
    sps = [sp for sp, *_ in fact]
    assert all(a - b == fact[i + 1][2] for i, (a, b) in
               enumerate(zip(sps, sps[1:]))), fact
    assert len({sp for sp, *_ in tail}) == 1, tail
    assert f["main[0]"][3] == "main", f
    assert "fact(8) = 40320" in out and "fact_tail(8) = 40320" in out


def test_leak_watch_and_diff():
    """The leak sample, live: snap, 4 MB leaked, snap: diff shows the
    [heap] grown by them; watch sees the growth in the heap line. (Rss
    counts whole pages: 'by them' is within 1%.)"""
    exe = build("leak")
    memwalk = os.environ["MEMWALK"]
    env = dict(os.environ, LD_LIBRARY_PATH=LIBDIR,
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
               ":detect_leaks=0")
    p = subprocess.Popen([exe], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, env=env)
    a, b = os.path.join(TMP, "a.json"), os.path.join(TMP, "b.json")
    try:
        m = {}
        for line in p.stdout:
            if line == "ready\n":
                break
            m.update(mems(line))
        heap_kind = m["first block"][1]
        with open(a, "w") as f:
            subprocess.run([memwalk, "snap", str(p.pid)], stdout=f,
                           check=True)
        w = subprocess.Popen([memwalk, "watch", "--json", "--interval",
                              "0.05", "--count", "40", str(p.pid)],
                             stdout=subprocess.PIPE, text=True)
        first = json.loads(w.stdout.readline())
        for i in range(4):
            p.stdin.write("leak\n")
            p.stdin.flush()
            assert p.stdout.readline() == f"leaked {(i + 1) * 1000000}\n"
        with open(b, "w") as f:
            subprocess.run([memwalk, "snap", str(p.pid)], stdout=f,
                           check=True)
        grew = 0
        for line in w.stdout:
            k = json.loads(line)["kinds"].get(heap_kind, {"rss": 0})
            grew = k["rss"] - first["kinds"][heap_kind]["rss"]
            if grew >= 3960000:
                break
        w.kill()
        w.wait()
    finally:
        p.stdin.close()
        p.wait(10)
    assert grew >= 3960000, grew
    doc = json.loads(subprocess.run([memwalk, "diff", "--json", a, b],
                                    capture_output=True, text=True,
                                    check=True).stdout)
    kinds = {k["kind"]: k for k in doc["kinds"]}
    assert kinds[heap_kind]["rss"]["delta"] >= 3960000, kinds
    if heap_kind == "heap":
        grown = [r for r in doc["regions"] if r["path"] == "[heap]"]
        assert grown and grown[0]["change"] == "grown", doc["regions"]
        assert grown[0]["size"]["delta"] >= 3960000, grown


def test_python_memory():
    """The article's memory.py, each address it prints asked of memwalk
    where: small ints in CPython's cache, big ints and frames in its
    allocator (not on the stack, as the article read the maps)."""
    memwalk = os.environ["MEMWALK"]
    python = shutil.which("python3") or "/usr/bin/python3"
    p = subprocess.Popen([python, os.path.join(SRCDIR, "samples",
                                               "memory.py")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    try:
        addrs = {}
        for line in p.stdout:
            if line == "ready\n":
                break
            label, addr = line.split()
            addrs[label] = int(addr, 16)
        r = subprocess.run([memwalk, "where", "--json", str(p.pid), "-"],
                           input="".join(f"0x{a:x}\n" for a in
                                         addrs.values()),
                           capture_output=True, text=True, timeout=60)
    finally:
        p.stdin.close()
        p.wait(10)
    assert r.returncode == 0, r.stderr
    answers = dict(zip(addrs, json.loads(r.stdout)["addresses"]))
    assert len(answers) == 23, answers.keys()
    for label, value in zip("abcde", (1, 2, 3, 5, 1)):
        obj = answers[label]["object"]
        assert obj and obj["type"] == "python-int" and \
            obj["value"] == value, (label, answers[label])
    assert addrs["a"] == addrs["e"] and addrs["z"] != addrs["t"]
    allocator = ("pymalloc-arena", "heap", "anon")
    for label in [*"xyzt", *(f"rec_{i}" for i in range(11))]:
        a = answers[label]
        assert a["kind"] in allocator, (label, a)
        assert not (a["object"] or {}).get("type") == "python-int", a


if __name__ == "__main__":
    sys.exit(mwtest.main(globals(), cleanup=lambda: shutil.rmtree(TMP)))
