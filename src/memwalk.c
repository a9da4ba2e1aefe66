/*
 * memwalk.c: arguments, usage and dispatch.
 *
 *   memwalk [-x] [--json] [--objects | --totals] [--stop] PID|NAME
 *   memwalk where [--json] [--stop] [--no-procmap-query] PID|NAME ADDR... | -
 *   memwalk py [--json] PID|NAME
 *   memwalk arenas [--json] PID|NAME
 *   memwalk stack [--json] [--no-stop] PID|NAME
 *   memwalk layout [--json | --svg FILE] PID|NAME
 *   memwalk snap PID|NAME > FILE
 *   memwalk diff [--json] FILE1 FILE2
 *   memwalk watch [--json] [--interval S] [--count N] PID|NAME
 *
 * Every form but snap takes --color=WHEN for its text (not with --json
 * or --svg); the decision is color.c's, taken once here.
 *
 * Options may stand anywhere (getopt_long permutes). Everything else
 * lives in the cmd_*.c files; this one only decides which runs.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: memwalk [-hVx] [--color=when] [--json] [--objects | "
	    "--totals] [--stop]\n"
	    "               pid | name\n"
	    "       memwalk where [--color=when] [--json] [--no-procmap-query] "
	    "[--stop]\n"
	    "               pid | name addr ... | -\n"
	    "       memwalk py [--color=when] [--json] pid | name\n"
	    "       memwalk arenas [--color=when] [--json] pid | name\n"
	    "       memwalk stack [--color=when] [--json] [--no-stop] "
	    "pid | name\n"
	    "       memwalk snap pid | name > file\n"
	    "       memwalk diff [--color=when] [--json] file1 file2\n"
	    "       memwalk watch [--color=when] [--json] [--interval s] "
	    "[--count n]\n"
	    "               pid | name\n"
	    "       memwalk layout [--color=when | --json | --svg file] "
	    "pid | name\n");
}

static const struct option long_options[] = {
	{ "color", required_argument, NULL, 'C' },
	{ "count", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "interval", required_argument, NULL, 'i' },
	{ "json", no_argument, NULL, 'j' },
	{ "no-procmap-query", no_argument, NULL, 'T' },
	{ "no-stop", no_argument, NULL, 'N' },
	{ "objects", no_argument, NULL, 'O' },
	{ "stop", no_argument, NULL, 'S' },
	{ "svg", required_argument, NULL, 'G' },
	{ "totals", no_argument, NULL, 't' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* "-1", "-42": getopt would take a negative number for options. */
static void
refuse_negative_numbers(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (argv[i][0] == '-' && argv[i][1] >= '0' &&
		    argv[i][1] <= '9') {
			warnx("%s: negative numbers are neither PIDs nor "
			    "addresses", argv[i]);
			exit(EXIT_USAGE);
		}
}

/*
 * Options that do not apply to the command are usage errors, not
 * silently ignored: say which.
 */
static void
refuse_options(const struct options *o, const char *cmd, bool text_only,
    bool extended, bool totals, bool stop)
{
	const char	*bad = NULL;

	if (o->text_only && !text_only)
		bad = "--no-procmap-query";
	else if (o->extended && !extended)
		bad = "-x";
	else if (o->totals && !totals)
		bad = "--totals";
	else if (o->objects && !totals)	/* --objects goes where --totals does */
		bad = "--objects";
	else if (o->stop && !stop)
		bad = "--stop";
	if (bad == NULL && o->objects && o->totals) {
		warnx("--objects and --totals are two views: one at a time");
		exit(EXIT_USAGE);
	}
	if (bad == NULL)
		return;
	if (cmd != NULL)
		warnx("%s: %s does not apply to %s (see memwalk -h)", cmd, bad,
		    cmd);
	else
		warnx("%s applies to where only (see memwalk -h)", bad);
	exit(EXIT_USAGE);
}

/*
 * The options of outputs: --svg is layout's alone, refused elsewhere
 * as refuse_options refuses, by the command's name when the first
 * operand is one; --color goes with every text output, not with JSON
 * or SVG, nor with snap, which writes JSON only.
 */
static void
refuse_output_options(const struct options *o, const char *cmd)
{
	static const char *const commands[] = { "where", "py", "arenas",
	    "stack", "snap", "diff", "watch", NULL };
	bool	layout = cmd != NULL && strcmp(cmd, "layout") == 0;

	if (o->svg != NULL && !layout) {
		for (size_t i = 0; cmd != NULL && commands[i] != NULL; i++)
			if (strcmp(cmd, commands[i]) == 0) {
				warnx("%s: --svg does not apply to %s (see "
				    "memwalk -h)", cmd, cmd);
				exit(EXIT_USAGE);
			}
		warnx("--svg applies to layout only (see memwalk -h)");
		exit(EXIT_USAGE);
	}
	if (o->svg != NULL && o->json)
		warnx("--json and --svg are two outputs: one at a time");
	else if (o->color != COLOR_UNSET && cmd != NULL &&
	    strcmp(cmd, "snap") == 0)
		warnx("snap: --color does not apply to snap (see memwalk -h)");
	else if (o->color != COLOR_UNSET && (o->svg != NULL || o->json))
		warnx("--color applies to text output only, not to %s",
		    o->json ? "--json" : "--svg");
	else
		return;
	exit(EXIT_USAGE);
}

/* A number of --interval or --count, in [lo, hi]; or a usage error. */
static double
watch_number(const char *opt, const char *arg, double lo, double hi,
    bool integer)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v >= lo && v <= hi) ||
	    (integer && v != (double)(long)v)) {
		warnx("%s %s: %s from %.10g to %.10g", opt, arg, integer ?
		    "a whole number" : "a number of seconds", lo, hi);
		exit(EXIT_USAGE);
	}
	return v;
}

/* --color=WHEN: the one value, or a usage error. */
static enum color
parse_color(const char *when)
{
	if (strcmp(when, "auto") == 0)
		return COLOR_AUTO;
	if (strcmp(when, "always") == 0)
		return COLOR_ALWAYS;
	if (strcmp(when, "never") == 0)
		return COLOR_NEVER;
	warnx("--color=%s: use auto, always or never", when);
	exit(EXIT_USAGE);
}

/* An option that takes an argument was given none (getopt said ':'). */
static void
missing_argument(int opt)
{
	for (const struct option *lo = long_options; lo->name != NULL; lo++)
		if (lo->val == opt) {
			warnx("option --%s needs an argument (see memwalk -h)",
			    lo->name);
			return;
		}
	warnx("option -%c needs an argument (see memwalk -h)", opt);
}

/* Why getopt refused arg: an unknown option, or an argument given to one. */
static void
bad_option(const char *arg, int opt)
{
	const char	*eq = strchr(arg, '=');

	if (strncmp(arg, "--", 2) != 0) {
		warnx("unknown option -%c (see memwalk -h)", opt);
		return;
	}
	for (const struct option *lo = long_options; eq != NULL &&
	    lo->name != NULL; lo++)
		if (strlen(lo->name) == (size_t)(eq - arg - 2) &&
		    strncmp(lo->name, arg + 2, (size_t)(eq - arg - 2)) == 0) {
			warnx("option --%s takes no argument", lo->name);
			return;
		}
	warnx("unknown option %s (see memwalk -h)", arg);
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	int	c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hVx", long_options,
	    NULL)) != -1) {
		switch (c) {
		case 'C':
			o->color = parse_color(optarg);
			break;
		case 'c':
			o->count = (long)watch_number("--count", optarg,
			    1, 1e9, true);
			o->watch_opts = true;
			break;
		case 'i':
			o->interval = watch_number("--interval", optarg,
			    0.01, 86400, false);
			o->watch_opts = true;
			break;
		case 'G':
			if (*optarg == '\0') {
				warnx("--svg: an empty file name (- is the "
				    "standard output)");
				exit(EXIT_USAGE);
			}
			o->svg = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'j':
			o->json = true;
			break;
		case 'T':
			o->text_only = true;
			break;
		case 'N':
			o->no_stop = true;
			break;
		case 'O':
			o->objects = true;
			break;
		case 'S':
			o->stop = true;
			break;
		case 't':
			o->totals = true;
			break;
		case 'x':
			o->extended = true;
			break;
		case 'V':
			printf("memwalk %s\n", PACKAGE_VERSION);
			exit(0);
		case ':':
			missing_argument(optopt);
			exit(EXIT_USAGE);
		default:
			bad_option(argv[optind - 1], optopt);
			exit(EXIT_USAGE);
		}
	}
	return optind;
}

int
main(int argc, char **argv)
{
	struct options	 o = { 0 };
	char		**operands;
	pid_t		 pid;
	int		 n, rc;

	refuse_negative_numbers(argc, argv);
	n = argc - parse_options(argc, argv, &o);
	operands = argv + argc - n;
	if (o.no_stop && (n == 0 || strcmp(operands[0], "stack") != 0)) {
		warnx("--no-stop applies to stack only (see memwalk -h)");
		exit(EXIT_USAGE);
	}
	refuse_output_options(&o, n > 0 ? operands[0] : NULL);
	if (o.watch_opts && (n == 0 || strcmp(operands[0], "watch") != 0)) {
		warnx("--interval and --count apply to watch only (see "
		    "memwalk -h)");
		exit(EXIT_USAGE);
	}
	color_init(o.color, !o.json && o.svg == NULL);
	if (n > 0 && strcmp(operands[0], "snap") == 0) {
		refuse_options(&o, "snap", false, false, false, false);
		o.extended = o.json = o.snapshot = true;
		rc = n == 2 ? cmd_maps(&o, 1, operands + 1) :
		    (warnx(n == 1 ? "snap: a PID or process name is needed" :
		    "snap: one PID or process name at a time"), EXIT_USAGE);
	} else if (n > 0 && strcmp(operands[0], "diff") == 0) {
		refuse_options(&o, "diff", false, false, false, false);
		rc = cmd_diff(&o, n - 1, operands + 1);
	} else if (n > 0 && strcmp(operands[0], "watch") == 0) {
		refuse_options(&o, "watch", false, false, false, false);
		rc = cmd_watch(&o, n - 1, operands + 1);
	} else if (n > 0 && strcmp(operands[0], "stack") == 0) {
		refuse_options(&o, "stack", false, false, false, false);
		rc = cmd_stack(&o, n - 1, operands + 1);
	} else if (n > 0 && strcmp(operands[0], "where") == 0) {
		refuse_options(&o, "where", true, false, false, true);
		rc = cmd_where(&o, n - 1, operands + 1);
	} else if (n > 0 && strcmp(operands[0], "py") == 0) {
		refuse_options(&o, "py", false, false, false, true);
		rc = cmd_py(&o, n - 1, operands + 1);
	} else if (n > 0 && strcmp(operands[0], "layout") == 0) {
		refuse_options(&o, "layout", false, false, false, false);
		rc = cmd_layout(&o, n - 1, operands + 1);
	} else if (n > 0 && strcmp(operands[0], "arenas") == 0) {
		refuse_options(&o, "arenas", false, false, false, true);
		rc = cmd_arenas(&o, n - 1, operands + 1);
	} else {
		refuse_options(&o, NULL, false, true, true, true);
		rc = cmd_maps(&o, n, operands);
	}
	if (rc == 0 && target_replaced(&pid)) {
		warnx("%d: the process exited while being read, and its PID "
		    "now names another process", (int)pid);
		rc = EXIT_TARGET;
	}
	if (out_flush() == -1) {
		warn("stdout");
		if (rc == 0)
			rc = EXIT_TARGET;
	}
	return rc;
}
