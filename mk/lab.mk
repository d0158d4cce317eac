# Lab: demo client/server and the netem loss/reorder injector (tc eBPF program + loader/delayer).
LAB_O        := $(O)/lab
LAB_DEMO_DEP := lab/demo_common.c lab/demo_common.h lab/demo_bulk.c lab/demo_bulk.h
LAB_BINS     := $(LAB_O)/demo_server $(LAB_O)/demo_client $(LAB_O)/tcpmig-netem
BPF_CFLAGS   := -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-value \
		-I/usr/include/$(shell uname -m)-linux-gnu -I$(LAB_O)
LIBBPF_LIBS  := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)

EXTRA_ALL += $(LAB_BINS)

.PHONY: lab
lab: $(LAB_BINS)

$(LAB_O)/demo_server $(LAB_O)/demo_client: $(LAB_O)/%: lab/%.c $(LAB_DEMO_DEP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -o $@ $< lab/demo_common.c $(if $(filter %demo_client,$@),lab/demo_bulk.c) \
		$(LDFLAGS) -lsodium

# BPF object -> skeleton header -> loader.  The BPF object is built with clang whatever CC is.
$(LAB_O)/netem.bpf.o: lab/netem.bpf.c lab/netem.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  BPF     $@";)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(LAB_O)/netem.skel.h: $(LAB_O)/netem.bpf.o
	@$(if $(Q),echo "  GENSKEL $@";)
	$(Q)bpftool gen skeleton $< name netem > $@.tmp && mv $@.tmp $@

NETEM_SRCS   := lab/netem.c lab/netem_delay.c lab/netem_selftest.c
$(LAB_O)/tcpmig-netem: $(NETEM_SRCS) lab/netem.h lab/netem_delay.h $(LAB_O)/netem.skel.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -Ilab -I$(LAB_O) -o $@ $(NETEM_SRCS) $(LDFLAGS) $(LIBBPF_LIBS) -lm
