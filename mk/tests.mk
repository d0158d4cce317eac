# Unit/property tests (TAP, one binary per file in tests/unit) and libFuzzer targets (clang).
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

.PHONY: tests fuzzers
tests: $(UNIT_BINS)
fuzzers: $(FUZZ_BINS)

$(O)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS_LIB)

build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(HDRS) $(wildcard lib/rules/*.h)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@";)
	$(Q)$(CLANG) -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(LIB_SRCS) $(LDLIBS_LIB)
