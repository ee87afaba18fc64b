# xlb - XDP layer-4 load balancer. `make help` lists the targets.
# Quiet by default; V=1 shows the commands.

BUILD_DEFAULT := build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)
# SAN=1: AddressSanitizer + UBSan build of all user space, in build-san/.
# With clang: gcc's UBSan, linked beside its ASan, ignores log_path, and
# tests/run.sh finds reports by their files.
ifeq ($(SAN),1)
BUILD_DEFAULT := build-san
CC       := $(CLANG)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined
endif
BUILD    ?= $(BUILD_DEFAULT)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror $(SAN_FLAGS)
# CPPFLAGS and LDFLAGS: what a packager adds (dpkg-buildflags: fortify, relro).
CFLAGS   += $(CPPFLAGS)
# Each part sees only the headers it may use, so a forbidden arrow is a
# compile error: lib uses neither daemon nor CLI, the CLI not the daemon.
LIB_INC  := -Iinclude -Iuser/lib -I$(BUILD)
XLBD_INC := $(LIB_INC) -Iuser/xlbd
CTL_INC  := $(LIB_INC)
LDLIBS   := -lbpf -lelf -lz -lyaml -ljson-c
# -fno-strict-aliasing, as the kernel builds: headers are written through
# one type and read through another (a checksum sums as 16-bit words the
# addresses just stored as 32-bit ones); with strict aliasing the compiler
# may hoist those reads above the stores.
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -Wno-unused-function \
	      -fno-strict-aliasing -Iinclude -Ibpf -I$(ARCH_INC)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/*.h include/xlb/*.h)

LIB_SRCS := $(wildcard user/lib/*.c)
LIB_OBJS := $(patsubst user/lib/%.c,$(BUILD)/obj/lib/%.o,$(LIB_SRCS))
LIB      := $(BUILD)/libxlb.a

# The daemon: main.c plus an archive of its parts, which unit tests link.
XLBD_SRCS := $(filter-out user/xlbd/main.c,$(wildcard user/xlbd/*.c))
XLBD_OBJS := $(patsubst user/xlbd/%.c,$(BUILD)/obj/xlbd/%.o,$(XLBD_SRCS))
XLBD_LIB  := $(BUILD)/libxlbd.a
XLBD_LIBS := -lmicrohttpd -lcurl -lpthread -lm -lcrypto -lsystemd

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/%,$(UNIT_SRCS))

TOOLS    := $(BUILD)/xlb-pktest $(BUILD)/xlb-bench $(BUILD)/xlbd $(BUILD)/xlbctl \
	    $(BUILD)/xlb-difftest

# libFuzzer targets: every tests/fuzz/fuzz_NAME.c defines
# LLVMFuzzerTestOneInput and links against lib + daemon parts compiled again
# with clang, instrumented (objects built by gcc carry no coverage). Seeds in
# tests/fuzz/corpus/NAME/; tests/fuzz/run.sh never writes into them.
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SAN   := address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror -fno-omit-frame-pointer
FUZZ_OBJS  := $(patsubst user/lib/%.c,$(BUILD)/fuzz/obj/lib/%.o,$(LIB_SRCS)) \
	      $(patsubst user/xlbd/%.c,$(BUILD)/fuzz/obj/xlbd/%.o,$(XLBD_SRCS))
FUZZ_LIB   := $(BUILD)/fuzz/libxlb-fuzz.a
FUZZ_TIME  ?= 600

.PHONY: all test bench demo clean help deps san fuzz-build fuzz difffuzz experiment \
	progs install uninstall deb
.DELETE_ON_ERROR:

all: $(BPF_OBJS) $(SKELS) $(LIB) $(TOOLS) $(UNIT_BINS)
# The plain build makes the sanitizer tree and the fuzzers too, so that
# tests/run.sh, which runs them, never runs stale ones.
ifneq ($(SAN),1)
all: san fuzz-build
endif

help:
	@echo "make            build BPF objects (build/*.bpf.o), libxlb, tools, tests,"
	@echo "                the sanitizer tree (make san) and the fuzzers (make fuzz-build)"
	@echo "make test       build all that, run every test (tests/run.sh);"
	@echo "                ends with 'N passed, N failed' (what CI runs, see .ci/run)"
	@echo "make san        = make SAN=1: ASan+UBSan build of user space in build-san/"
	@echo "make fuzz       run each libFuzzer target FUZZ_TIME s (default 600), corpus"
	@echo "                kept in build/fuzz/corpus/, crashes in build/fuzz/crashes/"
	@echo "make difffuzz   xlb-difftest over DIFF_FRAMES (10M) frames (also in make fuzz)"
	@echo "make bench      ns/packet and live Mpps against floors measured in the same run"
	@echo "make demo       the anycast lab demo (scripts/demo.sh)"
	@echo "make experiment every algorithm against a slow and a dead server in"
	@echo "                the lab (scripts/experiment.sh); writes docs/experiment.md"
	@echo "make deps       install the Debian packages needed (root)"
	@echo "make install    xlbd, xlbctl, BPF objects, man pages, the unit and an"
	@echo "                example config; DESTDIR, PREFIX (/usr); make uninstall"
	@echo "make deb        the Debian package (dpkg-buildpackage), in build/"
	@echo "make clean      remove build/ and build-san/"
	@echo "V=1             show commands"

deps:
	bash scripts/install-deps.sh

$(BUILD) $(BUILD)/obj/lib $(BUILD)/obj/xlbd:
	$(Q)mkdir -p $@

# The capture build is the balancer's source with recording compiled in.
$(BUILD)/xlb_capture.bpf.o: bpf/xlb.bpf.c

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@

# The dashboard's object includes its page (.incbin).
$(BUILD)/obj/xlbd/dashboard.o $(BUILD)/fuzz/obj/xlbd/dashboard.o: \
	user/xlbd/dashboard.html

$(BUILD)/obj/lib/%.o: user/lib/%.c $(wildcard user/lib/*.h include/xlb/*.h) $(SKELS) | $(BUILD)/obj/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LIB_INC) -c $< -o $@

$(BUILD)/obj/xlbd/%.o: user/xlbd/%.c $(wildcard user/lib/*.h user/xlbd/*.h include/xlb/*.h) | $(BUILD)/obj/xlbd
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(XLBD_INC) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(XLBD_LIB): $(XLBD_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/xlb-pktest: tests/pkt/pktest.c $(LIB) $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LIB_INC) $< -o $@ $(LIB) $(LDLIBS)

# Differential fuzzing (tests/diff): the model is compiled with include/
# alone, so it cannot use the BPF code's headers or libxlb's.
$(BUILD)/diff-model.o: tests/diff/model.c tests/diff/model.h $(wildcard include/xlb/*.h) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iinclude -c $< -o $@

$(BUILD)/xlb-difftest: tests/diff/difftest.c $(BUILD)/diff-model.o $(LIB) $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LIB_INC) -Itests/diff $< $(BUILD)/diff-model.o -o $@ $(LIB) $(LDLIBS)

# The release, one fact in one file: --version of both tools.
XLB_VERSION := $(shell cat VERSION)

$(BUILD)/xlbd: user/xlbd/main.c $(XLBD_LIB) $(LIB) $(wildcard user/xlbd/*.h) VERSION
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -DXLB_VERSION='"$(XLB_VERSION)"' $(XLBD_INC) $< -o $@ $(XLBD_LIB) $(LIB) $(LDLIBS) $(XLBD_LIBS)

$(BUILD)/xlbctl: user/xlbctl/xlbctl.c $(LIB) $(SKELS) VERSION
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -DXLB_VERSION='"$(XLB_VERSION)"' $(CTL_INC) $< -o $@ $(LIB) $(LDLIBS) -lxdp -lpcap

$(BUILD)/xlb-bench: bench/bench.c $(LIB) $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LIB_INC) $< -o $@ $(LIB) $(LDLIBS) -lcrypto -lm

# Unit tests may reach into the daemon's parts (the state model, conf).
$(BUILD)/test_%: tests/unit/test_%.c $(XLBD_LIB) $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(XLBD_INC) $< -o $@ $(XLBD_LIB) $(LIB) $(LDLIBS) $(XLBD_LIBS) -lcmocka

# The sanitizer tree: the same rules, BUILD=build-san, SAN_FLAGS set.
san:
	$(Q)$(MAKE) --no-print-directory SAN=1 BUILD=build-san all

$(BUILD)/fuzz/obj/lib $(BUILD)/fuzz/obj/xlbd:
	$(Q)mkdir -p $@

$(BUILD)/fuzz/obj/lib/%.o: user/lib/%.c $(wildcard user/lib/*.h include/xlb/*.h) $(SKELS) | $(BUILD)/fuzz/obj/lib
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) $(LIB_INC) -c $< -o $@

$(BUILD)/fuzz/obj/xlbd/%.o: user/xlbd/%.c $(wildcard user/lib/*.h user/xlbd/*.h include/xlb/*.h) | $(BUILD)/fuzz/obj/xlbd
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) $(XLBD_INC) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $(XLBD_INC) $< -o $@ \
		$(FUZZ_LIB) $(LDLIBS) $(XLBD_LIBS)

fuzz-build: $(FUZZ_BINS)

# scripts/test.sh runs the same, so keep the two in step.
test: all
	$(Q)bash tests/run.sh

fuzz: fuzz-build difffuzz
	$(Q)for f in $(FUZZ_BINS); do \
		bash tests/fuzz/run.sh "$$f" $(FUZZ_TIME) $(BUILD)/fuzz/corpus || exit 1; \
	done

# The differential fuzzer's long run (tests/diff/difftest.c), ~15k frames/s.
DIFF_FRAMES ?= 10000000
difffuzz: $(BUILD)/xlb-difftest
	$(Q)$(BUILD)/xlb-difftest --frames $(DIFF_FRAMES) $(if $(DIFF_SEED),--seed $(DIFF_SEED))

bench: all
	$(Q)$(BUILD)/xlb-bench
	$(Q)$(BUILD)/xlb-bench flood --packets 10000000
	$(Q)$(BUILD)/xlb-bench sync
	$(Q)bash bench/live.sh
	$(Q)CHECK=syn bash bench/health_scale.sh
	$(Q)CHECK=tcp bash bench/health_scale.sh

demo: all
	$(Q)bash scripts/demo.sh

# The seed's experiment: every algorithm against a slow and a dead server
# (scripts/experiment.sh); rewrites docs/experiment.md and its plots.
experiment:
	$(Q)bash scripts/install-deps.sh experiment
	$(Q)$(MAKE) all
	$(Q)bash scripts/experiment.sh

# ---- installing ----
# Both tools in sbin: each needs root (xlbctl talks to a root-only socket
# or reads pinned maps) and their pages are in section 8. The unit names
# /usr/sbin: another PREFIX is written into the installed copy. systemd
# reads units under /usr/local too, but a /usr install goes where Debian
# 12 keeps them. The example config is never overwritten: an admin may
# have started from it in place.
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
BPFDIR     ?= $(PREFIX)/lib/xlb
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib,$(PREFIX)/lib)/systemd/system
# The programs the binaries carry as skeletons, for bpftool and ip(8);
# the bench and lab helpers stay in the tree.
INSTALL_BPF := $(BUILD)/xlb.bpf.o $(BUILD)/xlb_decap.bpf.o
INSTALLED  := $(SBINDIR)/xlbd $(SBINDIR)/xlbctl \
	      $(patsubst $(BUILD)/%,$(BPFDIR)/%,$(INSTALL_BPF)) \
	      $(MANDIR)/man5/xlb.conf.5 $(MANDIR)/man8/xlbd.8 \
	      $(MANDIR)/man8/xlbctl.8 $(UNITDIR)/xlbd@.service

# What a package needs, without tests, sanitizers or fuzzers.
progs: $(INSTALL_BPF) $(BUILD)/xlbd $(BUILD)/xlbctl

install: progs
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BPFDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/xlb
	$(Q)install -m 0755 $(BUILD)/xlbd $(BUILD)/xlbctl $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0644 $(INSTALL_BPF) $(DESTDIR)$(BPFDIR)/
	$(Q)install -m 0644 man/xlb.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(Q)install -m 0644 man/xlbd.8 man/xlbctl.8 $(DESTDIR)$(MANDIR)/man8/
	$(Q)sed 's|/usr/sbin/|$(SBINDIR)/|g' dist/xlbd@.service > \
		$(DESTDIR)$(UNITDIR)/xlbd@.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/xlbd@.service
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/xlb/example.yaml ] || \
		install -m 0644 dist/example.yaml $(DESTDIR)$(SYSCONFDIR)/xlb/

# The example goes only when unchanged; /etc/xlb only when empty.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(BPFDIR) 2>/dev/null || true
	$(Q)! cmp -s dist/example.yaml $(DESTDIR)$(SYSCONFDIR)/xlb/example.yaml || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/xlb/example.yaml
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/xlb 2>/dev/null || true

# The package is built from a copy of the tree in $(DEB_DIR), where
# dpkg-buildpackage also writes its results (it writes beside the tree),
# so the tree stays clean. The changelog, which carries the version, is
# written from VERSION. The .deb lands in $(BUILD)/. The copy builds
# with its own defaults: nothing of this make's command line (a BUILD
# there would have its `make clean` remove this very directory).
DEB_DIR := $(BUILD)/deb
DEB_SRC := $(DEB_DIR)/xlb-$(XLB_VERSION)
deb:
	$(call msg,DEB,$(BUILD)/xlb_$(XLB_VERSION)_*.deb)
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	$(Q)tar -cf - --exclude=./.git --exclude=./build --exclude=./build-san \
		--exclude=./$(BUILD) . | tar -xf - -C $(DEB_SRC)
	$(Q)printf '%s\n' "xlb ($(XLB_VERSION)) unstable; urgency=medium" "" \
		"  * Built from the source tree by make deb." "" \
		" -- xlb <root@localhost>  $$(date -R)" > $(DEB_SRC)/debian/changelog
	$(Q)cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD \
		dpkg-buildpackage -us -uc -b -jauto > ../build.log 2>&1 || \
		{ tail -30 ../build.log; exit 1; }
	$(Q)cp $(DEB_DIR)/xlb_$(XLB_VERSION)_*.deb $(BUILD)/

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD) build-san
