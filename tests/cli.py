#!/usr/bin/env python3
"""memwalk(1) against live processes: the map line for line against the
kernel's, the JSON shapes, `where` at every edge and from stdin, process
names, permissions, and the bad-input table (tests/bad_input.tsv).

Each test_* function asserts; the run ends with 'N passed, N failed'.
"""
import json
import os
import pty
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib

import mwtest
from mwtest import assert_running

MEMWALK = os.environ["MEMWALK"]
# The binary itself, also under valgrind (where MEMWALK runs it under
# memcheck): for the tests that copy it or trace its system calls.
NATIVE_MEMWALK = os.environ.get("MW_NATIVE_MEMWALK", MEMWALK)
TARGET = os.environ["MW_TARGET"]
THREAD_TARGET = os.environ.get("MW_THREAD_TARGET",
                               os.path.join(os.path.dirname(TARGET),
                                            "thread_target"))
SRCDIR = os.environ["top_srcdir"]
STACK_TARGET = os.environ.get("MW_STACK_TARGET",
                              os.path.join(os.path.dirname(TARGET),
                                           "stack_target"))
ALLOC_TARGET = os.environ.get("MW_ALLOC_TARGET",
                              os.path.join(os.path.dirname(TARGET),
                                           "alloc_target"))

KINDS = {"anon", "heap", "stack", "vdso", "vvar", "vsyscall", "text",
         "rodata", "data", "bss", "file", "shmem", "guard", "thread-stack",
         "glibc-arena", "malloc-mmap", "pymalloc-arena", "memwalk-arena"}
PYTHON = shutil.which("python3") or "/usr/bin/python3"


class Target:
    """tests/target: prints NAME 0xADDR lines, then 'ready', then waits."""

    def __init__(self, *args, exe=TARGET):
        self.p = subprocess.Popen([exe, *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.addr = {}
        for line in self.p.stdout:
            if line == "ready\n":
                break
            name, hexaddr = line.split()
            self.addr[name] = int(hexaddr, 16)
        else:
            raise AssertionError("target exited before it was ready")
        self.pid = self.p.pid
        # Until it blocks reading stdin its stack pointer is not known
        # without --stop: wait, so that two runs see the same.
        for _ in range(200):
            if self.reading_stdin():
                break
            time.sleep(0.005)

    def reading_stdin(self):
        """Asleep in read(0, ...): done with what it does before it waits
        (a python3 allocates on its way there)."""
        with open(f"/proc/{self.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] != "S":
                return False
        try:
            with open(f"/proc/{self.pid}/syscall") as f:
                return f.read().split()[:2] == ["0", "0x0"]
        except OSError:
            return True     # not ours to read: the state will do

    def stop(self):
        self.p.stdin.close()
        assert self.p.wait(10) == 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.stop()


def run(*args, stdin=None, user=None):
    cmd = [MEMWALK, *map(str, args)]
    if user is not None:
        cmd = ["setpriv", "--reuid", str(user), "--regid", str(user),
               "--clear-groups", "--inh-caps=-all"] + cmd
    # Tables show names as their bytes; read them as UTF-8 with U+FFFD.
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                          errors="replace", timeout=60)


def ok(*args, stdin=None):
    r = run(*args, stdin=stdin)
    assert r.returncode == 0, f"memwalk {args}: {r.returncode} {r.stderr}"
    assert r.stderr == "", r.stderr
    return r.stdout


def unescape(name):
    return name.replace("\\012", "\n")


def kernel_maps(pid):
    """The kernel's own lines, split the simple way (fine in a test)."""
    rows = []
    with open(f"/proc/{pid}/maps", "rb") as f:
        # JSON is UTF-8: memwalk writes U+FFFD for a byte that is not.
        for raw in f.read().decode("utf-8", "replace").splitlines():
            parts = raw.split(None, 5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            name = unescape(parts[5].lstrip(" ")) if len(parts) > 5 else None
            rows.append({"start": start, "end": end, "perms": parts[1],
                         "offset": int(parts[2], 16), "dev": parts[3],
                         "inode": int(parts[4]), "path": name})
    return rows


def test_map_matches_kernel_line_for_line():
    with Target("--maps", "200", "--threads", "3") as t:
        doc = json.loads(ok("--json", t.pid))
        kernel = kernel_maps(t.pid)
    assert doc["pid"] == t.pid
    assert len(doc["regions"]) == len(kernel), (len(doc["regions"]),
                                               len(kernel))
    for got, want in zip(doc["regions"], kernel):
        assert int(got["start"], 16) == want["start"]
        assert int(got["end"], 16) == want["end"]
        for key in ("perms", "offset", "dev", "inode", "path"):
            assert got[key] == want[key], (key, got, want)
        assert got["size"] == want["end"] - want["start"]


def test_json_shape():
    with Target() as t:
        doc = json.loads(ok("--json", t.pid))
    assert set(doc) >= {"pid", "regions", "totals"}
    for r in doc["regions"]:
        assert re.fullmatch(r"0x[0-9a-f]+", r["start"]), r
        assert re.fullmatch(r"0x[0-9a-f]+", r["end"]), r
        assert isinstance(r["size"], int) and r["size"] > 0
        assert re.fullmatch(r"[r-][w-][x-][sp]", r["perms"])
        assert isinstance(r["offset"], int) and isinstance(r["inode"], int)
        assert re.fullmatch(r"[0-9a-f]{2,}:[0-9a-f]{2,}", r["dev"])
        assert r["path"] is None or isinstance(r["path"], str)
        assert r["kind"] in KINDS, r
    totals = {}
    for r in doc["regions"]:
        totals[r["kind"]] = totals.get(r["kind"], 0) + r["size"]
    assert doc["totals"] == totals


EXPECTED_KINDS = {
    "odd_file": "file", "latin_file": "file", "deleted": "file", "memfd": "shmem",
    "sysv": "shmem", "anon_shared": "shmem", "guard": "guard",
    "heap": "heap", "big_malloc": "malloc-mmap", "data": "data", "bss": "bss",
    "rodata": "rodata", "text": "text", "stack": "stack", "many": "anon",
}


def where_json(pid, *addrs, text_only=False):
    opts = ["--no-procmap-query"] if text_only else []
    return json.loads(ok("where", "--json", *opts, pid, *addrs))


def test_where_kinds_of_target():
    with Target("--maps", "10") as t:
        names = sorted(EXPECTED_KINDS)
        doc = where_json(t.pid, *(hex(t.addr[n]) for n in names))
    assert doc["pid"] == t.pid
    assert len(doc["addresses"]) == len(names)
    for name, a in zip(names, doc["addresses"]):
        assert int(a["address"], 16) == t.addr[name]
        assert a["kind"] == EXPECTED_KINDS[name], (name, a)
        assert a["label"] is None
        region = a["region"]
        assert a["offset"] == t.addr[name] - int(region["start"], 16)
        if region["inode"]:
            assert a["file_offset"] == region["offset"] + a["offset"]
        else:
            assert a["file_offset"] is None
    odd = doc["addresses"][names.index("odd_file")]["region"]["path"]
    assert odd.endswith("/odd name\nwith newline"), odd
    latin = doc["addresses"][names.index("latin_file")]["region"]["path"]
    assert latin.endswith("/caf\ufffd \ufffd"), latin
    deleted = doc["addresses"][names.index("deleted")]["region"]
    assert deleted["path"].endswith("/gone (deleted)") and deleted["deleted"]


def test_where_edges_both_paths_agree():
    """Inside, at both edges of, and between regions; ioctl == text."""
    with Target("--maps", "50") as t:
        kernel = kernel_maps(t.pid)
        addrs = [0, 0x10, 2**63, 2**64 - 1]
        for r in kernel:
            addrs += [r["start"], r["end"] - 1, r["end"], r["start"] - 1]
        addrs = [hex(a) for a in addrs if 0 <= a < 2**64]
        by_query = where_json(t.pid, *addrs)
        by_text = where_json(t.pid, *addrs, text_only=True)
    assert by_query == by_text
    starts = {r["start"]: r for r in kernel}
    for a in by_query["addresses"]:
        addr = int(a["address"], 16)
        covering = [r for r in kernel if r["start"] <= addr < r["end"]]
        if covering:
            assert int(a["region"]["start"], 16) == covering[0]["start"]
            assert a["kind"] != "unmapped"
        else:
            assert a["kind"] == "unmapped" and a["region"] is None, a
            assert a["offset"] is None
    assert any(a["kind"] == "unmapped" for a in by_query["addresses"])
    assert starts


def test_where_decimal_and_text_output():
    with Target() as t:
        heap = t.addr["heap"]
        out = ok("where", t.pid, str(heap), hex(t.addr["text"]), "0x10")
    lines = out.splitlines()
    assert len(lines) == 3
    assert re.match(rf"0x{heap:x}  heap  [0-9a-f]+-[0-9a-f]+ rw-p  \+0x[0-9a-f]+  \[heap\]  \[arena 0\]$", lines[0]), lines[0]
    assert re.match(r"0x[0-9a-f]+  text  .* r-xp  \+0x[0-9a-f]+  .*/target  \(file offset 0x[0-9a-f]+\)  \.text main$", lines[1]), lines[1]
    assert lines[2] == "0x10  unmapped"


def test_where_stdin_labels():
    """p_mem output, Python's hex(id(x)) and noise: each 0x word answered."""
    with Target() as t:
        heap, stack = t.addr["heap"], t.addr["stack"]
        text = (f"a:\t0x{stack:x}\t{stack}\tstack\n"
                "no address here\n"
                f"0x{heap:x}\n"
                "word0x1234 and 0x12zz are not addresses\n"
                f"b-a:\tp1:0x{stack:x}\tp2:0x{heap:x}\tdiff:\t4\n")
        doc = json.loads(ok("where", "--json", t.pid, "-", stdin=text))
        plain = ok("where", t.pid, "-", stdin=text)
    got = [(a["label"], int(a["address"], 16), a["kind"])
           for a in doc["addresses"]]
    line1 = f"a:\t0x{stack:x}\t{stack}\tstack"
    line5 = f"b-a:\tp1:0x{stack:x}\tp2:0x{heap:x}\tdiff:\t4"
    assert got == [(line1, stack, "stack"), (f"0x{heap:x}", heap, "heap"),
                   (line5, stack, "stack"), (line5, heap, "heap")], got
    assert len(plain.splitlines()) == 4
    assert plain.splitlines()[1] == f"0x{heap:x}  =>  0x{heap:x}  heap  " + \
        plain.splitlines()[1].split("  heap  ", 1)[1]


def test_where_stdin_streams_while_producer_runs():
    """Answers come out line by line, before stdin ends."""
    with Target() as t:
        p = subprocess.Popen([MEMWALK, "where", str(t.pid), "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        p.stdin.write(f"x 0x{t.addr['heap']:x}\n")
        p.stdin.flush()
        first = p.stdout.readline()
        assert "heap" in first, first
        p.stdin.close()
        assert p.wait(10) == 0


def test_table_output():
    with Target() as t:
        out = ok(t.pid)
        kernel = kernel_maps(t.pid)
    lines = out.splitlines()
    assert lines[0] == f"{t.pid} (target)"
    assert lines[1].startswith("START-END") and lines[1].endswith("NAME")
    rows = lines[2:2 + len(kernel)]
    for row, want in zip(rows, kernel):
        rng, size, perms, kind = row.split()[:4]
        start, end = (int(x, 16) for x in rng.split("-"))
        assert (start, end, perms) == (want["start"], want["end"],
                                       want["perms"]), row
        assert kind in KINDS
        assert re.fullmatch(r"[0-9.]+[BKMGTPE]", size), size
    assert lines[2 + len(kernel)] == ""
    assert lines[3 + len(kernel)].split() == ["KIND", "REGIONS", "SIZE"]
    total = next(i for i, line in enumerate(lines)
                 if line.startswith("total "))
    assert lines[total].split()[:2] == ["total", str(len(kernel))]
    assert lines[total + 1] == ""
    assert lines[total + 2].split()[:3] == ["TID", "STATE", "SP"]
    assert lines[total + 3].split()[0] == str(t.pid)
    # The newline in a name is shown as the kernel writes it.
    assert any(row.endswith("odd name\\012with newline") for row in rows)


def test_process_name():
    tmp = tempfile.mkdtemp()
    try:
        name = f"mwt{os.getpid() % 100000}"
        exe = os.path.join(tmp, name)
        shutil.copy(TARGET, exe)
        with Target(exe=exe) as t:
            doc = json.loads(ok("--json", name))
            assert doc["pid"] == t.pid
            with Target(exe=exe) as u:
                r = run(name)
                assert r.returncode == 2, r
                m = re.fullmatch(
                    rf"memwalk: {name}: 2 processes have that name: "
                    rf"(\d+) (\d+); give a PID\n", r.stderr)
                assert m, r.stderr
                assert {t.pid, u.pid} == set(map(int, m.groups()))
    finally:
        shutil.rmtree(tmp)


def kernel_thread_pid():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[6]) & 0x00200000:
                return int(entry)
    return None


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_bad_input_table():
    kthread = kernel_thread_pid()
    zombie = subprocess.Popen(["true"])
    for _ in range(100):
        with open(f"/proc/{zombie.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    rows = 0
    tmp = tempfile.mkdtemp()
    for name, text in (("empty.json", ""), ("trunc.json", "{"),
                       ("notsnap.json", '{"pid": 1, "regions": []}'),
                       ("format2.json", '{"snapshot": {"format": 2}}'),
                       ("badregion.json", '{"snapshot": {"format": 1}, '
                        '"regions": [{"start": "0x2000", "end": "0x1000", '
                        '"kind": "heap"}]}'),
                       ("deep.json", "[" * 100 + "]" * 100)):
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    with Target() as t:
        values = {"target": t.pid, "dead": dead_pid(), "zombie": zombie.pid,
                  "kthread": kthread, "tmp": tmp}
        with open(os.path.join(SRCDIR, "tests", "bad_input.tsv")) as f:
            for line in f:
                if line.startswith("#") or not line.strip("\n"):
                    continue
                args, stdin, status, pattern = line.rstrip("\n").split("\t")
                if "{kthread}" in args and kthread is None:
                    continue
                argv = shlex.split(args.format(**values))
                r = run(*argv, stdin=stdin.replace("\\n", "\n"))
                what = f"memwalk {args!r}: {r.returncode} {r.stderr!r}"
                assert r.returncode == int(status), what
                assert r.stderr.count("\n") == 1, what
                assert re.search(pattern, r.stderr.rstrip("\n")), what
                assert r.stdout == "" or "where" in argv, what
                rows += 1
    zombie.wait()
    shutil.rmtree(tmp)
    assert rows >= 25, rows


def test_permission_denied_names_the_rule():
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        print("  (skipped: needs root and setpriv)")
        return
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)
    try:
        exe = os.path.join(tmp, "memwalk")
        shutil.copy(NATIVE_MEMWALK, exe)
        os.chmod(exe, 0o755)
        with Target() as t:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534",
                   "--clear-groups", "--inh-caps=-all", exe]
            for extra in ([], ["where"], ["stack"], ["stack", "--no-stop"]):
                args = [*extra, str(t.pid)] + \
                    (["0x1000"] if extra == ["where"] else [])
                r = subprocess.run(cmd + args, capture_output=True,
                                   text=True, timeout=30)
                assert r.returncode == 1, r
                assert re.fullmatch(
                    rf"memwalk: {t.pid}: /proc/{t.pid}/maps: Permission "
                    r"denied: the process belongs to uid 0 and memwalk runs "
                    r"as uid 65534 without CAP_SYS_PTRACE .*\n",
                    r.stderr), r.stderr
            assert ok(t.pid)  # and as root it works
    finally:
        shutil.rmtree(tmp)


def test_process_exiting_while_read():
    """Short-lived targets: a full answer or one clean error, never more."""
    outcomes = set()
    # memwalk starts in about 1 ms, or 1 s under valgrind
    runs, unit = (20, 0.2) if mwtest.VALGRIND else (60, 0.01)
    for i in range(runs):
        p = subprocess.Popen(["sleep", "%.2f" % (unit * (i % 10))])
        r = run(p.pid) if i % 2 else run("where", p.pid, "0x1000")
        p.wait()
        assert r.returncode in (0, 1), r
        if r.returncode == 1:
            assert r.stderr.count("\n") == 1 and \
                r.stderr.startswith("memwalk: "), r.stderr
        outcomes.add(r.returncode)
    assert 0 in outcomes


def test_help_and_version():
    r = run("-h")
    assert r.returncode == 0 and r.stdout.startswith("usage: memwalk")
    r = run("--version")
    assert r.returncode == 0 and re.fullmatch(r"memwalk \d+\.\d+\.\d+\n",
                                              r.stdout)


def test_thread_stacks_in_map():
    """Every thread's stack is thread-stack with its tid, name and depth."""
    with Target("--threads", "3") as t:
        doc = json.loads(ok("--json", t.pid))
        tids = sorted(int(x) for x in os.listdir(f"/proc/{t.pid}/task"))
    threads = {th["tid"]: th for th in doc["threads"]}
    assert sorted(threads) == tids, (sorted(threads), tids)
    assert doc["threads"][0]["tid"] == t.pid
    stacks = [r for r in doc["regions"] if r["kind"] == "thread-stack"]
    assert sorted(r["tid"] for r in stacks) == [x for x in tids if x != t.pid]
    for r in stacks:
        th = threads[r["tid"]]
        assert r["thread"] == th["name"]
        assert th["stack_start"] == r["start"] and th["stack_end"] == r["end"]
        if th["sp_from"] != "none":
            sp = int(th["sp"], 16)
            assert int(r["start"], 16) <= sp < int(r["end"], 16)
            assert r["used"] == int(r["end"], 16) - sp
            assert r["used"] + r["headroom"] == th["stack_size"]
        below = [g for g in doc["regions"] if g["end"] == r["start"]]
        assert below and below[0]["kind"] == "guard", below
        assert below[0]["tid"] == r["tid"]
    main = [r for r in doc["regions"] if r["kind"] == "stack"]
    assert len(main) == 1 and main[0]["tid"] == t.pid


def test_glibc_chunks_and_heap():
    with Target() as t:
        doc = where_json(t.pid, hex(t.addr["big_malloc"]), hex(t.addr["heap"]))
    big, heap = doc["addresses"]
    assert big["kind"] == "malloc-mmap", big
    assert big["region"]["chunk_size"] >= 4 << 20
    assert big["object"]["type"] == "malloc-chunk"
    assert int(big["object"]["start"], 16) == t.addr["big_malloc"] - 16
    assert heap["region"]["arena"] == 0


def test_where_sections_and_symbols():
    with Target() as t:
        doc = where_json(t.pid, hex(t.addr["text"] + 3), hex(t.addr["data"]),
                         hex(t.addr["rodata"]), hex(t.addr["bss"]))
    text, data, rodata, bss = doc["addresses"]
    assert (text["section"], text["symbol"], text["symbol_offset"]) == \
        (".text", "main", 3), text
    assert (data["section"], data["symbol"]) == (".data", "data_var"), data
    assert rodata["section"] == ".rodata", rodata
    assert (bss["section"], bss["symbol"]) == (".bss", "bss_var"), bss


def smaps_rollup(pid):
    figures = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                figures[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return figures


def test_extended_figures():
    """-x: smaps figures per region and kind; --totals: smaps_rollup."""
    with Target() as t:
        doc = json.loads(ok("-x", "--json", t.pid))
        rollup = json.loads(ok("-x", "--totals", "--json", t.pid))["rollup"]
        kernel = smaps_rollup(t.pid)
        table = ok("-x", t.pid).splitlines()
    assert all("rss" in r and "pss" in r and "swap" in r
               for r in doc["regions"])
    total = doc["smaps_totals"]["total"]
    assert total["rss"] == sum(r["rss"] for r in doc["regions"])
    assert total["regions"] == len(doc["regions"])
    # Pss moves when other processes map the same files: Rss does not.
    assert rollup["rss"] == kernel["Rss"], (rollup, kernel)
    assert abs(rollup["pss"] - kernel["Pss"]) <= 64 * 1024, (rollup, kernel)
    assert total["rss"] == kernel["Rss"], (total, kernel)
    assert table[1].split()[:8] == ["START-END", "SIZE", "RSS", "PSS",
                                    "SHARED", "DIRTY", "SWAP", "PERM"]


def test_looking_does_not_populate():
    """Reading a page the target never touched gives it one (Linux 6.18,
    process_vm_readv): memwalk's probes must leave its Rss as it was."""
    with Target() as t:
        before = smaps_rollup(t.pid)
        pid = str(t.pid)
        for args in (["-x", "--json", pid], [pid], ["arenas", "--json", pid],
                     ["where", pid, hex(t.addr["big_malloc"]),
                      hex(t.addr["guard"] + 4096)]):
            ok(*args)
        after = smaps_rollup(t.pid)
    assert after["Anonymous"] == before["Anonymous"], (before, after)
    assert after["Rss"] == before["Rss"], (before, after)


# ---- memwalk stack ---------------------------------------------------------

def functions(thread):
    return [f["function"] or "?" for f in thread["frames"]]


def wait_parked(pid, spinners=0):
    """Until every thread of stack_target but its spinners sleeps in
    read(2): 'ready' comes before the other threads are past the
    barrier that started them."""
    for _ in range(400):
        parked = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                    parked += f.read().split()[0] == "0"
            except OSError:
                pass
        if parked == len(os.listdir(f"/proc/{pid}/task")) - spinners:
            return
        time.sleep(0.005)
    raise AssertionError("stack_target's threads did not park")


def test_stack_call_chains():
    """Each thread's functions in order, sizes that add up, all running."""
    with Target("--threads", "3", "--chain", "4", "--spin",
                exe=STACK_TARGET) as t:
        wait_parked(t.pid, spinners=1)
        doc = json.loads(ok("stack", "--json", t.pid))
        text = ok("stack", t.pid)
        assert_running(t.pid)
    threads = {th["tid"]: th for th in doc["threads"]}
    assert set(threads) == {t.pid, t.addr["tid1"], t.addr["tid2"],
                            t.addr["tid3"], t.addr["spin_tid"]}, threads
    chain = ["park", "chain_c", "chain_b", "chain_a"] + ["deep"] * 5
    for k in (1, 2, 3):
        th = threads[t.addr[f"tid{k}"]]
        assert th["name"] == f"chain-{k}" and th["state"] == "S", th
        names = functions(th)
        i = names.index("park")
        assert names[i:i + len(chain) + 1] == chain + ["thread_main"], names
        assert th["stack"]["kind"] == "thread-stack", th["stack"]
    main = functions(threads[t.pid])
    i = main.index("park")
    assert main[i:i + len(chain) + 1] == chain + ["main"], main
    assert "spinner_main" in functions(threads[t.addr["spin_tid"]])
    for th in doc["threads"]:
        sizes = [f["size"] for f in th["frames"]]
        assert all(s > 0 for s in sizes[:-1]) and sizes[-1] == 0, sizes
        assert sum(sizes) <= th["used"], (sum(sizes), th["used"])
        sps = [int(f["sp"], 16) for f in th["frames"]]
        assert sps == sorted(sps) and sps[0] == int(th["sp"], 16), sps
        assert int(th["stack"]["start"], 16) <= sps[0] < \
            int(th["stack"]["end"], 16)
        assert th["used"] + th["headroom"] >= 256 * 1024 - 4096, th
    assert re.search(r"^TID \d+ chain-1 \(S\)  sp 0x[0-9a-f]+  thread-stack "
                     r"0x[0-9a-f]+-0x[0-9a-f]+  used \S+  headroom \S+$",
                     text, re.M), text
    assert re.search(r"^  #2  [0-9a-f]{16} +16 chain_c\+0x[0-9a-f]+ in "
                     r"stack_target$", text, re.M), text


def test_stack_recursion_frames():
    """The article's factorial: one frame per level; tail-recursive: one."""
    with Target("--threads", "0", "--fact", "9", exe=STACK_TARGET) as t:
        fact = json.loads(ok("stack", "--json", t.pid))["threads"][0]
    with Target("--threads", "0", "--tail", "9", exe=STACK_TARGET) as t:
        tail = json.loads(ok("stack", "--json", t.pid))["threads"][0]
    assert functions(fact).count("fact") == 9, functions(fact)
    assert [n.split(".")[0] for n in functions(tail)].count("fact_tail") \
        == 1, functions(tail)


def test_stack_no_stop():
    """--no-stop: no ptrace; blocked threads' SP from /proc, no frames."""
    with Target("--threads", "2", exe=STACK_TARGET) as t:
        wait_parked(t.pid)
        doc = json.loads(ok("stack", "--no-stop", "--json", t.pid))
        stopped = json.loads(ok("stack", "--json", t.pid))
    sp = {th["tid"]: th["sp"] for th in stopped["threads"]}
    assert len(doc["threads"]) == 3
    for th in doc["threads"]:
        assert th["frames"] == [] and th["stopped"] is False, th
        assert th["sp"] == sp[th["tid"]], (th, sp)
        assert th["stack"] is not None and th["used"] > 0, th


def test_stack_signals_leave_target_running():
    """SIGINT, SIGTERM, SIGHUP, SIGKILL to memwalk mid-walk: every thread
    of the target runs again, each time."""
    with Target("--threads", "200", "--chain", "20", "--spin",
                exe=STACK_TARGET) as t:
        for i in range(40):
            sig = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP,
                   signal.SIGKILL)[i % 4]
            p = subprocess.Popen([MEMWALK, "stack", str(t.pid)],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep((i % 10) * 0.002)
            p.send_signal(sig)
            rc = p.wait(10)
            assert rc in (0, -sig), (sig, rc)
            assert_running(t.pid)
        for _ in range(5):
            ok("stack", t.pid)
            assert_running(t.pid)


# ---- snap, diff, watch --------------------------------------------------------

GROW_SCRIPT = r"""
import sys
keep = []
print("ready", flush=True)
for line in sys.stdin:
    keep.append(bytearray(b"x" * (16 << 20)))
    print("grown", flush=True)
"""


def grow(t):
    """The target takes 16 MiB more, touched, and says so."""
    t.p.stdin.write("grow\n")
    t.p.stdin.flush()
    assert t.p.stdout.readline() == "grown\n"


def test_snap_diff_growth():
    """Two snapshots around 16 MiB of growth: diff shows it, by kind and
    by region; the same snapshot against itself shows nothing."""
    tmp = tempfile.mkdtemp()
    a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
    try:
        with Target("-c", GROW_SCRIPT, exe=PYTHON) as t:
            with open(a, "w") as f:
                f.write(ok("snap", t.pid))
            grow(t)
            with open(b, "w") as f:
                f.write(ok("snap", t.pid))
        snap = json.load(open(a))
        assert snap["snapshot"]["format"] == 1 and snap["pid"] == t.pid
        assert all("rss" in r and "kind" in r for r in snap["regions"])
        doc = json.loads(ok("diff", "--json", a, b))
        same = json.loads(ok("diff", "--json", a, a))
        text = ok("diff", a, b)
    finally:
        shutil.rmtree(tmp)
    assert same["kinds"] == [] and same["regions"] == [], same
    rss = sum(k["rss"]["delta"] for k in doc["kinds"])
    assert 16 << 20 <= rss < 20 << 20, doc["kinds"]
    big = [r for r in doc["regions"] if r["rss"]["delta"] >= 16 << 20]
    assert len(big) == 1 and big[0]["change"] in ("added", "grown"), big
    assert big[0]["kind"] in ("malloc-mmap", "heap", "anon"), big
    assert 0 < doc["seconds"] < 60, doc["seconds"]
    assert re.search(r"^(added|grown) +[0-9a-f]{16}-[0-9a-f]{16} .* rss "
                     r"\+1[6-9]M", text, re.M), text
    assert re.search(r"^total +[+-]?\d+ +\S+ +\+1[6-9]M", text, re.M), text


def test_watch_growth_and_exit():
    """watch: a line per interval, the 16 MiB in the line after the
    growth; when the target exits, a last line and status 0."""
    with Target("-c", GROW_SCRIPT, exe=PYTHON) as t:
        w = subprocess.Popen([MEMWALK, "watch", "--json", "--interval",
                              "0.1", str(t.pid)], stdout=subprocess.PIPE,
                             text=True)
        first = json.loads(w.stdout.readline())
        grow(t)
        deltas = []
        for _ in range(50):
            line = json.loads(w.stdout.readline())
            deltas.append(line["rss"] - first["rss"])
            if deltas[-1] >= 16 << 20:
                break
        t.stop()
        rest = w.stdout.read()
        assert w.wait(10) == 0
    assert deltas[-1] >= 16 << 20, deltas
    assert rest == "" or all(json.loads(x) for x in rest.splitlines())
    text = ok("watch", "--count", "2", "--interval", "0.05", str(os.getpid()))
    lines = text.splitlines()
    assert lines[1].split()[:3] == ["TIME", "RSS", "DELTA"], lines
    assert len(lines) == 4 and lines[2].split()[0] == "0.0s", lines


PY_SCRIPT = r"""
import random, sys
vals = random.sample(range(-4, 257), 12) + [-5, 257, -6, 1000, 2**40]
print("version 0x%x" % sys.hexversion)
for v in vals:
    print("int_%s 0x%x" % (str(v).replace("-", "m"), id(v)))
print("ready", flush=True)
sys.stdin.read()
"""


def test_py_command_and_small_ints():
    with Target("-c", PY_SCRIPT, exe=PYTHON) as t:
        info = json.loads(ok("py", "--json", t.pid))
        names = sorted(n for n in t.addr if n.startswith("int_"))
        doc = where_json(t.pid, *(hex(t.addr[n]) for n in names))
        text = ok("where", t.pid, hex(t.addr["int_m5"]))
    version = t.addr["version"]
    major, minor = version >> 24, (version >> 16) & 0xff
    assert info["version"].startswith(f"{major}.{minor}"), info["version"]
    assert info["small_ints"] is not None
    for name, a in zip(names, doc["addresses"]):
        value = int(name[4:].replace("m", "-"))
        obj = a["object"]
        if -5 <= value <= 256:
            assert obj and obj["type"] == "python-int", (name, a)
            assert obj["value"] == value and obj["refcnt"] > 0, (name, obj)
        else:
            assert obj is None or obj["type"] != "python-int", (name, obj)
    assert re.search(r"  object: python small int -5 \(refcnt \d+\)$", text), text


def region_probes(pid, extra=()):
    """Each region's first, middle and last byte, and extra addresses.
    Under valgrind, where each run takes a second, one of the three bytes
    of every third region, in turn (and every extra address)."""
    addrs = set(extra)
    for i, r in enumerate(kernel_maps(pid)):
        probes = [r["start"], (r["start"] + r["end"]) // 2, r["end"] - 1]
        if not mwtest.VALGRIND:
            addrs |= set(probes)
        elif i % 3 == 0:
            addrs.add(probes[i // 3 % 3])
    return [hex(a) for a in sorted(addrs)]


def assert_as_whole_map(pid, extra=(), opts=()):
    """where by region (lib/where.c) == where from the whole map. One run
    per address: a run keeps what it read for later addresses, and the
    whole map, once read, would answer them all."""
    addrs = region_probes(pid, extra)
    whole = json.loads(ok("where", "--json", "--no-procmap-query", *opts,
                          pid, *addrs))["addresses"]
    assert len(whole) == len(addrs)
    for addr, b in zip(addrs, whole):
        a = json.loads(ok("where", "--json", *opts, pid, addr))
        assert a["addresses"] == [b], (a, b)
    return whole


def pythons():
    """python3, and the other CPythons this machine has (pyenv); under
    valgrind python3 only (the other trees read them all)."""
    found = [PYTHON]
    if mwtest.VALGRIND:
        return found
    root = os.path.expanduser("~/.pyenv/versions")
    if os.path.isdir(root):
        found += sorted(p for v in os.listdir(root)
                        if os.access(p := os.path.join(root, v, "bin",
                                                       "python3"), os.X_OK))
    return found


def test_where_by_region_answers_as_the_whole_map():
    """Every region of threaded, C and Python targets: the same answer
    (a .bss merged with the mapping above it too, as libpython's can be
    with the arena that holds 3.9's small ints)."""
    seen = set()
    with Target("--maps", "20", "--threads", "3", "--after-bss", "256") as t:
        seen |= {a["kind"] for a in
                 assert_as_whole_map(t.pid, extra=t.addr.values())}
    with Target("--spin", "--own-stack", exe=THREAD_TARGET) as t:
        assert_as_whole_map(t.pid, opts=["--stop"])
        assert_running(t.pid)
        answers = assert_as_whole_map(t.pid, extra=t.addr.values())
    own = [a for a in answers if int(a["address"], 16) == t.addr["own_local"]]
    assert own[0]["kind"] == "thread-stack", own
    assert own[0]["region"]["tid"] == t.addr["own_tid"], own
    assert int(own[0]["region"]["size"]) < 128 << 10, own
    small = [a for a in answers
             if int(a["address"], 16) == t.addr["small_exited_local"]]
    assert small[0]["region"]["size"] < 128 << 10, small
    assert small[0]["kind"] == "anon" and small[0]["region"]["note"], small
    block = [a for a in answers if int(a["address"], 16) == t.addr["own_block"]]
    assert block[0]["kind"] == "glibc-arena", block
    assert block[0]["region"]["size"] < 128 << 10, block
    for exe in pythons():
        with Target("-c", PY_SCRIPT, exe=exe) as t:
            answers = assert_as_whole_map(t.pid, extra=t.addr.values())
        seen |= {a["kind"] for a in answers}
        ints = [a for a in answers if a["object"] and
                a["object"]["type"] == "python-int"]
        assert len(ints) >= 13, (exe, len(ints))
    assert {"thread-stack", "guard", "malloc-mmap", "pymalloc-arena", "text",
            "data", "bss", "heap", "stack", "anon"} <= seen, seen


def maps_opens(*args):
    """How often memwalk opens a maps file of the target (strace)."""
    env = dict(os.environ)
    # LeakSanitizer cannot run under ptrace: the rest of ASan can.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat",
                        NATIVE_MEMWALK,
                        *map(str, args)], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    return len(re.findall(r'openat\(.*"/proc/\d+/maps"', r.stderr))


def test_where_reads_the_whole_map_only_when_it_matters():
    """A small anonymous page or a function: one maps descriptor, for the
    query; the heap (arena 0): the whole map is read too."""
    with Target("--maps", "20") as t:
        small = maps_opens("where", t.pid, hex(t.addr["many"]))
        text = maps_opens("where", t.pid, hex(t.addr["text"]))
        heap = maps_opens("where", t.pid, hex(t.addr["heap"]))
        two = maps_opens("where", t.pid, hex(t.addr["heap"]),
                         hex(t.addr["stack"]))
    assert (small, text, heap, two) == (1, 1, 2, 2), (small, text, heap, two)


def test_arenas_of_the_bundled_allocator():
    """memwalk arenas reads mw_malloc's arenas as the target counts them."""
    with Target(exe=ALLOC_TARGET) as t:
        doc = json.loads(ok("arenas", "--json", t.pid))
        table = ok("arenas", t.pid)
        where = where_json(t.pid, hex(t.addr["live"]), hex(t.addr["freed"]))
        regions = json.loads(ok("--json", t.pid))["regions"]
    mw = doc["memwalk"]
    assert mw["arenas"] == t.addr["arenas"], (mw, t.addr)
    assert (mw["pools_used"], mw["pools_full"], mw["pools_empty"]) == \
        (t.addr["pools_used"], t.addr["pools_full"], t.addr["pools_empty"])
    got = {c["class"]: (c["pools"], c["blocks"]) for c in mw["classes"]}
    want = {int(k[1:-6]): (v, t.addr[k[:-6] + "_blocks"])
            for k, v in t.addr.items() if k.endswith("_pools")}
    assert got == want, (got, want)
    rows = [a for a in doc["arenas"] if a["allocator"] == "memwalk"]
    assert len(rows) == mw["arenas"]
    assert sum(a["blocks"] for a in rows) == sum(b for _, b in want.values())
    # glibc's main arena, when malloc is glibc's (not AddressSanitizer's)
    main_arena = any(r["kind"] == "heap" and r.get("arena") == 0
                     for r in regions)
    assert main_arena == any(a["allocator"] == "glibc" and a["index"] == 0
                             and a["path"] == "[heap]"
                             for a in doc["arenas"]), doc["arenas"]
    assert table.splitlines()[1].split()[:3] == ["ALLOCATOR", "ARENA",
                                                 "START-END"]
    assert re.search(r"^memwalk +0 +[0-9a-f]+-[0-9a-f]+ +1\.0M ", table, re.M)
    live, freed = where["addresses"]
    assert live["kind"] == freed["kind"] == "memwalk-arena"
    assert live["object"]["type"] == "memwalk-block", live
    assert live["object"]["allocated"] and not freed["object"]["allocated"]
    assert int(live["object"]["start"], 16) == t.addr["live"]
    assert live["object"]["size"] == 208 and live["object"]["size_class"] == 12
    assert "memwalk-arena" in {r["kind"] for r in regions}


def test_arenas_of_python_and_glibc():
    """The same command on python3: pymalloc and glibc arenas, one format."""
    with Target("-c", PY_SCRIPT, exe=PYTHON) as t:
        doc = json.loads(ok("arenas", "--json", t.pid))
        py = json.loads(ok("py", "--json", t.pid))
    assert doc["memwalk"] is None
    pools = [a for a in doc["arenas"] if a["allocator"] == "pymalloc"]
    assert pools and doc["pymalloc"]["arenas"] == py["pymalloc"]["arenas"]
    assert sum(c["blocks"] for c in doc["pymalloc"]["classes"]) == \
        sum(c["blocks_used"] for c in py["pymalloc"]["classes"])
    assert any(a["allocator"] == "glibc" for a in doc["arenas"])


def test_py_refuses_non_python():
    with Target() as t:
        r = run("py", t.pid)
    assert r.returncode == 1
    assert r.stderr == f"memwalk: {t.pid}: not a CPython process (no object defines PyLong_Type)\n", r.stderr


def test_stop_reads_running_threads():
    """--stop: the spinner's SP by ptrace; nothing left stopped."""
    with Target("--spin", exe=THREAD_TARGET) as t:
        spin = t.addr["spin_tid"]
        plain = json.loads(ok("--json", t.pid))
        doc = json.loads(ok("--json", "--stop", t.pid))
        assert_running(t.pid)
    th = {x["tid"]: x for x in doc["threads"]}[spin]
    assert th["sp_from"] in ("ptrace", "syscall"), th
    assert int(th["stack_start"], 16) <= int(th["sp"], 16) < \
        int(th["stack_end"], 16)
    before = {x["tid"]: x for x in plain["threads"]}[spin]
    assert before["stack_start"] == th["stack_start"], (before, th)


def test_stop_survives_signals_and_kill():
    """memwalk killed mid-walk (INT, TERM, HUP, KILL): target runs on."""
    with Target("--spin", "--threads", "8", exe=THREAD_TARGET) as t:
        for sig in [signal.SIGINT, signal.SIGTERM, signal.SIGHUP,
                    signal.SIGKILL] * 10:
            p = subprocess.Popen([MEMWALK, "--stop", "--json", str(t.pid)],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(0.001 * (sig % 5))
            p.send_signal(sig)
            p.wait(10)
            assert_running(t.pid)


def test_objects_summary():
    """--objects: per ELF object, its kinds summed; they add up to the map."""
    with Target() as t:
        doc = json.loads(ok("--json", t.pid))
        objs = json.loads(ok("--objects", "--json", t.pid))["objects"]
        fig = json.loads(ok("--objects", "-x", "--json", t.pid))["objects"]
        table = ok("--objects", t.pid).splitlines()
    for kind in ("text", "rodata", "data", "bss"):
        assert sum(o[kind] for o in objs) == doc["totals"].get(kind, 0), kind
    mine = [o for o in objs if o["path"] == os.path.realpath(TARGET)]
    assert len(mine) == 1, objs
    assert mine[0]["bss"] >= 256 * 1024 and mine[0]["text"] > 0
    first = min(int(r["start"], 16) for r in doc["regions"]
                if r["path"] == mine[0]["path"])
    assert int(mine[0]["base"], 16) == first
    assert any("libc.so" in o["path"] for o in objs)
    assert all(o["rss"] > 0 for o in fig), fig
    assert table[1].split() == ["BASE", "TEXT", "RODATA", "DATA", "BSS",
                                "OBJECT"]
    assert len(table) == 2 + len(objs)


# ---- layout -----------------------------------------------------------------

BAND_LINE = re.compile(r"([0-9a-f]+)-([0-9a-f]+) +(\S+) (#+) +(\S+)(?: +(.*))?")
GAP_LINE = re.compile(r" +\.\.\. (\S+) unmapped \.\.\.")
SVG = "{http://www.w3.org/2000/svg}"


def expected_bands(pid):
    """The map's regions merged as layout merges them: touching, same
    kind, same name; high addresses first."""
    bands = []
    for r in json.loads(ok("--json", pid))["regions"]:
        start, end = int(r["start"], 16), int(r["end"], 16)
        last = bands[-1] if bands else None
        if (last and last["end"] == start and last["kind"] == r["kind"]
                and last["path"] == r["path"]):
            last["end"] = end
        else:
            bands.append({"start": start, "end": end, "kind": r["kind"],
                          "path": r["path"]})
    return bands[::-1]


def layout_lines(text):
    """(bands, gaps) of a text picture: each band line's fields, and the
    index of the band each gap line follows."""
    lines = text.splitlines()
    bands, gaps = [], []
    for line in lines[2:]:
        m = BAND_LINE.fullmatch(line)
        if m:
            bands.append({"start": int(m[1], 16), "end": int(m[2], 16),
                          "size": m[3], "bar": len(m[4]), "kind": m[5],
                          "name": m[6], "line": line})
        else:
            assert GAP_LINE.fullmatch(line), line
            gaps.append(len(bands) - 1)
    return lines, bands, gaps


def shown_as(name, path):
    """Is name what a picture may show of path in little room: the
    whole, '.../' and the file name, or a start of either and '...'?"""
    path = path.replace("\n", "\\012")
    base = path.rsplit("/", 1)[-1] if path.startswith("/") else path
    if name in (path, ".../" + base):
        return True
    return name.endswith("...") and (base.startswith(name[:-3]) or
                                     path.startswith(name[:-3]))


def test_layout_text_bands_high_first():
    with Target() as t:
        want = expected_bands(t.pid)
        text = ok("layout", t.pid)
    lines, bands, gaps = layout_lines(text)
    assert lines[0] == f"{t.pid} (target)"
    assert lines[1].split() == ["START-END", "SIZE", "BAR", "KIND", "NAME"]
    assert all(len(line) <= 80 for line in lines), max(map(len, lines))
    assert [(b["start"], b["end"], b["kind"]) for b in bands] == \
        [(b["start"], b["end"], b["kind"]) for b in want]
    starts = [b["start"] for b in bands]
    assert all(a > b for a, b in zip(starts, starts[1:])), starts
    # A gap line exactly where two bands do not touch.
    assert gaps == [i for i in range(len(want) - 1)
                    if want[i + 1]["end"] < want[i]["start"]], gaps
    for got, w in zip(bands, want):
        if w["path"] is None:
            assert got["name"] is None, got
        else:
            assert shown_as(got["name"], w["path"]), (got, w)
    # Log-scaled bars: one # at 4 KiB, never shorter for a larger band.
    by_size = sorted(bands, key=lambda b: b["end"] - b["start"])
    assert all(a["bar"] <= b["bar"] for a, b in zip(by_size, by_size[1:]))
    assert all(b["bar"] == 1 for b in bands if b["end"] - b["start"] == 4096)
    # The textbook picture: stack above heap above the program's text.
    where = {}
    for i, b in enumerate(bands):
        if b["kind"] in ("stack", "heap") or (
                b["kind"] == "text" and b["name"].endswith("/target")):
            where.setdefault(b["kind"], i)
    assert where["stack"] < where["heap"] < where["text"], where
    assert t.addr["stack"] in range(bands[where["stack"]]["start"],
                                    bands[where["stack"]]["end"])


def test_layout_json_matches_text():
    with Target() as t:
        doc = json.loads(ok("layout", "--json", t.pid))
        _, bands, _ = layout_lines(ok("layout", t.pid))
    assert doc["pid"] == t.pid and doc["comm"] == "target"
    assert [(int(b["start"], 16), int(b["end"], 16), b["kind"])
            for b in doc["bands"]] == \
        [(b["start"], b["end"], b["kind"]) for b in bands]
    for b, below in zip(doc["bands"], doc["bands"][1:] + [None]):
        assert b["size"] == int(b["end"], 16) - int(b["start"], 16)
        assert b["regions"] >= 1
        assert b["unmapped_below"] == (
            0 if below is None else int(b["start"], 16) - int(below["end"], 16))


def read_pty(master):
    """All a pseudo-terminal's other end wrote until it closed; closes it."""
    data = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:     # EIO: the other end is closed
            break
        if not chunk:
            break
        data += chunk
    os.close(master)
    return data


def run_on_tty(args, env):
    """memwalk ARGS with its stdout on a pseudo-terminal; what it wrote."""
    master, slave = pty.openpty()
    p = subprocess.Popen([MEMWALK, *map(str, args)], stdout=slave,
                         stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out = read_pty(master)
    assert p.wait(30) == 0, p.stderr.read()
    return out


def test_layout_color_only_when_allowed():
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    with Target() as t:
        piped = subprocess.run([MEMWALK, "layout", str(t.pid)], env=env,
                               capture_output=True, check=True).stdout
        no_color = dict(env, NO_COLOR="1")
        empty = dict(env, NO_COLOR="")
        always = subprocess.run([MEMWALK, "layout", "--color=always",
                                 str(t.pid)], env=no_color,
                                capture_output=True, check=True).stdout
        never = run_on_tty(["layout", "--color=never", t.pid], env)
        tty = run_on_tty(["layout", t.pid], env)
        tty_no_color = run_on_tty(["layout", t.pid], no_color)
        tty_empty = run_on_tty(["layout", t.pid], empty)
    for out in (piped, never, tty_no_color):
        assert b"\x1b" not in out
    for out in (always, tty, tty_empty):
        assert b"\x1b[35m#" in out, out[:400]      # the stack's bar
        assert b"\x1b[0m" in out
    # Colors change nothing but the escapes.
    plain = re.sub(rb"\x1b\[[0-9;]*m", b"", always)
    assert plain == piped


def run_env(args, env):
    """memwalk ARGS through pipes in env: its stdout; status 0, no stderr."""
    r = subprocess.run([MEMWALK, *map(str, args)], env=env,
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stderr == b"", (args, r)
    return r.stdout


SGR = re.compile(rb"\x1b\[[0-9;]*m")


def test_color_every_text_command():
    """Every text output takes --color: always colors the kinds (each in
    its color) and the headings (bold) and changes nothing else, even
    with NO_COLOR; auto colors a terminal unless NO_COLOR is set and not
    empty; never, NO_COLOR=1 and a pipe have no escapes, nor has JSON."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    no_color, empty = dict(env, NO_COLOR="1"), dict(env, NO_COLOR="")
    tmp = tempfile.mkdtemp()
    a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
    heap, bold = b"\x1b[32mheap\x1b[0m", b"\x1b[1m"
    try:
        with Target() as t, Target("-c", PY_SCRIPT, exe=PYTHON) as py, \
                Target("--threads", "1", exe=STACK_TARGET) as st:
            wait_parked(st.pid)
            with open(a, "w") as f:
                f.write(ok("snap", t.pid))
            with open(b, "w") as f:
                f.write(ok("snap", py.pid))
            # (arguments, escapes the colored text has, same text twice)
            cases = [
                ([t.pid], [heap, bold + b"START-END", bold + b"KIND"], True),
                (["-x", t.pid], [heap, bold + b"START-END"], False),
                (["--totals", t.pid], [heap, bold + b"KIND"], True),
                (["--objects", t.pid], [bold + b"BASE"], True),
                (["where", t.pid, hex(t.addr["heap"])], [heap], True),
                (["py", py.pid], [bold + b"python\x1b[0m",
                                  bold + b"CLASS"], True),
                (["arenas", py.pid], [bold + b"ALLOCATOR",
                                      b"\x1b[92mpymalloc\x1b[0m"], True),
                (["stack", st.pid], [bold + b"TID ",
                                     b"\x1b[35mstack\x1b[0m"], True),
                (["diff", a, b], [bold + b"KIND", heap], True),
                (["watch", "--count", "1", t.pid], [bold + b"     TIME"],
                 True),
                (["layout", t.pid], [b"\x1b[35m#", bold + b"START-END"],
                 True),
            ]
            for args, marks, stable in cases:
                # A stack run interrupts the target's read(2), which
                # restarts (running, its IP on the syscall) after the
                # detach: the next run waits until it sleeps again.
                if args[0] == "stack":
                    wait_parked(st.pid)
                piped = run_env(args, env)
                if args[0] == "stack":
                    wait_parked(st.pid)
                always = run_env(["--color=always", *args], no_color)
                what = f"memwalk {args}"
                for mark in marks:
                    assert mark in always, (what, mark, always[:600])
                assert b"\x1b" not in piped, what
                if stable:      # colors change nothing but the escapes
                    assert SGR.sub(b"", always) == piped, what
                for out in (run_on_tty(["--color=never", *args], env),
                            run_on_tty(args, no_color),
                            run_on_tty(["--json", *args], env)):
                    assert b"\x1b" not in out, (what, out[:300])
                for out in (run_on_tty(args, env), run_on_tty(args, empty)):
                    assert marks[0] in out, (what, out[:300])
    finally:
        shutil.rmtree(tmp)


def run_stderr_on_tty(args):
    """memwalk ARGS with stdout a file and stderr a pseudo-terminal: its
    stdout, and what the terminal got."""
    master, slave = pty.openpty()
    outfile = tempfile.TemporaryFile()     # a pipe would fill up unread
    p = subprocess.Popen([MEMWALK, *map(str, args)], stdout=outfile,
                         stderr=slave)
    os.close(slave)
    err = read_pty(master)
    assert p.wait(30) == 0, err
    outfile.seek(0)
    out = outfile.read()
    outfile.close()
    return out, err


PROGRESS = re.compile(rb"((?:\rmemwalk: reading smaps\.\.\. \d+ regions *)+)"
                      rb"\r( +)\r")


def test_progress_on_a_terminal_only():
    """A read of smaps shows its count of regions on stderr when it is a
    terminal, in place, at most ten times a second, erased at the end;
    a pipe or a file gets nothing, and the answer is the same."""
    with Target("--maps", "1000") as t:
        with open(f"/proc/{t.pid}/maps", "rb") as f:
            nregions = len(f.readlines())
        piped = json.loads(ok("snap", t.pid))
        with tempfile.TemporaryFile() as errfile:
            r = subprocess.run([MEMWALK, "-x", str(t.pid)], stderr=errfile,
                               stdout=subprocess.PIPE, timeout=60)
            errfile.seek(0)
            assert r.returncode == 0 and errfile.read() == b""
        assert ok("watch", "--count", "2", "--interval", "0.05", t.pid)
        for args, reads in ((["snap", t.pid], 1), (["-x", t.pid], 1),
                            (["watch", "--count", "3", "--interval", "0.05",
                              t.pid], 3)):
            start = time.monotonic()
            out, err = run_stderr_on_tty(args)
            elapsed = time.monotonic() - start
            what = f"memwalk {args}: {err[:300]!r}"
            shown = list(PROGRESS.finditer(err))
            assert b"".join(m.group(0) for m in shown) == err, what
            assert len(shown) == reads, what
            draws = 0
            for m in shown:
                lines = m.group(1).split(b"\r")[1:]
                draws += len(lines)
                counts = [int(x.split()[3]) for x in lines]
                assert counts == sorted(counts), what
                assert 64 <= counts[0] and counts[-1] <= nregions, what
                # The blank covers the last line drawn, no more.
                assert len(m.group(2)) == len(lines[-1]), what
            assert draws <= reads + 10 * elapsed + 1, (draws, elapsed)
            if args[0] == "snap":
                doc = json.loads(out)
                assert len(doc["regions"]) == len(piped["regions"]), what
            else:
                assert b"\x1b" not in out and out.count(b"\n") > 3, what


def test_progress_erased_when_interrupted():
    """^C ends a watch: a progress line up at that moment is erased
    first, and memwalk still dies of the signal."""
    with Target("--maps", "20000") as t:
        for _ in range(3):
            master, slave = pty.openpty()
            p = subprocess.Popen([MEMWALK, "watch", "--interval", "0.01",
                                  str(t.pid)], stdout=subprocess.DEVNULL,
                                 stderr=slave)
            os.close(slave)
            err = b""
            while b"regions" not in err:    # a read is being shown
                err += os.read(master, 65536)
            p.send_signal(signal.SIGINT)
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                err += chunk
            os.close(master)
            assert p.wait(30) == -signal.SIGINT, p.returncode
            shown = list(PROGRESS.finditer(err))
            assert shown and b"".join(m.group(0) for m in shown) == err, \
                err[-300:]


def svg_rects(root):
    rects = list(root.iter(SVG + "rect"))
    return ([r for r in rects if r.get("class") == "band"],
            [r for r in rects if r.get("class") == "gap"])


def test_layout_svg_picture():
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "layout.svg")
    try:
        with Target() as t:
            _, bands, gaps = layout_lines(ok("layout", t.pid))
            assert ok("layout", "--svg", path, t.pid) == ""
            to_stdout = ok("layout", "--svg", "-", t.pid)
        with open(path, encoding="utf-8") as f:
            text = f.read()
    finally:
        shutil.rmtree(tmp)
    assert text == to_stdout
    root = ET.fromstring(text.encode())
    assert root.tag == SVG + "svg"
    band_rects, gap_rects = svg_rects(root)
    assert len(band_rects) == len(bands) and len(gap_rects) == len(gaps)
    for r, b in zip(band_rects, bands):
        assert (int(r.get("data-start"), 16), int(r.get("data-end"), 16),
                r.get("data-kind")) == (b["start"], b["end"], b["kind"])
    ys = [int(r.get("y")) for r in band_rects]
    assert all(a < b for a, b in zip(ys, ys[1:])), ys
    # The lowest band of each kind: the program's text is the last.
    y = {r.get("data-kind"): int(r.get("y")) for r in band_rects}
    assert y["stack"] < y["heap"] < y["text"], y
    # Heights grow with the size, on a log scale: a 4 KiB band is
    # 16 px, and even the largest stays under 16 + 3 * 52.
    for r, b in zip(band_rects, bands):
        h = int(r.get("height"))
        assert 16 <= h <= 16 + 3 * 52
        if b["end"] - b["start"] == 4096:
            assert h == 16, (h, b)
    legend = [e.text for e in root.iter(SVG + "text")]
    for kind in {b["kind"] for b in bands}:
        assert kind in legend, kind
    # The newline in a name as \012, the byte 0xff as U+FFFD.
    titles = [r.find(SVG + "title").text for r in band_rects]
    assert any("odd name\\012with newline" in s for s in titles), titles
    assert any("caf\ufffd \ufffd" in s for s in titles), titles


ODD_NAME_SCRIPT = r"""
import mmap, os, sys
path = os.path.join(os.fsencode(sys.argv[1]),
                    b"a <b> & \"c\" 'd' ]]>\n\xff\x01\xef\xbf\xbe.map")
with open(path, "wb") as f:
    f.write(b"x" * 4096)
with open(path, "rb") as f:
    m = mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ)
print("ready", flush=True)
sys.stdin.read()
"""


def test_layout_svg_escapes_names():
    """A mapped file whose name holds markup, quotes, a newline, a
    control character, a byte that is not UTF-8 and U+FFFE."""
    tmp = tempfile.mkdtemp()
    try:
        with Target("-c", ODD_NAME_SCRIPT, tmp, exe=PYTHON) as t:
            text = ok("layout", "--svg", "-", t.pid)
            lines = ok("layout", t.pid).splitlines()
    finally:
        shutil.rmtree(tmp)
    root = ET.fromstring(text.encode())     # expat: well-formed XML 1.0
    want = "a <b> & \"c\" 'd' ]]>\\012\ufffd\\001\ufffd.map"
    titles = [r.find(SVG + "title").text for r in svg_rects(root)[0]]
    assert any(s.startswith("file " + tmp) and want in s for s in titles), \
        titles
    labels = [e.text or "" for e in root.iter(SVG + "text")]
    assert any(s.endswith(".../" + want) for s in labels), labels
    assert all(len(line) <= 80 for line in lines)


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    raise AssertionError("chromium not found: scripts/deps installs it "
                         "(Debian package chromium)")


def png_read(path, upto):
    """(width, height, bytes per pixel, rows): the PNG's header and its
    first `upto` rows unfiltered (8-bit RGB or RGBA, not interlaced),
    every chunk's CRC and the size of the image data checked."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
    pos, ihdr, idat = 8, None, []
    while pos + 12 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind}"
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    else:
        raise AssertionError("no IEND chunk")
    width, height, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
    bpp = 3 if ctype == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    assert len(raw) == height * (stride + 1), (len(raw), height, stride)
    rows, prev = [], bytearray(stride)
    for y in range(min(upto, height)):
        at = y * (stride + 1)
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        assert kind <= 4, f"filter type {kind}"
        for i in range(stride if kind else 0):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                pred = a
            elif kind == 2:
                pred = b
            elif kind == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + pred) & 0xff
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def test_layout_svg_renders_in_chromium():
    """The SVG opens in a browser: headless Chromium draws it, and the
    stack's band is where the SVG says, in its color."""
    browser = chromium()
    tmp = tempfile.mkdtemp()
    svg, png = os.path.join(tmp, "layout.svg"), os.path.join(tmp, "out.png")
    try:
        with Target() as t:
            ok("layout", "--svg", svg, t.pid)
        r = subprocess.run([browser, "--headless", "--no-sandbox",
                            "--disable-gpu", f"--user-data-dir={tmp}/profile",
                            f"--screenshot={png}", "--window-size=1000,2000",
                            "file://" + svg], capture_output=True, timeout=180)
        assert os.path.exists(png), r.stderr[-2000:]
        stack = next(e for e in svg_rects(ET.parse(svg).getroot())[0]
                     if e.get("data-kind") == "stack")
        x = int(stack.get("x")) + int(stack.get("width")) - 12
        y = int(stack.get("y")) + int(stack.get("height")) // 2
        width, height, bpp, rows = png_read(png, y + 1)
    finally:
        shutil.rmtree(tmp)
    assert (width, height) == (1000, 2000)
    pixel = rows[y][x * bpp:x * bpp + 3]
    fill = bytes.fromhex(stack.get("fill")[1:])
    assert all(abs(a - b) <= 3 for a, b in zip(pixel, fill)), (pixel, fill)
    assert rows[2][:3] == b"\xff\xff\xff"       # the white page
    colors = {row[i:i + 3] for row in rows for i in range(0, len(row), bpp)}
    assert len(colors) >= 8, len(colors)        # not one flat color


if __name__ == "__main__":
    sys.exit(mwtest.main(globals()))
