# tcpmigctl (ctl/*.c -> $(O)/tcpmigctl), its unit tests (tests/ctl/test_ctl_*.c) and fuzz target.
JSONC_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
JSONC_LIBS   := $(or $(shell pkg-config --libs json-c 2>/dev/null),-ljson-c)

CTL_SRCS      := $(wildcard ctl/*.c)
CTL_OBJS      := $(CTL_SRCS:%.c=$(O)/%.o)
CTL_CORE_OBJS := $(filter-out $(O)/ctl/main.o,$(CTL_OBJS))
CTL_HDRS      := ctl/ctl.h common/ctlproto.h
CTL           := $(O)/tcpmigctl
CTL_TEST_BINS := $(patsubst tests/ctl/%.c,$(O)/tests/%,$(wildcard tests/ctl/test_ctl_*.c))
CTL_FUZZ_BINS := $(patsubst tests/ctl/%.c,build/fuzz/%,$(wildcard tests/ctl/fuzz_ctl_*.c))

EXTRA_ALL += $(CTL)

.PHONY: ctl
ctl: $(CTL)
# `make test` builds `SAN=1 tests`: this puts the sanitizer tcpmigctl next to those tests.
tests: $(CTL) $(CTL_TEST_BINS)
fuzzers: $(CTL_FUZZ_BINS)

# The objects come from lib.mk's $(O)/%.o rule; they only need more flags and headers.
$(CTL_OBJS): CFLAGS += -Icommon $(JSONC_CFLAGS)
$(CTL_OBJS): $(CTL_HDRS)

$(CTL): $(CTL_OBJS)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(JSONC_LIBS)

$(CTL_TEST_BINS): $(O)/tests/%: tests/ctl/%.c tests/unit/tap.h $(CTL_CORE_OBJS) $(CTL_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -Icommon -Ictl -Itests/unit $(JSONC_CFLAGS) -o $@ $< $(CTL_CORE_OBJS) \
		$(LDFLAGS) $(JSONC_LIBS)

$(CTL_FUZZ_BINS): build/fuzz/%: tests/ctl/%.c $(filter-out ctl/main.c,$(CTL_SRCS)) $(CTL_HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@";)
	$(Q)$(CLANG) -std=gnu11 -g -O1 -D_GNU_SOURCE -Icommon -Ictl $(JSONC_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< \
		$(filter-out ctl/main.c,$(CTL_SRCS)) $(JSONC_LIBS)
