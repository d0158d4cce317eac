# tcpmigd: the gateway daemon (daemon/*.c), linked with libtcpmig.
DAEMON_SRCS := $(wildcard daemon/*.c)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(O)/%.o)
DAEMON      := $(O)/tcpmigd
EXTRA_ALL   += $(DAEMON)

# The objects come from lib.mk's $(O)/%.o rule (it wins over a $(O)/daemon/%.o pattern rule, so a
# pattern rule here would silently not apply): flags and headers only.
$(DAEMON_OBJS): CFLAGS += -Icommon -Ibpf -I$(O)/bpf
$(DAEMON_OBJS): daemon/tcpmigd.h common/ctlproto.h

# fast.c includes the fast path's skeleton (mk/bpf.mk generates it).
$(O)/daemon/fast.o: daemon/fast.c bpf/fast.h $(O)/bpf/tcpmig_fast.skel.h daemon/tcpmigd.h $(HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -c -o $@ daemon/fast.c

$(DAEMON): $(DAEMON_OBJS) $(LIB)
	@$(if $(Q),echo "  LD      $@";)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIB) -lnetfilter_queue -lmnl \
		$(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) $(LDLIBS_LIB)

# make bench: the analyzer throughput program (bench/rules_bench.c).
$(O)/bench/rules_bench: bench/rules_bench.c $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS_LIB)
