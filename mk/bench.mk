# make bench: the C load generators of bench/run.sh (connections/s, small packets/s, mass handoff).
# Part of `all`, so the `make all` of `make bench` builds them.
BENCH_O    := $(O)/bench
BENCH_BINS := $(BENCH_O)/connrate $(BENCH_O)/pktrate $(BENCH_O)/migrate_many

EXTRA_ALL += $(BENCH_BINS)

.PHONY: bench-tools
bench-tools: $(BENCH_BINS) $(BENCH_O)/rules_bench

$(BENCH_BINS): $(BENCH_O)/%: bench/%.c bench/bench_util.c bench/bench_util.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -o $@ $< bench/bench_util.c $(LDFLAGS)
