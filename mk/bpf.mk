# eBPF fast path: bpf/*.bpf.c -> $(O)/bpf/*.bpf.o -> $(O)/bpf/*.skel.h (bpftool), and its
# BPF_PROG_TEST_RUN tests (tests/bpf/test_*.c -> $(O)/tests/test_bpf_*, run by tests/run.sh).
FAST_O        := $(O)/bpf
FAST_HDRS     := bpf/fast.h $(wildcard bpf/lib/*.h) include/tcpmig/types.h include/tcpmig/csum.h \
		 include/tcpmig/tcpopt.h include/tcpmig/xlate.h
# -mcpu=v3: 32-bit jumps and atomics (compare-and-swap for the per-flow state), Linux >= 5.12.
FAST_BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -Wall $(if $(filter true,$(CI)),-Werror) \
		 -Iinclude -Ibpf -I/usr/include/$(shell uname -m)-linux-gnu
FAST_LIBBPF   := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
FAST_OBJ      := $(FAST_O)/tcpmig_fast.bpf.o
FAST_SKEL     := $(FAST_O)/tcpmig_fast.skel.h
FAST_TEST_BINS := $(patsubst tests/bpf/test_%.c,$(O)/tests/test_bpf_%,\
		  $(wildcard tests/bpf/test_*.c))

EXTRA_ALL += $(FAST_OBJ) $(FAST_SKEL)

.PHONY: bpf
bpf: $(FAST_OBJ) $(FAST_SKEL)
tests: $(FAST_TEST_BINS)

$(FAST_O)/%.bpf.o: bpf/%.bpf.c $(FAST_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  BPF     $@";)
	$(Q)$(CLANG) $(FAST_BPF_CFLAGS) -c -o $@ $<

$(FAST_O)/%.skel.h: $(FAST_O)/%.bpf.o
	@$(if $(Q),echo "  GENSKEL $@";)
	$(Q)bpftool gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

$(FAST_TEST_BINS): $(O)/tests/test_bpf_%: tests/bpf/test_%.c $(wildcard tests/bpf/*.h) $(FAST_SKEL) \
		   $(FAST_HDRS) $(wildcard tests/unit/*.h) $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -Ibpf -I$(FAST_O) -Itests/unit -o $@ $< $(LIB) $(LDFLAGS) $(FAST_LIBBPF) \
		$(LDLIBS_LIB) -pthread
