# SPDX-License-Identifier: GPL-2.0-only
#
# stsguard: the one entry point. `make help` lists the targets.
#
# Outputs go to build/ (build/san/ with SAN=1). Quiet by default; V=1 prints full commands.

.DELETE_ON_ERROR:
# The binary rules below are generated before `all` is defined; keep `all` the default goal.
.DEFAULT_GOAL := all
.SUFFIXES:
SHELL := /bin/bash

ARCH ?= x86
PREFIX ?= /usr/local
DESTDIR ?=
# make install: systemd units (SYSTEMD=0: none), OpenRC scripts in /etc/init.d only with
# OPENRC=1 (on a systemd machine, systemd-sysv-generator would otherwise read them). Units go
# where systemd looks for the packages of that prefix: /lib/systemd/system for /usr (Debian's
# path), PREFIX/lib/systemd/system otherwise (/usr/local/lib/systemd/system is searched too).
SYSTEMD ?= 1
OPENRC ?= 0
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# ARCH=arm64 (the phones'): cross-built on this machine by Debian's aarch64 toolchain, linked
# with the :arm64 libraries `make deps ARCH=arm64` installs, into build/arm64.
ifeq ($(ARCH),arm64)
CROSS_COMPILE ?= aarch64-linux-gnu-
OUT ?= build/arm64$(if $(filter 1,$(SAN)),/san)
endif
CC := $(CROSS_COMPILE)gcc
CLANG ?= clang
BPFTOOL ?= bpftool
AR ?= ar

ifeq ($(SAN),1)
OUT ?= build/san
else
OUT ?= build
endif

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-9s %s\n' "$(1)" "$(2)";
endif

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
override CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -fstack-protector-strong \
	-Iinclude -Ilib -I$(OUT) -I$(OUT)/bpf -I$(OUT)/tests/bpf -MMD -MP
override LDFLAGS += -Wl,--as-needed
ifeq ($(SAN),1)
override CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=address,undefined
endif
# Every library a binary may use; --as-needed keeps only those it really calls.
LDLIBS := -lseccomp -lcap-ng -laudit -lbpf -lelf -lz -levent_openssl -levent -lssl -lcrypto -lsqlite3 -ljansson -luring -lpthread
# The collector's PostgreSQL backend: libpq (libpq-dev puts its headers there).
override CFLAGS += -I/usr/include/postgresql
LDLIBS += -lpq

ifeq ($(ARCH),arm64)
# libevent-dev and libpq-dev are not Multi-Arch: same in Debian 12, so their :arm64 copies cannot
# sit beside the native ones; their headers are the same bytes on both (LP64 both), and the
# :arm64 runtime libraries are co-installable: the linker finds them through links of our own.
EVENT_LINK := $(OUT)/lib-link
override LDFLAGS += -L$(EVENT_LINK)
$(EVENT_LINK)/.stamp:
	$(Q)mkdir -p $(@D)
	$(Q)for l in event event_openssl; do \
		ln -sf /usr/lib/aarch64-linux-gnu/lib$$l-2.1.so.7 $(@D)/lib$$l.so || exit 1; done
	$(Q)ln -sf /usr/lib/aarch64-linux-gnu/libpq.so.5 $(@D)/libpq.so
	$(Q)touch $@
endif

# BPF_PROG() hides an unused ctx argument, hence -Wno-unused-parameter. __TARGET_ARCH_x86 or
# __TARGET_ARCH_arm64 tells libbpf's PT_REGS_* macros which pt_regs layout the uprobes and the
# raw syscall hook read, and observe.bpf.c which system call numbers to watch; the rest of the
# BPF code is the same on both (CO-RE against vmlinux/$(ARCH)/vmlinux.h).
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Iinclude -Ibpf $(WARN) -Wno-unused-parameter

# ---- sources: each directory is picked up by wildcard, no list to keep by hand ----
BPF_SRCS := $(wildcard bpf/*.bpf.c) $(wildcard tests/bpf/*.bpf.c) $(wildcard bench/bpf/*.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst %.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

LIB_SRCS := $(wildcard lib/*/*.c)
LIB_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(LIB_SRCS))
LIBSTS := $(OUT)/libsts.a

# name := directory of its sources
BINS_DIRS := stsd:stsd sts-agent:agent stsctl:ctl sts-collector:collector
BINS :=
define bin_rule
$(eval name := $(word 1,$(subst :, ,$(1))))
$(eval dir := $(word 2,$(subst :, ,$(1))))
ifneq ($(wildcard $(dir)/*.c),)
BINS += $(OUT)/$(name)
$(OUT)/$(name): $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard $(dir)/*.c)) $(LIBSTS)
	$$(call msg,LINK,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endif
endef
$(foreach b,$(BINS_DIRS),$(eval $(call bin_rule,$(b))))

# Test suites: tests/<suite>/*.c, each suite one binary build/tests/test_<suite>.
TEST_SUITES := unit progs
TEST_BINS := $(foreach s,$(TEST_SUITES),$(OUT)/tests/test_$(s))
TEST_HELPER_SRCS := $(filter-out tests/test_main.c,$(wildcard tests/*.c))
TEST_HELPER_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(TEST_HELPER_SRCS))
# Stand-alone programs the tests run (rogue agents, helpers): tests/bin/*.c, one each.
TEST_PROG_SRCS := $(wildcard tests/bin/*.c)
TEST_PROGS := $(patsubst tests/bin/%.c,$(OUT)/tests/bin/%,$(TEST_PROG_SRCS)) $(OUT)/tests/bin/tls-client-static
# Adversaries run under stsd by tests/progs/adversary.c (the legacy STS emulator): built the same way.
ADV_PROG_SRCS := $(wildcard tests/adversary/*.c)
TEST_PROGS += $(patsubst tests/adversary/%.c,$(OUT)/tests/adversary/%,$(ADV_PROG_SRCS))

USER_OBJS := $(LIB_OBJS) $(TEST_HELPER_OBJS) \
	$(foreach b,$(BINS_DIRS),$(patsubst %.c,$(OUT)/obj/%.o,$(wildcard $(word 2,$(subst :, ,$(b)))/*.c))) \
	$(foreach s,$(TEST_SUITES),$(patsubst %.c,$(OUT)/obj/%.o,$(wildcard tests/$(s)/*.c)))

# libFuzzer harnesses: fuzz/<name>.c, each linked with the lib/ sources built once by clang with
# the fuzzer and sanitizer instrumentation (so lib/ itself is what gets explored).
FUZZ_SRCS := $(wildcard fuzz/*.c)
FUZZ_BINS := $(patsubst fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 $(FUZZ_SAN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Ilib -I$(OUT) -Icollector \
	-Ictl -Istsd $(WARN)
FUZZ_LIB_OBJS := $(patsubst %.c,$(OUT)/fuzz/obj/%.o,$(LIB_SRCS))
FUZZ_LIB := $(OUT)/fuzz/libsts-fuzz.a

# The version --version prints: `git describe` of a tagged checkout; otherwise the VERSION file
# and, in a git checkout, the commit (0.1.0-g5bd9566, -dirty with local changes).
STS_VERSION := $(shell git describe --tags --dirty 2>/dev/null || \
	{ v=$$(cat VERSION); g=$$(git describe --always --dirty 2>/dev/null) && v=$$v-g$$g; echo $$v; })

# Building only checks for the Debian packages (DEPS_STAMP); `make deps` installs them, and so do
# the top-level jobs that a newcomer runs first: `make demo`, `make check`, `make bench`.
DEPS_STAMP := build/.deps-checked$(if $(filter arm64,$(ARCH)),-arm64)
DEPS_INSTALLED := build/.deps-ok$(if $(filter arm64,$(ARCH)),-arm64)
DEPS_INSTALL_GOALS := deps demo check bench
DEPS_CHECK_FLAG := $(if $(filter $(DEPS_INSTALL_GOALS),$(MAKECMDGOALS)),,--check)
BENCH_DEPS_STAMP := build/.bench-deps-ok

# Man pages: man/NAME.SECTION.scd, written in scdoc, become build/man/NAME.SECTION.
MAN_SRCS := $(wildcard man/*.scd)
MAN_PAGES := $(patsubst man/%.scd,$(OUT)/man/%,$(MAN_SRCS))

# Benchmarks: bench/*.c, one program each (build/bench/NAME), run by scripts/bench.sh.
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(OUT)/bench/%,$(BENCH_SRCS))

.PHONY: FORCE all deps check vmtest demo vmlinux install clean distclean help fuzz fuzz-build bench format \
	adversary-table
all: $(BPF_OBJS) $(SKELS) $(BINS) $(TEST_BINS) $(TEST_PROGS) $(MAN_PAGES)

help:
	@sed -n 's/^## \{0,1\}//p' $(MAKEFILE_LIST)

## make            build BPF objects, skeletons, binaries and tests into build/
## make deps       install the Debian packages the project needs (only those missing); a plain
##                 `make` only checks for them and names what is missing
##                 (make demo, make check and make bench install them first)
## make check      all tests: unit, host lane, VM lane (boots Debian's 6.1 kernel in qemu), the
##                 arm64 VM lane (cross build, Debian's arm64 kernel), power cuts
## ARCH=arm64      cross-build for arm64 into build/arm64 (make deps ARCH=arm64 first); with
##                 vmlinux, demo and vmtest: the arm64 kernel and VM
## make vmtest     the VM lanes alone (test_progs in the VM, power cuts); ARCH=arm64: every
##                 test of test_progs in the arm64 VM (make check runs a part of them there)
## make demo       the main job: boot the VM and show the kernel enforcing a policy
## make bench      run every benchmark (several minutes) and rewrite BENCHMARKS.md
## make adversary-table  rerun the adversary catalogue in its three profiles (host, VM with
##                 BPF LSM, VM without it) and rewrite the generated table in docs/adversary.md
## make fuzz       build and run every libFuzzer harness, FUZZ_SECONDS (60) each
## make vmlinux    regenerate vmlinux/$(ARCH)/vmlinux.h from the VM kernel's BTF
## make install    install binaries under $(DESTDIR)$(PREFIX), the systemd units (dist/systemd;
##                 SYSTEMDUNITDIR, SYSTEMD=0: none); OPENRC=1 adds the OpenRC scripts (dist/openrc)
## make clean      remove build outputs (keeps the downloaded kernel cache)
## make distclean  remove build/ entirely
## V=1             print full command lines;  SAN=1  ASan+UBSan build in build/san/

deps: $(DEPS_INSTALLED)
$(DEPS_INSTALLED): scripts/deps.sh
	$(Q)ARCH=$(ARCH) scripts/deps.sh
	$(Q)mkdir -p $(@D) && touch $@

$(DEPS_STAMP): scripts/deps.sh
	$(Q)ARCH=$(ARCH) scripts/deps.sh $(DEPS_CHECK_FLAG)
	$(Q)mkdir -p $(@D) && touch $@

$(BENCH_DEPS_STAMP): scripts/deps.sh | $(DEPS_INSTALLED)
	$(Q)scripts/deps.sh --bench
	$(Q)mkdir -p $(@D) && touch $@

# ---- BPF ----
$(OUT)/%.bpf.o: %.bpf.c $(wildcard include/stsguard/*.h bpf/*.bpf.h) vmlinux/$(ARCH)/vmlinux.h | $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$(notdir $*))_bpf > $@

# ---- userspace ----
# Rewritten only when the version changed, so that a commit rebuilds cli.o and nothing else.
$(OUT)/version.h: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)printf '#define STS_VERSION "%s"\n' '$(STS_VERSION)' > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(OUT)/obj/lib/core/cli.o: $(OUT)/version.h
FORCE:

# Every user object may include a skeleton: they are all generated first.
$(USER_OBJS): | $(SKELS)

$(OUT)/obj/%.o: %.c | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIBSTS): $(LIB_OBJS) | $(if $(EVENT_LINK),$(EVENT_LINK)/.stamp)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# ---- man pages ----
# The page's date is its source's last commit, so that a rebuild gives the same bytes. scdoc
# writes option names with plain '-', where groff may break a line or hyphenate: .nh and
# .cflags after .TH keep "--seal-key" and paths whole on screen and for grep.
$(OUT)/man/%: man/%.scd | $(DEPS_STAMP)
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)set -o pipefail; d=$$(git log -1 --format=%ct -- $< 2>/dev/null); \
	SOURCE_DATE_EPOCH=$${d:-$$(date +%s)} scdoc < $< | sed '/^\.TH /a .nh\n.cflags 0 -' > $@

# ---- tests ----
define suite_rule
# The folder too: deleting a test file changes it, and the list must forget that test.
$(OUT)/tests/$(1)/tests.inc: $(wildcard tests/$(1)/*.c) tests/$(1)
	$$(call msg,GEN,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)grep -ho '^void test_[a-z0-9_]*(void)' $$(filter %.c,$$^) | sed 's/^void test_\(.*\)(void)$$$$/DEFINE_TEST(\1)/' | sort > $$@

$(OUT)/tests/$(1)/test_main.o: tests/test_main.c $(OUT)/tests/$(1)/tests.inc | $(DEPS_STAMP)
	$$(call msg,CC,$$@)
	$$(Q)$$(CC) $$(CFLAGS) -Itests -I$(OUT)/tests/$(1) -c $$< -o $$@

$(OUT)/tests/test_$(1): $(OUT)/tests/$(1)/test_main.o $(patsubst %.c,$(OUT)/obj/%.o,$(wildcard tests/$(1)/*.c)) $(TEST_HELPER_OBJS) $(LIBSTS)
	$$(call msg,LINK,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(TEST_SUITES),$(eval $(call suite_rule,$(s))))
$(foreach s,$(TEST_SUITES),$(patsubst %.c,$(OUT)/obj/%.o,$(wildcard tests/$(s)/*.c))): CFLAGS += -Itests

# Test programs may use the cgroup helpers, not the harness (they are not test binaries).
define test_prog_rule
$(OUT)/tests/$(1)/%: tests/$(1)/%.c $(OUT)/obj/tests/cgroup_helpers.o $(LIBSTS) | $(DEPS_STAMP) $(SKELS)
	$$(call msg,CC,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(CFLAGS) -Itests $$(LDFLAGS) -o $$@ $$< $(OUT)/obj/tests/cgroup_helpers.o $(LIBSTS) $$(LDLIBS)
endef
$(foreach d,bin adversary,$(eval $(call test_prog_rule,$(d))))

$(OUT)/fuzz/obj/%.o: %.c $(OUT)/version.h | $(DEPS_STAMP)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUT)/fuzz/%: fuzz/%.c $(wildcard fuzz/*.h) $(FUZZ_LIB) | $(DEPS_STAMP)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	$(Q)OUT=$(OUT) scripts/fuzz.sh

# The same TLS client with OpenSSL linked in statically: a TLS stack no uprobe can see (G5 test).
# Built from source without sanitizers: there is no static sanitizer runtime to link.
STATIC_CLIENT_SRCS := tests/bin/tls-client.c $(addprefix lib/,core/crypto.c core/util.c wire/jws.c wire/report.c wire/request_build.c)
$(OUT)/tests/bin/tls-client-static: $(STATIC_CLIENT_SRCS) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(filter-out -fsanitize=% -fno-sanitize-recover=% -MMD -MP,$(CFLAGS)) -static \
		-Wl,--no-warnings -o $@ $(STATIC_CLIENT_SRCS) -ljansson -lssl -lcrypto -lpthread

$(OUT)/bench/%: bench/%.c $(LIBSTS) | $(DEPS_STAMP) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ibench $(LDFLAGS) -o $@ $< $(LIBSTS) $(LDLIBS)

bench: all $(BENCH_BINS) $(if $(filter x86,$(ARCH)),arm64-cross) | $(BENCH_DEPS_STAMP)
	$(Q)OUT=$(OUT) scripts/bench.sh

# The host lane writes its column straight into docs/adversary.md; the VM lane (which sees that
# file) prints the whole table between the markers on its console, copied back here.
ADV_CONSOLE := build/vm/adversary-table/console.log
adversary-table: all
	$(Q)if [ "$$(id -u)" -eq 0 ]; then STS_ADVERSARY_UPDATE=1 $(OUT)/tests/test_progs -t adversary_catalogue; fi
	$(Q)rc=0; for lsm in bpf nobpf; do \
	tests/vm/run -q --name adversary-table --lsm $$lsm -- \
		env STS_ADVERSARY_UPDATE=1 $(OUT)/tests/test_progs --no-skip -t adversary_catalogue || rc=$$?; \
	tr -d '\r' < $(ADV_CONSOLE) | sed -n '/^<!-- BEGIN GENERATED/,/^<!-- END GENERATED/p' > $(OUT)/adversary-table.md; \
	if [ -s $(OUT)/adversary-table.md ]; then \
		awk -v new=$(OUT)/adversary-table.md 'BEGIN { while ((getline l < new) > 0) t = t l "\n" } \
			/^<!-- BEGIN GENERATED/ { printf "%s", t; skip = 1 } !skip { print } \
			/^<!-- END GENERATED/ { skip = 0 }' docs/adversary.md > docs/adversary.md.tmp && \
		mv docs/adversary.md.tmp docs/adversary.md && echo "docs/adversary.md rewritten ($$lsm)"; \
	else echo "docs/adversary.md already matches ($$lsm)"; fi; done; exit $$rc

# make check and make bench also run the arm64 VM lane: the cross build (and its packages) first.
.PHONY: arm64-cross
arm64-cross:
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 deps all build/arm64/bench/syscall-loop \
		build/arm64/bench/bpf-stats

check: all fuzz-build $(if $(filter x86,$(ARCH)),arm64-cross)
	$(Q)OUT=$(OUT) tests/check.sh

vmtest: all
	$(Q)OUT=$(OUT) $(if $(filter arm64,$(ARCH)),ARM64_OUT=$(OUT) tests/check.sh --arm64,tests/check.sh --vm-only)

demo: all
	$(Q)OUT=$(OUT) ARCH=$(ARCH) scripts/demo.sh

vmlinux: | $(DEPS_STAMP)
	$(Q)ARCH=$(ARCH) scripts/gen-vmlinux.sh

# The agent is not for people to run: it goes where the policy's allow-exec names it. The
# examples in /etc are the build's architecture's policy (x86: example-x86_64.conf, else the
# arm64 default.conf) and stsd.conf, with the agent's path set to where this install puts it
# (stsd.conf's agent line then uncommented: the path may differ from the built-in default);
# an existing /etc file is never overwritten (it may be the operator's edited copy). All the
# examples, unchanged, go to the documentation directory.
install: all
	$(Q)for b in $(filter-out %/sts-agent,$(BINS)); do \
		install -D -m 0755 $$b $(DESTDIR)$(PREFIX)/bin/$$(basename $$b) || exit 1; done
	$(Q)install -D -m 0755 $(OUT)/sts-agent $(DESTDIR)$(PREFIX)/libexec/stsguard/sts-agent
	$(Q)install -d $(DESTDIR)$(PREFIX)/share/doc/stsguard/examples $(DESTDIR)/etc/stsguard $(OUT)/etc
	$(Q)install -m 0644 policy/default.conf policy/example-x86_64.conf policy/example-arm64.conf \
		policy/stsd.conf.example $(DESTDIR)$(PREFIX)/share/doc/stsguard/examples/
	$(Q)for f in policy.conf.example:$(if $(filter x86,$(ARCH)),policy/example-x86_64.conf,policy/default.conf) \
		stsd.conf.example:policy/stsd.conf.example; do \
		dst=$(DESTDIR)/etc/stsguard/$${f%%:*}; \
		if [ -e $$dst ]; then echo "kept $$dst: it exists, not overwritten"; continue; fi; \
		sed -e 's|^#agent /usr/libexec/|agent /usr/libexec/|' \
			-e 's|/usr/libexec/stsguard/sts-agent|$(PREFIX)/libexec/stsguard/sts-agent|' \
			$${f#*:} > $(OUT)/etc/$${f%%:*} && \
		install -m 0644 $(OUT)/etc/$${f%%:*} $$dst || exit 1; \
		echo "installed $$dst (from $${f#*:})"; done
	$(Q)if [ "$(SYSTEMD)" = 1 ]; then \
		install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) && \
		for u in stsd sts-collector; do \
			sed 's|@BINDIR@|$(PREFIX)/bin|g' dist/systemd/$$u.service \
				> $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.service || exit 1; done && \
		install -m 0644 dist/systemd/stsguard.sysusers $(DESTDIR)$(SYSUSERSDIR)/stsguard.conf && \
		echo "installed: stsd.service, sts-collector.service into $(DESTDIR)$(SYSTEMDUNITDIR)," \
			"the agent's user as $(DESTDIR)$(SYSUSERSDIR)/stsguard.conf"; fi
	$(Q)if [ "$(OPENRC)" = 1 ]; then \
		install -d $(DESTDIR)/etc/init.d $(DESTDIR)/etc/conf.d && \
		for s in stsd sts-collector; do \
			sed 's|@BINDIR@|$(PREFIX)/bin|g' dist/openrc/$$s > $(DESTDIR)/etc/init.d/$$s && \
			chmod 0755 $(DESTDIR)/etc/init.d/$$s || exit 1; done && \
		install -m 0644 dist/openrc/sts-collector.confd $(DESTDIR)/etc/conf.d/sts-collector && \
		echo "installed: OpenRC scripts stsd, sts-collector into $(DESTDIR)/etc/init.d"; fi
	$(Q)echo "installed: $(notdir $(filter-out %/sts-agent,$(BINS))) into $(DESTDIR)$(PREFIX)/bin," \
		"sts-agent into $(DESTDIR)$(PREFIX)/libexec/stsguard, the example policies and" \
		"stsd.conf into $(DESTDIR)$(PREFIX)/share/doc/stsguard/examples; check a policy with" \
		"'stsd policy check FILE'"
	$(Q)for m in $(MAN_PAGES); do \
		install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/$$(basename $$m) || exit 1; done
	$(Q)install -D -m 0644 completion/stsguard.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/stsd
	$(Q)ln -sf stsd $(DESTDIR)$(PREFIX)/share/bash-completion/completions/stsctl
	$(Q)ln -sf stsd $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sts-collector
	$(Q)echo "installed: the man pages into $(DESTDIR)$(PREFIX)/share/man, bash completion for" \
		"stsd, stsctl and sts-collector into $(DESTDIR)$(PREFIX)/share/bash-completion/completions"

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^vmlinux/')

clean:
	$(call msg,CLEAN,build)
	$(Q)find build -mindepth 1 -maxdepth 1 ! -name cache ! -name .deps-ok -exec rm -rf {} + 2>/dev/null || true

distclean:
	$(Q)rm -rf build

-include $(USER_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d) $(OUT)/tests/*/test_main.d
