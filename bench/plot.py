#!/usr/bin/env python3
"""plot.py: the scaling curves of bench/all as SVG, log-log, no library.

usage: plot.py DATA OUTDIR [--note TEXT]

DATA is the $BENCH_DATA file of a run (see bench/harness.h); its lines

    scale  PLOT  SERIES  X  MEDIAN  MIN  P90        (ms)

with PLOT "maps" become OUTDIR/scaling-maps.svg (time against the
number of mappings) and with PLOT "threads" OUTDIR/scaling-threads.svg
(time against the number of threads). Each series is a line through its
medians, with a bar from its min to its p90 at each point. --note is a
line printed under the title (the machine, the load).
"""
import math
import sys
from html import escape

W, H = 900, 600
LEFT, RIGHT, TOP, BOTTOM = 78, 640, 70, 530  # the plot area

# series label -> (legend text, colour, dash)
STYLE = {
    "cat /proc/PID/maps": ("cat /proc/PID/maps", "#777777", ""),
    "memwalk PID": ("memwalk PID", "#1f5fbf", ""),
    "pmap PID": ("pmap PID", "#e07b00", ""),
    "cat /proc/PID/smaps": ("cat /proc/PID/smaps", "#777777", "7,4"),
    "memwalk -x PID": ("memwalk -x PID", "#1f5fbf", "7,4"),
    "pmap -X PID": ("pmap -X PID", "#e07b00", "7,4"),
    "memwalk stack PID": ("memwalk stack PID", "#1f5fbf", ""),
    "eu-stack -p PID": ("eu-stack -p PID", "#2a9d3a", ""),
    "gdb -batch -p PID -ex 'thread apply all bt'":
        ("gdb -batch -p PID -ex 'thread apply all bt'", "#c0392b", ""),
}
OTHER_COLOURS = ["#8e44ad", "#16a085", "#d35400", "#2c3e50"]

PLOTS = {
    "maps": ("scaling-maps.svg",
             "Time against the number of mappings",
             "mappings (many_maps: pages of alternating protection)"),
    "threads": ("scaling-threads.svg",
                "Time against the number of threads",
                "threads (stack_target --threads N: N + 1 threads, each "
                "parked ~13 frames deep)"),
}


def read(path):
    plots = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) != 7 or p[0] != "scale":
                continue
            series = plots.setdefault(p[1], {})
            series.setdefault(p[2], []).append(
                (float(p[3]), float(p[4]), float(p[5]), float(p[6])))
    return plots


def steps125(lo, hi):
    """The 1-2-5 values from the largest at most lo to the smallest at
    least hi: the axis's bounds and ticks."""
    d = math.floor(math.log10(lo) + 1e-9)
    vals = []
    while True:
        for m in (1, 2, 5):
            v = m * 10.0 ** d
            if vals or v * (1 + 1e-9) >= lo:
                if not vals and v > lo * (1 + 1e-9):
                    # the step below lo starts the axis
                    prev = {1: (5, d - 1), 2: (1, d), 5: (2, d)}[m]
                    vals.append(prev[0] * 10.0 ** prev[1])
                vals.append(v)
                if v >= hi * (1 - 1e-9) and len(vals) > 1:
                    return vals
        d += 1


def x_label(v):
    if v >= 1000:
        return "%gk" % (v / 1000)
    return "%g" % v


def y_label(ms):
    if ms >= 1000:
        return "%g s" % (ms / 1000)
    if ms >= 1:
        return "%g ms" % ms
    return "%g us" % (ms * 1000)


def svg(plot, series, title, xtitle, note):
    xs = [pt[0] for pts in series.values() for pt in pts]
    ys = [v for pts in series.values() for pt in pts for v in pt[1:]]
    # a margin, so that no point sits on the frame
    xt = steps125(min(xs) / 1.15, max(xs) * 1.15)
    yt = steps125(min(ys) / 1.15, max(ys) * 1.15)
    xa, xb = math.log10(xt[0]), math.log10(xt[-1])
    ya, yb = math.log10(yt[0]), math.log10(yt[-1])

    def X(v):
        return LEFT + (math.log10(v) - xa) / (xb - xa) * (RIGHT - LEFT)

    def Y(v):
        return BOTTOM - (math.log10(v) - ya) / (yb - ya) * (BOTTOM - TOP)

    def major(v):
        return abs(math.log10(v) - round(math.log10(v))) < 1e-9

    out = []
    out.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" '
               'height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, '
               'Arial, sans-serif" font-size="12">' % (W, H, W, H))
    out.append('<rect width="100%" height="100%" fill="white"/>')
    out.append('<text x="%d" y="28" font-size="17" font-weight="bold">%s '
               '(log-log)</text>' % (LEFT, escape(title)))
    if note:
        out.append('<text x="%d" y="48" font-size="11" fill="#444">%s'
                   '</text>' % (LEFT, escape(note)))
    # grid: powers of ten strong, 2 and 5 light; a label at each
    for v in xt:
        x = X(v)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>'
                   % (x, TOP, x, BOTTOM,
                      "#bbbbbb" if major(v) else "#e6e6e6"))
        out.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#333">'
                   '%s</text>' % (x, BOTTOM + 17, x_label(v)))
    for v in yt:
        y = Y(v)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>'
                   % (LEFT, y, RIGHT, y,
                      "#bbbbbb" if major(v) else "#e6e6e6"))
        out.append('<text x="%d" y="%.1f" text-anchor="end" fill="#333">%s'
                   '</text>' % (LEFT - 6, y + 4, y_label(v)))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
               'stroke="#333"/>' % (LEFT, TOP, RIGHT - LEFT, BOTTOM - TOP))
    out.append('<text x="%d" y="%d" text-anchor="middle" font-size="13">%s'
               '</text>' % ((LEFT + RIGHT) // 2, BOTTOM + 42,
                            escape(xtitle)))
    out.append('<text x="20" y="%d" text-anchor="middle" font-size="13" '
               'transform="rotate(-90 20 %d)">wall time per run (median; '
               'bar: min to p90)</text>' % ((TOP + BOTTOM) // 2,
                                            (TOP + BOTTOM) // 2))
    # series
    ly = TOP + 8
    spare = iter(OTHER_COLOURS)
    for name, pts in series.items():
        pts.sort()
        text, colour, dash = STYLE.get(name, (name, None, ""))
        if colour is None:
            colour = next(spare, "#000000")
        dash_attr = ' stroke-dasharray="%s"' % dash if dash else ""
        for x, med, lo, hi in pts:
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                       'stroke="%s" stroke-width="1.2" opacity="0.6"/>'
                       % (X(x), Y(lo), X(x), Y(hi), colour))
        path = " ".join("%s%.1f,%.1f" % ("M" if i == 0 else "L", X(x),
                                         Y(med))
                        for i, (x, med, lo, hi) in enumerate(pts))
        out.append('<path d="%s" fill="none" stroke="%s" stroke-width="2"'
                   '%s/>' % (path, colour, dash_attr))
        for x, med, lo, hi in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="3.2" fill="%s">'
                       '<title>%s: %s, %.3f ms (min %.3f, p90 %.3f)</title>'
                       '</circle>' % (X(x), Y(med), colour, escape(text),
                                      x_label(x), med, lo, hi))
        # legend, right of the plot; long names wrap at a space
        words, lines, cur = text.split(" "), [], ""
        for w in words:
            if cur and len(cur) + 1 + len(w) > 30:
                lines.append(cur)
                cur = w
            else:
                cur = (cur + " " + w).strip()
        lines.append(cur)
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" '
                   'stroke-width="2"%s/>' % (RIGHT + 16, ly, RIGHT + 46, ly,
                                             colour, dash_attr))
        out.append('<circle cx="%d" cy="%d" r="3.2" fill="%s"/>'
                   % (RIGHT + 31, ly, colour))
        for i, line in enumerate(lines):
            out.append('<text x="%d" y="%d">%s</text>'
                       % (RIGHT + 54, ly + 4 + 15 * i, escape(line)))
        ly += 15 * len(lines) + 12
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    note = ""
    args = []
    i = 1
    while i < len(argv):
        if argv[i] == "--note" and i + 1 < len(argv):
            note = argv[i + 1]
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    plots = read(args[0])
    for plot, (fname, title, xtitle) in PLOTS.items():
        if plot not in plots:
            continue
        with open("%s/%s" % (args[1], fname), "w", encoding="utf-8") as f:
            f.write(svg(plot, plots[plot], title, xtitle, note))
        print("%s/%s" % (args[1], fname))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
