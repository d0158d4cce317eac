# tcpmig build: libtcpmig, daemons, tests, fuzzers.  `make V=1` shows commands; SAN=1 builds with ASan+UBSan.
.SUFFIXES:
.DEFAULT_GOAL := all

CC      ?= cc
CLANG   ?= clang
SAN     ?= 0
O       := build$(if $(filter 1,$(SAN)),-san,)
Q       := $(if $(filter 1,$(V)),,@)

CFLAGS_BASE := -std=gnu11 -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
	       -D_GNU_SOURCE -Iinclude
ifeq ($(CI),true)
CFLAGS_BASE += -Werror
endif
ifeq ($(SAN),1)
CFLAGS_BASE += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS     += -fsanitize=address,undefined
endif
CFLAGS  ?=
CFLAGS  += $(CFLAGS_BASE)
LDLIBS_LIB := -lsodium -lhs -lpcre2-8

include mk/lib.mk
include mk/tests.mk
-include mk/daemon.mk
-include mk/lab.mk
-include mk/ctl.mk
-include mk/tools.mk
-include mk/bpf.mk
-include mk/bench.mk

all: lib tests $(EXTRA_ALL)

# --- the two commands of the README ----------------------------------------------------
.PHONY: test demo deps fuzz bench clean check-root format

check-root:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "tcpmig: '$(MAKECMDGOALS)' must run as root: it installs packages and creates network namespaces." >&2; \
		exit 1; fi

deps: check-root
	@scripts/deps.sh

test: check-root deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory SAN=1 tests build-san/tcpmigd
	$(Q)$(MAKE) --no-print-directory fuzzers
	@tests/run.sh

demo: check-root deps
	$(Q)$(MAKE) --no-print-directory all
	@lab/demo.sh

fuzz: fuzzers
	@tests/fuzz/run.sh $${FUZZ_SECONDS:-60}

bench: check-root deps
	$(Q)$(MAKE) --no-print-directory all build/bench/rules_bench
	@bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san
