# xlb - XDP layer-4 load balancer. `make help` lists the targets.
# Quiet by default; V=1 shows the commands.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Iinclude -Iuser -I$(BUILD)
LDLIBS   := -lbpf -lelf -lz -lyaml -ljson-c
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -Wno-unused-function \
	      -Iinclude -Ibpf -I$(ARCH_INC)

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

LIB_SRCS := user/lib.c user/maglev.c user/addr.c user/conf.c user/view.c \
	    user/timeheap.c
LIB_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB      := $(BUILD)/libxlb.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/%,$(UNIT_SRCS))

XLBD_SRCS := user/xlbd.c user/xlbd_ctl.c user/xlbd_metrics.c user/xlbd_health.c \
	     user/synprobe.c
TOOLS    := $(BUILD)/xlb-pktest $(BUILD)/xlb-bench $(BUILD)/xlbd \
	    $(patsubst user/%.c,$(BUILD)/%,$(wildcard user/xlbctl.c))

.PHONY: all test bench demo clean help deps
.DELETE_ON_ERROR:

all: $(BPF_OBJS) $(SKELS) $(LIB) $(TOOLS) $(UNIT_BINS)

help:
	@echo "make            build BPF objects (build/*.bpf.o), libxlb, tools, tests"
	@echo "make test       run every test; ends with 'N passed, N failed'"
	@echo "make bench      ns/packet and live Mpps against floors measured in the same run"
	@echo "make demo       a packet demo: packets in, what xlb makes of them out"
	@echo "make deps       install the Debian packages needed (root)"
	@echo "make clean      remove build/"
	@echo "V=1             show commands"

deps:
	bash scripts/install-deps.sh

$(BUILD) $(BUILD)/obj:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@

$(BUILD)/obj/%.o: user/%.c $(wildcard user/*.h include/xlb/*.h) $(SKELS) | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/xlb-pktest: tests/pkt/pktest.c $(LIB) $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS)

$(BUILD)/xlbd: $(XLBD_SRCS) $(LIB) $(SKELS) $(wildcard user/*.h)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(XLBD_SRCS) -o $@ $(LIB) $(LDLIBS) -lmicrohttpd -lcurl -lpthread -lm

$(BUILD)/xlbctl: user/xlbctl.c $(LIB) $(SKELS) $(wildcard user/*.h)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS) -lxdp

$(BUILD)/xlb-bench: bench/bench.c $(LIB) $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS)

$(BUILD)/test_%: tests/unit/test_%.c $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LIB) $(LDLIBS) -lcmocka

test: all
	$(Q)bash tests/run.sh

bench: all
	$(Q)$(BUILD)/xlb-bench
	$(Q)bash bench/live.sh
	$(Q)CHECK=syn bash bench/health_scale.sh
	$(Q)CHECK=tcp bash bench/health_scale.sh

demo: all
	$(Q)bash scripts/demo.sh

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)
