#!/usr/bin/env python3
"""`make install DESTDIR=TMP` as a packager runs it: every file memwalk
installs is under TMP at its configured place (the command, the library
in each form libtool builds, the header, the pkg-config file, the man
pages, the bash completion) and nothing else is; the installed command
runs; nothing is written outside TMP (every writing system call of the
install, traced with strace, names a path under TMP); and `make
uninstall DESTDIR=TMP` takes every file back.

Each test_* function asserts; the run ends with 'N passed, N failed'.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import mwtest

TOP_BUILDDIR = os.environ["top_builddir"]
TOP_SRCDIR = os.environ["top_srcdir"]
MAKE = os.environ.get("MAKE") or "make"
DIRS = {k: os.environ[v] for k, v in (
    ("bindir", "MW_BINDIR"), ("libdir", "MW_LIBDIR"),
    ("includedir", "MW_INCLUDEDIR"), ("pkgconfigdir", "MW_PKGCONFIGDIR"),
    ("mandir", "MW_MANDIR"), ("completions", "MW_BASHCOMPLETIONDIR"))}


def make(*args, trace=None):
    """make ARGS in the build tree, alone (not the jobserver of the make
    that runs the tests), under strace -ff into trace when given."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    cmd = [MAKE, "-C", TOP_BUILDDIR, *args]
    if trace is not None:
        cmd = ["strace", "-ff", "-qq", "-y", "-s", "4096", "-o", trace,
               "-e", "trace=" + ",".join(sorted(TRACED))] + cmd
    r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])


def libtool_files():
    """The library's files, as libtool names them in lib/libmemwalk.la."""
    with open(os.path.join(TOP_BUILDDIR, "lib", "libmemwalk.la")) as f:
        la = dict(re.findall(r"^(\w+)='(.*)'$", f.read(), re.M))
    names = la["library_names"].split() + ["libmemwalk.la"]
    if la.get("old_library"):
        names.append(la["old_library"])
    return [os.path.join(DIRS["libdir"], n) for n in names]


def expected_files():
    files = [os.path.join(DIRS["bindir"], "memwalk"),
             os.path.join(DIRS["includedir"], "memwalk.h"),
             os.path.join(DIRS["pkgconfigdir"], "memwalk.pc")]
    files += libtool_files()
    for page in glob.glob(os.path.join(TOP_SRCDIR, "man", "*.[1-9]")):
        files.append(os.path.join(DIRS["mandir"], "man" + page[-1],
                                  os.path.basename(page)))
    if DIRS["completions"]:
        files.append(os.path.join(DIRS["completions"], "memwalk"))
    return sorted(files)


def installed(root):
    """Every file and symbolic link under root, as a path without it."""
    found = []
    for d, _, names in os.walk(root):
        for n in names:
            found.append(os.path.join(d, n)[len(root):])
    return sorted(found)


# ---- what the install wrote ---------------------------------------------

# System calls that write a path: for each, the indexes of its (dirfd,
# path) pairs among the arguments, dirfd None for a path alone.
TRACED = {
    "open": [(None, 0)], "creat": [(None, 0)], "openat": [(0, 1)],
    "mkdir": [(None, 0)], "mkdirat": [(0, 1)], "rmdir": [(None, 0)],
    "rename": [(None, 0), (None, 1)], "renameat": [(0, 1), (2, 3)],
    "renameat2": [(0, 1), (2, 3)], "link": [(None, 1)],
    "linkat": [(2, 3)], "symlink": [(None, 1)], "symlinkat": [(1, 2)],
    "unlink": [(None, 0)], "unlinkat": [(0, 1)], "chmod": [(None, 0)],
    "fchmodat": [(0, 1)], "chown": [(None, 0)], "lchown": [(None, 0)],
    "fchownat": [(0, 1)], "truncate": [(None, 0)], "utimes": [(None, 0)],
    "utimensat": [(0, 1)],
    # followed for the working directory of each process
    "chdir": [], "fchdir": [], "clone": [], "clone3": [], "fork": [],
    "vfork": [],
}
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
CALL = re.compile(r"^(\w+)\((.*)\)\s+= (-?\d+|\?)")


def split_args(text):
    """Arguments as (string or None, path of a decorated fd or None, raw)."""
    args = []
    for part in re.split(r",\s(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text):
        part = part.strip()
        m = re.fullmatch(r'"((?:[^"\\]|\\.)*)"\.*', part)
        fd = re.fullmatch(r"[\w-]+<(.*)>", part)
        args.append((m.group(1) if m else None,
                     fd.group(1) if fd else None, part))
    return args


def writes(trace_dir, cwd):
    """The paths the traced processes wrote, absolute: each process's
    file read in order, from make's, a child starting in its parent's
    directory."""
    out = []
    todo = [(first_pid(trace_dir), cwd)]
    while todo:
        pid, cwd = todo.pop()
        path = os.path.join(trace_dir, f"t.{pid}")
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as f:
            for line in f:
                m = CALL.match(line)
                if not m or m.group(3) == "-1" or m.group(3) == "?":
                    continue
                name, args = m.group(1), split_args(m.group(2))
                if name in ("clone", "clone3", "fork", "vfork"):
                    todo.append((int(m.group(3)), cwd))
                    continue
                if name == "chdir":
                    cwd = os.path.normpath(os.path.join(cwd, args[0][0]))
                    continue
                if name == "fchdir":
                    cwd = args[0][1] or cwd
                    continue
                if name in ("open", "openat") and not any(
                        flag in args[1 if name == "open" else 2][2]
                        for flag in WRITE_FLAGS):
                    continue
                for dirfd, p in TRACED.get(name, []):
                    target = args[p][0]
                    if target is None:      # utimensat(fd, NULL): the fd
                        target = args[dirfd][1] if dirfd is not None \
                            else None
                        if target is None:
                            continue
                    base = cwd if dirfd is None or \
                        args[dirfd][1] is None else args[dirfd][1]
                    out.append((name, os.path.normpath(
                        os.path.join(base, target))))
    return out


def first_pid(trace_dir):
    """The process that no traced one started: make."""
    pids, children = set(), set()
    for n in os.listdir(trace_dir):
        pids.add(int(n.split(".")[1]))
        with open(os.path.join(trace_dir, n), errors="replace") as f:
            for line in f:
                m = CALL.match(line)
                if m and m.group(1) in ("clone", "clone3", "fork", "vfork") \
                        and m.group(3) not in ("-1", "?"):
                    children.add(int(m.group(3)))
    roots = pids - children
    assert len(roots) == 1, roots
    return roots.pop()


def test_install_destdir():
    tmp = tempfile.mkdtemp()
    root = os.path.join(tmp, "root")
    try:
        traced = shutil.which("strace") is not None and subprocess.run(
            ["strace", "-qq", "-o", "/dev/null", "true"]).returncode == 0
        trace_dir = os.path.join(tmp, "trace")
        os.mkdir(trace_dir)
        if traced:
            make("install", "DESTDIR=" + root,
                 trace=os.path.join(trace_dir, "t"))
        else:
            print("  (strace cannot run here: the writes are not traced)")
            make("install", "DESTDIR=" + root)
        want = expected_files()
        got = installed(root)
        assert got == want, ("missing", sorted(set(want) - set(got)),
                             "unexpected", sorted(set(got) - set(want)))
        # The library is one file and the links libtool makes to it.
        real = {os.path.realpath(root + f) for f in libtool_files()
                if ".so" in f}
        assert len(real) == 1, real
        exe = root + os.path.join(DIRS["bindir"], "memwalk")
        r = subprocess.run([exe, "--version"], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0 and r.stdout.startswith("memwalk "), r
        if DIRS["completions"]:
            with open(os.path.join(TOP_SRCDIR, "completion",
                                   "memwalk"), "rb") as a, \
                    open(root + os.path.join(DIRS["completions"],
                                             "memwalk"), "rb") as b:
                assert a.read() == b.read()
            r = subprocess.run(
                ["bash", "-c", '. "$1" && complete -p memwalk', "-",
                 root + os.path.join(DIRS["completions"], "memwalk")],
                capture_output=True, text=True, timeout=30)
            assert r.returncode == 0 and "-F _memwalk" in r.stdout, r
        if traced:
            written = writes(trace_dir, os.path.realpath(TOP_BUILDDIR))
            inside = os.path.realpath(root) + os.sep
            outside = [(c, p) for c, p in written
                       if not (p + os.sep).startswith(inside) and
                       p not in ("/dev/null", "/dev/tty")]
            assert outside == [], outside[:20]
            # The trace saw the install: every file was written by it.
            paths = {p for _, p in written}
            assert all(os.path.realpath(root) + f in paths or
                       os.path.islink(root + f) for f in want), \
                sorted(f for f in want
                       if os.path.realpath(root) + f not in paths)
        make("uninstall", "DESTDIR=" + root)
        assert installed(root) == [], installed(root)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(mwtest.main(globals()))
