# tcpmigd: the gateway daemon (daemon/*.c), linked with libtcpmig.
DAEMON_SRCS := $(wildcard daemon/*.c)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(O)/%.o)
DAEMON      := $(O)/tcpmigd
EXTRA_ALL   += $(DAEMON)

$(O)/daemon/%.o: CFLAGS += -Icommon
$(O)/daemon/%.o: daemon/%.c daemon/tcpmigd.h common/ctlproto.h $(HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(DAEMON): $(DAEMON_OBJS) $(LIB)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIB) -lnetfilter_queue -lmnl $(LDLIBS_LIB)

# make bench: the analyzer throughput program (bench/rules_bench.c).
$(O)/bench/rules_bench: bench/rules_bench.c $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS_LIB)
