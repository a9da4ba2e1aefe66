#!/usr/bin/env python3
# Writes the synthetic fixtures of this directory (see README).
# Run it from anywhere: python3 tests/data/gen_synth.py
import os
D = os.path.dirname(os.path.abspath(__file__))

def L(rng, perms, off, dev, ino, name=None, pad=73, trail=True):
    s = "%s %s %s %s %s" % (rng, perms, off, dev, ino)
    if name is None:
        return s + (" " if trail else "")
    return s + " " * max(1, pad - len(s)) + name

def w(fn, lines, final_nl=True):
    data = "\n".join(lines) + ("\n" if final_nl else "")
    with open(os.path.join(D, fn), "wb") as f:
        f.write(data.encode("latin-1"))

forms = [
 "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon",
 "00651000-00652000 r--p 00051000 08:02 173521      /usr/bin/dbus-daemon",
 "00652000-00655000 rw-p 00052000 08:02 173521      /usr/bin/dbus-daemon",
 "00e03000-00e24000 rw-p 00000000 00:00 0           [heap]",
 L("7f1c00000000-7f1c00021000", "rw-p", "00000000", "00:00", "0", "[anon: glibc: malloc arena]"),
 L("7f1c00021000-7f1c04000000", "---p", "00000000", "00:00", "0"),
 L("7f1c10000000-7f1c10004000", "rw-p", "00000000", "00:00", "0", "[anon:mw-named]"),
 L("7f1c10004000-7f1c10006000", "rw-s", "00000000", "00:01", "2048", "[anon_shmem:ring buffer]"),
 L("7f1c10006000-7f1c10007000", "rw-s", "00000000", "00:01", "4", "/SYSV0000beef (deleted)"),
 L("7f1c10007000-7f1c10008000", "rw-s", "00000000", "00:01", "5", "/memfd:jit  code (deleted)"),
 L("7f1c10008000-7f1c10009000", "r--p", "00000000", "fe:01", "4242", "/tmp/back\\slash\\01x\\end\\"),
 L("7f1c10009000-7f1c1000a000", "r--p", "00000000", "fe:01", "4243", "/tmp/two\\012lines\\012"),
 L("7f1c1000a000-7f1c1000b000", "r--p", "00000000", "fe:01", "4244", "/tmp/bs\\\\012"),
 L("7f1c1000b000-7f1c1000c000", "r-xp", "00002000", "fe:01", "4245", "/usr/lib/libgone.so.1 (deleted)"),
 L("7f1c1000c000-7f1c1000d000", "r--p", "00000000", "fe:01", "4246", "/tmp/not (deleted) at end"),
 L("7f1c1000d000-7f1c1000e000", "r--p", "00000000", "fe:01", "4247", "/tmp/x(deleted)"),
 L("7f1c1000e000-7f1c1000f000", "rw-p", "00000000", "00:00", "0"),
 L("7f1c1000f000-7f1c10010000", "rw-p", "00000000", "00:00", "0", trail=False),
 "7f1c10010000-7f1c10011000 r--s 0000000123456000 fff:fffff 18446744073709551615 /dev/dri/card0",
 L("7ffd6c9f0000-7ffd6ca11000", "rw-p", "00000000", "00:00", "0", "[stack]"),
 L("7ffd6cbf0000-7ffd6cbf4000", "r--p", "00000000", "00:00", "0", "[vvar]"),
 L("7ffd6cbf4000-7ffd6cbf6000", "r--p", "00000000", "00:00", "0", "[vvar_vclock]"),
 L("7ffd6cbf6000-7ffd6cbf8000", "r-xp", "00000000", "00:00", "0", "[vdso]"),
 L("7ffff7ff0000-7ffff7ff1000", "--xp", "00000000", "00:00", "0", "[uprobes]"),
 "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
]
w("synth_forms.maps", forms, final_nl=False)

bash = "/usr/bin/bash"
w("torn_dup.maps", [
 L("55d0c1a00000-55d0c1a2f000", "r--p", "00000000", "fe:00", "1234", bash),
 L("55d0c1a2f000-55d0c1b1f000", "r-xp", "0002f000", "fe:00", "1234", bash),
 L("55d0c1a2f000-55d0c1b1f000", "r-xp", "0002f000", "fe:00", "1234", bash),
 L("55d0c1b1f000-55d0c1b54000", "r--p", "0011f000", "fe:00", "1234", bash),
 "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
 "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
])

w("torn_overlap.maps", [
 L("7f0000000000-7f0000001000", "r--p", "00000000", "fe:00", "10", "/lib/a.so"),
 L("7f0000002000-7f0000006000", "rw-p", "00000000", "00:00", "0", "[anon:old big]"),
 L("7f0000004000-7f0000006000", "r--p", "00000000", "00:00", "0", "[anon:new tail]"),
 L("7f0000008000-7f000000a000", "rw-p", "00000000", "00:00", "0", "[anon:old]"),
 L("7f0000007000-7f0000009000", "r-xp", "00001000", "fe:00", "11", "/lib/b.so"),
 L("7f000000c000-7f000000d000", "rw-p", "00000000", "00:00", "0"),
 L("7f0000010000-7f0000011000", "rw-p", "00000000", "00:00", "0", "[anon:old inner]"),
 L("7f000000f000-7f0000012000", "r--p", "00000000", "00:00", "0", "[anon:new outer]"),
])

w("torn_order.maps", [
 L("7f0000003000-7f0000004000", "r--p", "00000000", "fe:00", "3", "/c"),
 L("7f0000001000-7f0000002000", "r--p", "00000000", "fe:00", "1", "/a"),
 L("7f0000005000-7f0000006000", "r--p", "00000000", "fe:00", "5", "/e"),
 L("7f0000002000-7f0000003000", "r--p", "00000000", "fe:00", "2", "/b"),
 L("7f0000004000-7f0000005000", "r--p", "00000000", "fe:00", "4", "/d"),
])

w("torn_chain.maps", [
 L("7f0000005000-7f0000006000", "rw-p", "00000000", "00:00", "0", "[anon:C read first]"),
 L("7f0000001000-7f0000009000", "rw-p", "00000000", "00:00", "0", "[anon:A read second]"),
 L("7f0000002000-7f0000003000", "r--p", "00000000", "00:00", "0", "[anon:B read third]"),
])

g1 = L("7f0000000000-7f0000001000", "r--p", "00000000", "fe:00", "77", "/usr/lib/libx.so")
g2 = L("7f0000001000-7f0000002000", "r-xp", "00001000", "fe:00", "77", "/usr/lib/libx.so")
g3 = L("7f0000002000-7f0000003000", "rw-p", "00000000", "00:00", "0")
g4 = L("7f0000003000-7f0000004000", "rw-p", "00000000", "00:00", "0", "[heap]")
g5 = L("7f0000004000-7f0000005000", "r--p", "00000000", "00:00", "0", "[vvar]")
bad = {
 "bad_nodash.maps":       ([g1, g2, L("7f0000002000 7f0000003000", "rw-p", "00000000", "00:00", "0"), g4], True),
 "bad_perms_rwxx.maps":   ([g1, L("7f0000001000-7f0000002000", "rwxx", "00001000", "fe:00", "77", "/usr/lib/libx.so"), g3], True),
 "bad_perms_short.maps":  ([L("7f0000000000-7f0000001000", "r-x", "00000000", "fe:00", "77", "/usr/lib/libx.so"), g2, g3], True),
 "bad_hexdigit.maps":     ([g1, g2, g3, L("7f0000003000-7f00000z4000", "rw-p", "00000000", "00:00", "0", "[heap]"), g5], True),
 "bad_17digits.maps":     ([g1, L("000007f0000001000-00007f0000002000", "r-xp", "00001000", "fe:00", "77", "/usr/lib/libx.so"), g3], True),
 "bad_start_eq_end.maps": ([g1, g2, L("7f0000002000-7f0000002000", "rw-p", "00000000", "00:00", "0"), g4], True),
 "bad_start_gt_end.maps": ([g1, L("7f0000002000-7f0000001000", "r-xp", "00001000", "fe:00", "77", "/usr/lib/libx.so"), g3], True),
 "bad_noinode.maps":      ([g1, "7f0000001000-7f0000002000 r-xp 00001000 fe:00                          /usr/lib/libx.so", g3], True),
 "bad_inode_overflow.maps": ([g1, g2, L("7f0000002000-7f0000003000", "rw-p", "00000000", "fe:00", "123456789012345678901", "/tmp/big"), g4], True),
 "bad_inode_2pow64.maps": ([L("7f0000000000-7f0000001000", "r--p", "00000000", "fe:00", "18446744073709551616", "/tmp/big"), g2], True),
 "bad_nul.maps":          ([g1, g2, L("7f0000002000-7f0000003000", "rw-p", "00000000", "fe:00", "88", "/tmp/nul\0byte"), g4], True),
 "bad_emptyline.maps":    ([g1, g2, "", g4, g5], True),
 "bad_truncated.maps":    ([g1, g2, g3, "7f00-"], False),
 "bad_garbage.maps":      ([g1, "garbage: this is not a maps line", g3], True),
 "bad_dev_major.maps":    ([g1, g2, g3, g4, L("7f0000004000-7f0000005000", "r--p", "00000000", "1000:00", "5", "/dev/x")], True),
 "bad_inode_junk.maps":   ([g1, g2, L("7f0000002000-7f0000003000", "rw-p", "00000000", "fe:00", "12a3", "/tmp/junk")], True),
}
for fn, (lines, nl) in bad.items():
    w(fn, lines, nl)
