# gureum build.
#
# Every folder src/<module>/ (but src/cmd) is one static library, build/lib/libgr_<module>.a.
# A module describes itself in src/<module>/module.mk:
#     <module>_DEPS := util            # modules it links against (transitively, in link order)
#     <module>_LIBS := -ljansson       # system libraries
# Every folder src/cmd/<binary>/ is one program, described in src/cmd/<binary>/build.mk:
#     <binary>_MODULES := runtime util # modules it links, in link order
# Unit tests: tests/unit/<module>/test_*.c, each linked with its module and that module's deps.
# Fuzzers: fuzz/<module>_<name>.c (clang libFuzzer), linked with <module> and its deps.
# Integration tests: tests/integration/**/*.sh and tests/cluster/*.sh, run as root by tests/run.sh.
# SAN=1 builds everything into build-asan/ with AddressSanitizer + UBSan.

CC       ?= cc
BUILD    ?= build
OPT      ?= -O2
CFLAGS   ?=
CFLAGS   += -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation \
            -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Isrc -MMD -MP
LDFLAGS  ?=

ifeq ($(SAN),1)
BUILD    := build-asan
OPT      := -O1
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif
ifeq ($(FUZZ),1)
CC       := clang
CFLAGS   += -Wno-unknown-warning-option
BUILD    := build-fuzz
OPT      := -O1
CFLAGS   += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -DGR_FUZZING=1
LDFLAGS  += -fsanitize=address,undefined
endif

MODULES  := $(patsubst src/%/module.mk,%,$(wildcard src/*/module.mk))
BINARIES := $(patsubst src/cmd/%/build.mk,%,$(wildcard src/cmd/*/build.mk))

-include $(wildcard src/*/module.mk)
-include $(wildcard src/cmd/*/build.mk)

# libs_of(modules): archive paths of the modules, then their system libraries
libpaths = $(foreach m,$(1),$(BUILD)/lib/libgr_$(m).a)
syslibs  = $(sort $(foreach m,$(1),$($(m)_LIBS)))

define MODULE_template
$(1)_SRCS := $$(wildcard src/$(1)/*.c)
$(1)_OBJS := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRCS))
$(BUILD)/lib/libgr_$(1).a: $$($(1)_OBJS)
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
.PHONY: module-$(1)
module-$(1): $(BUILD)/lib/libgr_$(1).a
$(1)_TESTS := $$(patsubst tests/unit/%.c,$(BUILD)/tests/%,$$(wildcard tests/unit/$(1)/test_*.c))
$(BUILD)/tests/$(1)/%: tests/unit/$(1)/%.c $(BUILD)/lib/libgr_$(1).a $$(call libpaths,$$($(1)_TEST_DEPS) $$($(1)_DEPS))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -Itests -o $$@ $$< $$(call libpaths,$(1) $$($(1)_TEST_DEPS) $$($(1)_DEPS)) $$(LDFLAGS) $$(call syslibs,$(1) $$($(1)_TEST_DEPS) $$($(1)_DEPS)) -lm -lpthread
.PHONY: tests-$(1)
tests-$(1): $$($(1)_TESTS)
ALL_TESTS += $$($(1)_TESTS)
endef

define BINARY_template
$(1)_SRCS := $$(wildcard src/cmd/$(1)/*.c)
$(1)_OBJS := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRCS))
$(BUILD)/bin/$(1): $$($(1)_OBJS) $$(call libpaths,$$($(1)_MODULES))
	@mkdir -p $$(dir $$@)
	$$(CC) -o $$@ $$($(1)_OBJS) $$(call libpaths,$$($(1)_MODULES)) $$(LDFLAGS) -Wl,--as-needed $$(call syslibs,$$($(1)_MODULES)) -lm -lpthread
.PHONY: bin-$(1)
bin-$(1): $(BUILD)/bin/$(1)
ALL_BINS += $(BUILD)/bin/$(1)
endef

$(foreach m,$(MODULES),$(eval $(call MODULE_template,$(m))))
$(foreach b,$(BINARIES),$(eval $(call BINARY_template,$(b))))

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

FUZZERS := $(patsubst fuzz/%.c,build-fuzz/fuzz/%,$(wildcard fuzz/*.c))
build-fuzz/fuzz/%: fuzz/%.c
	@mkdir -p $(dir $@)
	$(eval fm := $(firstword $(subst _, ,$*)))
	$(MAKE) --no-print-directory FUZZ=1 build-fuzz/lib/libgr_$(fm).a $(foreach d,$($(fm)_DEPS),build-fuzz/lib/libgr_$(d).a)
	clang -std=gnu11 -O1 -g -Wall -Werror -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -o $@ $< \
	  $(foreach d,$(fm) $($(fm)_DEPS),build-fuzz/lib/libgr_$(d).a) $(call syslibs,$(fm) $($(fm)_DEPS)) -lm -lpthread

# The guest agent runs inside VM guests (src/guest/): one static program, built with
# plain flags (a sanitizer runtime cannot be linked static) in every build folder, so the
# debian-vm recipe finds it beside gureumd (or through $GR_GUEST_AGENT).
GUEST_AGENT := $(BUILD)/bin/gureum-guest-agent
$(GUEST_AGENT): src/guest/gureum-guest-agent.c src/vm/agent_proto.c src/vm/agent_proto.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -static -o $@ \
	  src/guest/gureum-guest-agent.c src/vm/agent_proto.c
ALL_BINS += $(GUEST_AGENT)

.DEFAULT_GOAL := all
.PHONY: all deps run cluster test test-unit test-asan fuzz bench clean
all: $(ALL_BINS) $(ALL_TESTS)

# The web console (web/, docs/WEB.md): `npm ci` only when node_modules is missing or the
# lock changed, then esbuild into $(BUILD)/web/ (content-hashed names), which gureumd serves
# at /ui/ (found beside bin/). Nothing runs when nothing changed.
WEB_OUT  := $(BUILD)/web
WEB_SRCS := web/build.mjs web/index.html $(wildcard web/src/*)
web/node_modules/.gr-ci-stamp: web/package-lock.json web/package.json
	@command -v npm >/dev/null || { echo "make web: npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
	cd web && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	@touch $@
$(WEB_OUT)/index.html: web/node_modules/.gr-ci-stamp $(WEB_SRCS)
	node web/build.mjs $(WEB_OUT)
.PHONY: web
web: $(WEB_OUT)/index.html
all: web

deps:
	@scripts/deps.sh

# `make run`: install what is missing, build, start the main job.
run: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) all
	@scripts/run.sh

# `make cluster`: a pool of 3 hosts (network namespaces) on a private 3-member etcd, until Ctrl-C.
cluster: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) all
	@scripts/cluster.sh

# `make test`: install, build (plain and sanitized), run every test, fuzz briefly.
test: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) all
	@$(MAKE) --no-print-directory -j$(shell nproc) SAN=1 all
	@$(MAKE) --no-print-directory fuzz-build
	@tests/run.sh

test-unit: all
	@tests/run.sh --unit-only

fuzz-build: $(FUZZERS)

bench: deps
	@$(MAKE) --no-print-directory -j$(shell nproc) all
	@scripts/bench.sh

clean:
	rm -rf build build-asan build-fuzz

# install, man pages, Debian package
include mk/install.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
