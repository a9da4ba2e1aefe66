# fuzz.mk: the libFuzzer targets (fuzz/README.md), built with clang.
#
# `make fuzz` in a configured build directory runs this file (GNU make)
# with the paths and library flags configure found:
#
#   make -f $(top_srcdir)/fuzz/fuzz.mk srcdir=... builddir=... \
#       LIBELF_CFLAGS=... LIBELF_LIBS=... LIBBSD_CFLAGS=... LIBBSD_LIBS=...
#
# The lib/ and src/ sources the targets need are compiled here, with
# -fsanitize=fuzzer-no-link,address,undefined, into builddir/fuzz/obj;
# each target links them with fuzz/libfuzzer.c (-DFUZZ_TARGET=fuzz_NAME)
# into builddir/fuzz/bin/fuzz_NAME. Without a clang that can link a
# libFuzzer program, the first rule says what to install and fails.

CLANG ?= clang
srcdir ?= .
builddir ?= .

TARGETS = maps smaps where elfsym snap
LIB_SRCS = util.c os_linux.c stream.c maps.c elf.c classify.c elfsym.c \
	smaps.c
SRC_SRCS = addrscan.c json.c cmd_diff.c out.c color.c
FUZZ_SRCS = common.c $(TARGETS:%=fuzz_%.c)

OBJ = $(builddir)/fuzz/obj
BIN = $(builddir)/fuzz/bin
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer $(SAN) \
	-Wall -Wextra -Wno-unused-parameter \
	-I$(builddir) -I$(srcdir)/lib -I$(srcdir)/src -I$(srcdir)/fuzz \
	-DMW_BUILDING $(LIBELF_CFLAGS) $(LIBBSD_CFLAGS)
FUZZ_LIBS = $(LIBELF_LIBS) $(LIBBSD_LIBS) -lm -lpthread

HDRS = $(builddir)/config.h $(srcdir)/lib/memwalk.h $(srcdir)/lib/mwi.h \
	$(srcdir)/src/cli.h $(srcdir)/src/json.h $(srcdir)/fuzz/fuzz.h

OBJS = $(LIB_SRCS:%.c=$(OBJ)/lib_%.o) $(SRC_SRCS:%.c=$(OBJ)/src_%.o) \
	$(FUZZ_SRCS:%.c=$(OBJ)/fuzz_%.o)

INSTALL_HINT = install Debian's clang and libclang-rt-14-dev (scripts/deps \
	does)

all: $(TARGETS:%=$(BIN)/fuzz_%)

$(OBJ)/.clang-ok:
	@mkdir -p $(OBJ) $(BIN)
	@if ! command -v $(CLANG) >/dev/null 2>&1; then \
		echo "make fuzz: $(CLANG) not found: $(INSTALL_HINT)" >&2; \
		exit 1; \
	fi
	@printf '%s\n' 'int LLVMFuzzerTestOneInput(const char *d, long n)' \
	    '{ return d == 0 && n > 0; }' >$(OBJ)/probe.c
	@if ! $(CLANG) -fsanitize=fuzzer,address,undefined $(OBJ)/probe.c \
	    -o $(OBJ)/probe >$(OBJ)/probe.log 2>&1; then \
		cat $(OBJ)/probe.log >&2; \
		echo "make fuzz: $(CLANG) cannot link a libFuzzer" \
		    "program: $(INSTALL_HINT)" >&2; \
		exit 1; \
	fi
	@rm -f $(OBJ)/probe $(OBJ)/probe.c $(OBJ)/probe.log
	@touch $@

$(OBJ)/lib_%.o: $(srcdir)/lib/%.c $(HDRS) $(OBJ)/.clang-ok
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(OBJ)/src_%.o: $(srcdir)/src/%.c $(HDRS) $(OBJ)/.clang-ok
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(OBJ)/fuzz_%.o: $(srcdir)/fuzz/%.c $(HDRS) $(OBJ)/.clang-ok
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(OBJ)/main_%.o: $(srcdir)/fuzz/libfuzzer.c $(HDRS) $(OBJ)/.clang-ok
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    -DFUZZ_TARGET=fuzz_$* -c $< -o $@

$(OBJ)/libfuzzmw.a: $(OBJS)
	rm -f $@
	ar rcs $@ $(OBJS)

$(BIN)/fuzz_%: $(OBJ)/main_%.o $(OBJ)/libfuzzmw.a
	$(CLANG) -fsanitize=fuzzer $(SAN) $< $(OBJ)/libfuzzmw.a $(FUZZ_LIBS) \
	    -o $@

clean:
	rm -rf $(OBJ) $(BIN)

.PHONY: all clean
.SECONDARY:
